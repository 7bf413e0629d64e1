"""The chain verifier against tampering done directly in the database (SQLite and
PostgreSQL): every change is named at the record where it is."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.verify import ChainVerifier, Problem
from panjereh.storage.audit_repo import SqlAuditStore
from tests.integration.storage.tampering import tamper

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _record(n: int) -> AuditRecord:
    return AuditRecord(
        exchange_id=f"0190f3c2-2222-7000-8000-{n:012d}",
        created_at=T0 + timedelta(seconds=n),
        consumer="social-security/benefits",
        service_id="civil-registry.person.v1",
        purpose="benefit-eligibility",
        subject_hash=f"{n % 100:02d}" * 32,
        outcome=Outcome.OK,
        status_code=200,
        error_type=None,
        duration_ms=1.25 + n,
        request_hash="cd" * 32,
        response_hash="ef" * 32,
    )


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlAuditStore]:
    """Ten records in one shard, in batches of 3, 3 and 4."""
    audit = SqlAuditStore(engine)
    await audit.append([_record(n) for n in range(1, 4)])
    await audit.append([_record(n) for n in range(4, 7)])
    await audit.append([_record(n) for n in range(7, 11)])
    try:
        yield audit
    finally:
        await audit.close()


async def _findings(store: SqlAuditStore) -> list[tuple[Problem, int | None]]:
    checker = ChainVerifier(await store.registered_shards())
    found = []
    async for row in store.stored_records():
        found.extend(checker.feed(row))
    found.extend(checker.finish())
    return [(f.problem, f.seq) for f in found]


async def _sql(engine: AsyncEngine, statement: str, **values: object) -> None:
    await tamper(engine, statement, **values)


async def test_an_untouched_log_verifies(store: SqlAuditStore) -> None:
    checker = ChainVerifier(await store.registered_shards())
    async for row in store.stored_records():
        assert checker.feed(row) == []
    assert checker.finish() == []
    assert checker.summary.records == 10
    assert checker.summary.shards == 1
    assert [seq for seq, _ in (checker.summary.heads or {}).values()] == [10]


async def test_a_record_changed_in_the_middle_of_a_batch_is_named(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await _sql(engine, "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 5")
    assert await _findings(store) == [(Problem.BROKEN_LINK, 5)]


async def test_a_change_with_its_hash_recomputed_shows_at_the_next_record(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    from panjereh.audit.chain import canonical_bytes, chain_hash

    async with engine.connect() as conn:
        previous, shard = (
            await conn.execute(text("SELECT record_hash, shard FROM audit_records WHERE seq = 4"))
        ).one()
    altered = dataclasses.replace(_record(5), purpose="curiosity")
    forged = chain_hash(bytes.fromhex(previous), canonical_bytes(altered, shard, 5)).hex()
    await _sql(
        engine,
        "UPDATE audit_records SET purpose = 'curiosity', record_hash = :h WHERE seq = 5",
        h=forged,
    )
    assert await _findings(store) == [(Problem.BROKEN_LINK, 6)]


async def test_a_whole_batch_deleted_is_missing(store: SqlAuditStore, engine: AsyncEngine) -> None:
    await _sql(engine, "DELETE FROM audit_records WHERE seq BETWEEN 4 AND 6")
    assert await _findings(store) == [(Problem.MISSING, 4)]


async def test_two_records_swapped_break_both_links(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await _sql(engine, "UPDATE audit_records SET seq = -seq WHERE seq IN (3, 4)")
    await _sql(engine, "UPDATE audit_records SET seq = 7 - (-seq) WHERE seq IN (-3, -4)")
    # 7 - 3 = 4 and 7 - 4 = 3: each record now stands where the other was, and the record
    # after them no longer follows from the hash stored before it.
    assert await _findings(store) == [
        (Problem.BROKEN_LINK, 3),
        (Problem.BROKEN_LINK, 4),
        (Problem.BROKEN_LINK, 5),
    ]


async def test_a_row_inserted_around_the_writer_is_found(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await _sql(
        engine,
        "INSERT INTO audit_records (exchange_id, created_at, outcome, status_code, duration_ms,"
        " cached) VALUES ('0190f3c2-2222-7000-8000-999999999999', :t, 'ok', 200, 1.0, false)",
        t=T0,
    )
    assert await _findings(store) == [(Problem.UNCHAINED, None)]


async def test_a_row_inserted_into_the_chain_breaks_it(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    """An extra row given the next free number of the shard, with a made-up hash."""
    async with engine.connect() as conn:
        shard = (await conn.execute(text("SELECT shard FROM audit_records LIMIT 1"))).scalar()
    await _sql(
        engine,
        "INSERT INTO audit_records (exchange_id, created_at, outcome, status_code, duration_ms,"
        " cached, shard, seq, record_hash) VALUES ('0190f3c2-2222-7000-8000-999999999999', :t,"
        " 'ok', 200, 1.0, false, :s, 11, :h)",
        t=T0,
        s=shard,
        h="00" * 32,
    )
    assert await _findings(store) == [(Problem.BROKEN_LINK, 11)]


async def test_a_shard_whose_records_are_all_deleted_is_reported(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await _sql(engine, "DELETE FROM audit_records")
    assert await _findings(store) == [(Problem.EMPTY_SHARD, None)]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET purpose = 'curiosity' WHERE seq = 5",
        "DELETE FROM audit_records WHERE seq = 10",
        "UPDATE audit_shards SET pid = 0",
        "DELETE FROM audit_shards",
    ],
)
async def test_the_database_refuses_updates_and_deletes_of_the_audit_log(
    store: SqlAuditStore, engine: AsyncEngine, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    assert await _findings(store) == []
    assert await store.count() == 10
