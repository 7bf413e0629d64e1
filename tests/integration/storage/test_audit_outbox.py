"""The audit stream export's outbox on SQLite and PostgreSQL: the cursor table (migration
0008), the backlog per shard, claims in sequence order, and workers that never share a shard."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.records import AuditRecord
from panjereh.audit.writer import AuditWriter
from panjereh.storage.audit_outbox import SqlOutbox
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import StorageError, create_engine
from panjereh.storage.migrate import alembic_config
from tests.integration.storage.test_audit_verify import _record


async def write(store: SqlAuditStore, records: list[AuditRecord]) -> None:
    """Through the exchange's own writer (group commit), as inquiries would."""
    writer = AuditWriter(store, batch_size=7)
    writer.start()
    await asyncio.gather(*(writer.record(r) for r in records))
    await writer.stop()


async def shard_of(store: SqlAuditStore) -> str:
    (shard,) = await store.registered_shards()
    return shard


async def test_a_new_shard_gets_its_cursor_at_zero_and_its_whole_backlog(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    outbox = SqlOutbox(engine)
    assert await outbox.backlog() == {}
    await write(store, [_record(n) for n in range(1, 13)])
    shard = await shard_of(store)
    assert await outbox.backlog() == {shard: 12}
    assert await outbox.cursors() == {shard: 0}


async def test_a_claim_reads_the_next_records_in_order_and_moves_the_cursor(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    records = [_record(n) for n in range(1, 13)]
    await write(store, records)
    shard = await shard_of(store)
    outbox = SqlOutbox(engine)
    await outbox.backlog()
    async with outbox.claim(shard, 5) as batch:
        assert batch is not None
        assert [item.seq for item in batch.records] == [1, 2, 3, 4, 5]
        assert [item.record for item in batch.records] == records[:5]
        stored = [s async for s in store.stored_records()]
        assert [item.record_hash for item in batch.records] == [s.record_hash for s in stored[:5]]
        await batch.advance(5)
    assert await outbox.cursors() == {shard: 5}
    assert await outbox.backlog() == {shard: 7}
    async with outbox.claim(shard, 100) as batch:
        assert batch is not None
        assert [item.seq for item in batch.records] == list(range(6, 13))
        await batch.advance(3)  # never backwards
    assert await outbox.cursors() == {shard: 5}


async def test_a_claim_that_fails_leaves_the_cursor(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await write(store, [_record(n) for n in range(1, 4)])
    shard = await shard_of(store)
    outbox = SqlOutbox(engine)
    await outbox.backlog()

    async def crash() -> None:
        async with outbox.claim(shard, 10) as batch:
            assert batch is not None
            await batch.advance(3)
            raise RuntimeError("crash before the commit")

    with pytest.raises(RuntimeError, match="crash"):
        await crash()
    assert await outbox.cursors() == {shard: 0}


async def test_an_unknown_shard_has_nothing_to_claim(engine: AsyncEngine) -> None:
    async with SqlOutbox(engine).claim("no-such-shard", 10) as batch:
        assert batch is None


async def test_an_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    try:
        with pytest.raises(StorageError, match="audit outbox not read"):
            await SqlOutbox(engine).backlog()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
async def test_two_workers_never_claim_the_same_shard_at_once(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    other_store = SqlAuditStore(engine)
    try:
        await write(store, [_record(n) for n in range(1, 4)])
        await write(other_store, [_record(n) for n in range(4, 6)])
    finally:
        await other_store.close()
    first, second = sorted((await SqlOutbox(engine).backlog()).items())
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        mine, theirs = SqlOutbox(engine), SqlOutbox(other_engine)
        async with mine.claim(first[0], 10) as held:
            assert held is not None
            async with theirs.claim(first[0], 10) as skipped:
                assert skipped is None  # SKIP LOCKED: the other worker goes on
            async with theirs.claim(second[0], 10) as free:
                assert free is not None
                assert len(free.records) == second[1]
                await free.advance(second[1])
            await held.advance(first[1])
        assert await mine.cursors() == {first[0]: first[1], second[0]: second[1]}
    finally:
        await other_engine.dispose()


async def test_migration_0008_adds_the_cursor_table_and_its_downgrade_removes_it(
    fresh_url: str,
) -> None:
    engine = create_engine(fresh_url)

    def walk(connection: Connection, step: str, revision: str) -> list[str]:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)
        return sorted(inspect(connection).get_table_names())

    try:
        async with engine.begin() as conn:
            up = await conn.run_sync(walk, "upgrade", "0008")
        async with engine.begin() as conn:
            down = await conn.run_sync(walk, "downgrade", "0007")
        async with engine.begin() as conn:
            again = await conn.run_sync(walk, "upgrade", "0008")
    finally:
        await engine.dispose()
    assert "audit_outbox" in up
    assert sorted(set(up) - set(down)) == ["audit_outbox"]
    assert again == up
