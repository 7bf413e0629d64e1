"""The demo seed, the snapshot and the audit store, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.demo.government import DEMO_CONSUMERS
from panjereh.demo.seed import DemoSeed, seed_demo
from panjereh.domain.identifiers import LegalId
from panjereh.registry.credentials import hash_api_key
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import StorageError
from panjereh.storage.registry_repo import load_snapshot, registry_version
from panjereh.storage.tables import agencies, api_keys, grants, services, systems
from panjereh.storage.users_repo import verify_password
from tests.integration.seeded import Rows, once_per_backend

PEPPER = b"a-test-pepper-of-enough-length"
PERSON_SERVICE = "civil-registry.person.v1"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


_SEEDED: dict[str, tuple[Rows, DemoSeed]] = {}


@pytest.fixture
async def demo(engine: AsyncEngine) -> DemoSeed:
    """The whole demonstration government seeded for http://x.test (by `seed_demo` once on
    each backend, then copied: a whole seeding takes 5-10 s)."""
    return await once_per_backend(
        _SEEDED,
        engine,
        lambda: seed_demo(engine, pepper=PEPPER, public_url="http://x.test", now=NOW),
    )


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (agencies, systems, services, grants, api_keys)
        }


async def test_seeding_twice_adds_nothing_twice(engine: AsyncEngine, demo: DemoSeed) -> None:
    first = demo
    counts = await _counts(engine)
    version = await registry_version(engine)
    second = await seed_demo(engine, pepper=PEPPER, public_url="http://x.test", now=NOW)
    assert await _counts(engine) == counts
    assert await registry_version(engine) == version
    assert not second.result.changed
    assert counts["agencies"] >= 13
    assert counts["services"] >= 1200
    assert counts["api_keys"] == len(DEMO_CONSUMERS)
    assert first.credentials == second.credentials  # the same demo keys every time


async def test_the_seed_stores_only_hashes_of_keys(engine: AsyncEngine, demo: DemoSeed) -> None:
    seeded = demo
    async with engine.connect() as conn:
        stored = set((await conn.execute(select(api_keys.c.key_hash))).scalars())
    assert stored == {hash_api_key(PEPPER, c.api_key) for c in seeded.credentials}
    assert not any(c.api_key in value for c in seeded.credentials for value in stored)


async def test_the_snapshot_holds_what_the_data_plane_needs(
    engine: AsyncEngine, demo: DemoSeed
) -> None:
    seeded = demo
    snapshot = await load_snapshot(engine)
    assert snapshot.version == await registry_version(engine)
    service = snapshot.services[PERSON_SERVICE]
    assert service.endpoint_url == "http://x.test/simulator/civil-registry/person"
    assert service.agency.code == "civil-registry"
    assert service.request_schema["required"] == ["national_code"]
    for agency in snapshot.agencies.values():
        assert LegalId.parse(agency.legal_id).value == agency.legal_id
    granted = snapshot.keys_by_hash[hash_api_key(PEPPER, seeded.credentials[0].api_key)]
    grant = snapshot.grant(granted.system_id, PERSON_SERVICE)
    assert grant is not None
    assert "benefit-eligibility" in grant.purposes
    stranger = snapshot.keys_by_hash[hash_api_key(PEPPER, seeded.credentials[1].api_key)]
    assert not snapshot.has_grant(stranger.system_id, PERSON_SERVICE)


@pytest.mark.usefixtures("demo")  # seeded for http://x.test
async def test_reseeding_follows_a_new_public_url(engine: AsyncEngine) -> None:
    again = await seed_demo(engine, pepper=PEPPER, public_url="http://new.test", now=NOW)
    snapshot = await load_snapshot(engine)
    assert snapshot.services[PERSON_SERVICE].endpoint_url.startswith("http://new.test/")
    assert set(again.result.updated) == {"service"}


async def test_demo_users_can_sign_in_with_their_printed_passwords(
    engine: AsyncEngine, demo: DemoSeed
) -> None:
    seeded = demo
    async with engine.begin() as conn:
        for user in seeded.users:
            found = await verify_password(conn, user.username, user.password, NOW)
            assert found is not None
            assert found.role is user.role
        assert await verify_password(conn, "operator", "wrong password!", NOW) is None


def _record(n: int) -> AuditRecord:
    return AuditRecord(
        exchange_id=f"00000000-0000-4000-8000-{n:012d}",
        created_at=NOW,
        consumer="social-security/benefits",
        service_id=PERSON_SERVICE,
        purpose="benefit-eligibility",
        subject_hash="ab" * 32,
        outcome=Outcome.OK,
        status_code=200,
        error_type=None,
        duration_ms=1.25,
        request_hash="cd" * 32,
        response_hash="ef" * 32,
    )


async def test_the_audit_store_round_trips_records_with_aware_utc_times(
    store: SqlAuditStore,
) -> None:
    await store.append([_record(n) for n in range(50)])
    assert await store.count() == 50
    back = await store.by_exchange_id(_record(7).exchange_id)
    assert back == _record(7)
    assert back is not None
    assert back.created_at.tzinfo is not None
    assert await store.by_exchange_id("missing") is None


async def test_a_batch_with_a_duplicate_is_stored_not_at_all(store: SqlAuditStore) -> None:
    """A batch is one transaction: never half a batch in the log."""
    await store.append([_record(1)])
    with pytest.raises(StorageError, match="audit batch not stored"):
        await store.append([_record(2), _record(3), _record(1)])
    assert await store.count() == 1


async def test_sqlite_audit_checkpoints_run_beside_the_writer_not_inside_its_commits(
    tmp_path: Path,
) -> None:
    """The writer's connection never checkpoints (wal_autocheckpoint=0), so no batch waits
    for a checkpoint, however large the WAL grows; the checkpoint thread copies it into the
    database (here only at close: its interval is longer than the test)."""
    from panjereh.storage.engine import create_engine
    from panjereh.storage.migrate import upgrade

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    try:
        await upgrade(engine)
        await _checkpoints_beside_the_writer(engine)
    finally:
        await engine.dispose()


async def _checkpoints_beside_the_writer(engine: AsyncEngine) -> None:
    from panjereh.storage.audit_repo import _SqliteAppender

    assert engine.url.database is not None
    database = Path(engine.url.database)
    wal = database.with_name(database.name + "-wal")
    appender = _SqliteAppender(str(database), checkpoint_seconds=3600)
    try:
        await appender.append([_record(0)])
        size_before = database.stat().st_size
        for batch in range(1, 100):
            await appender.append([_record(batch * 100 + n) for n in range(100)])
        # SQLite's default would have checkpointed at 1,000 pages of WAL.
        assert wal.stat().st_size > 1000 * 4096
        assert database.stat().st_size == size_before
    finally:
        await appender.close()
    assert appender._checkpointer is None
    assert database.stat().st_size > size_before  # the checkpoint thread's last round
    assert await SqlAuditStore(engine).count() == 9901


async def _chain_rows(engine: AsyncEngine) -> list[Any]:
    from panjereh.storage.tables import audit_records

    async with engine.connect() as conn:
        result = await conn.execute(select(audit_records).order_by(audit_records.c.id))
        return list(result.mappings().all())


async def test_each_stored_batch_continues_the_writers_chain_without_gaps(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    """Sequence numbers 1, 2, 3, ... in one shard, each hash over the previous one and the
    record's canonical bytes; a batch that failed as a whole leaves no gap."""
    from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
    from panjereh.storage.tables import audit_shards

    await store.append([_record(n) for n in range(3)])
    with pytest.raises(StorageError):
        await store.append([_record(10), _record(1)])  # a duplicate: nothing of it is kept
    await store.append([_record(n) for n in range(3, 5)])
    rows = await _chain_rows(engine)
    assert [row["exchange_id"] for row in rows] == [_record(n).exchange_id for n in range(5)]
    shard = rows[0]["shard"]
    assert [(row["shard"], row["seq"]) for row in rows] == [(shard, n) for n in range(1, 6)]
    head = GENESIS
    for n, row in enumerate(rows):
        head = chain_hash(head, canonical_bytes(_record(n), shard, n + 1))
        assert row["record_hash"] == head.hex()
    async with engine.connect() as conn:
        shards = (await conn.execute(select(audit_shards))).mappings().all()
    assert [s["id"] for s in shards] == [shard]
    assert shards[0]["pid"] == os.getpid()


async def test_a_batch_handed_over_behind_one_that_fails_is_linked_again(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    """The writer hands the next batch over while one is being stored (two in flight): the
    next is linked after the first's end, and linked again from the committed head when the
    first fails; a third, handed over after both, follows the second."""
    import asyncio

    from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
    from panjereh.audit.writer import AuditWriter

    await store.append([_record(0)])
    failing = asyncio.create_task(store.append([_record(20), _record(0)]))  # a duplicate
    second = asyncio.create_task(store.append([_record(1), _record(2)]))
    third = asyncio.create_task(store.append([_record(3)]))
    results = await asyncio.gather(failing, second, third, return_exceptions=True)
    assert isinstance(results[0], StorageError)
    assert list(results[1:]) == [None, None]
    writer = AuditWriter(store, batch_size=2)
    writer.start()
    await asyncio.gather(*(writer.record(_record(n)) for n in range(4, 11)))
    await writer.stop()
    rows = await _chain_rows(engine)
    assert [row["exchange_id"] for row in rows] == [_record(n).exchange_id for n in range(11)]
    shard = rows[0]["shard"]
    assert [row["seq"] for row in rows] == list(range(1, 12))
    head = GENESIS
    for n, row in enumerate(rows):
        head = chain_hash(head, canonical_bytes(_record(n), shard, n + 1))
        assert row["record_hash"] == head.hex()


async def test_two_writers_keep_two_chains(engine: AsyncEngine) -> None:
    first, second = SqlAuditStore(engine), SqlAuditStore(engine)
    try:
        await first.append([_record(1)])
        await second.append([_record(2)])
        await first.append([_record(3)])
    finally:
        await first.close()
        await second.close()
    rows = await _chain_rows(engine)
    by_shard: dict[str, list[int]] = {}
    for row in rows:
        by_shard.setdefault(row["shard"], []).append(row["seq"])
    assert sorted(by_shard.values()) == [[1], [1, 2]]
