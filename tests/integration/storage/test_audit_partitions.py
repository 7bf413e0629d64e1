"""Migration 0010: audit_records partitioned by month on PostgreSQL (one table on SQLite),
partitions made ahead and on demand, the append-only trigger on every live partition, and a
real downgrade."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.verify import ChainVerifier
from panjereh.config import Settings
from panjereh.domain.clock import FixedClock
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import script_head, upgrade
from panjereh.storage.partitions import ensure_partitions, list_partitions
from panjereh.storage.tables import audit_records
from panjereh.web.runtime import Runtime
from tests.integration.storage.test_audit_verify import _record
from tests.support import append_as_before_format_2, fresh_postgres, migrate


async def _where(engine: AsyncEngine, exchange_id: str) -> str:
    """The table a record is stored in (its partition on PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        return "audit_records"
    async with engine.connect() as conn:
        where = await conn.scalar(
            text(
                "SELECT CAST(tableoid::regclass AS text) FROM audit_records WHERE exchange_id = :e"
            ),
            {"e": exchange_id},
        )
    return str(where)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
async def test_on_postgres_records_are_partitioned_by_month_with_the_partition_key_in_every_key(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        strategy = await conn.scalar(
            text("SELECT pg_get_partkeydef(CAST('audit_records' AS regclass))")
        )
        keys = (
            await conn.execute(
                text(
                    "SELECT c.conname, CAST(c.contype AS text), pg_get_constraintdef(c.oid) "
                    "FROM pg_constraint c WHERE c.conrelid = CAST('audit_records' AS regclass) "
                    "ORDER BY c.conname"
                )
            )
        ).all()
    assert strategy == "RANGE (created_at)"
    assert [tuple(k) for k in keys] == [
        ("pk_audit_records", "p", "PRIMARY KEY (id, created_at)"),
        ("uq_audit_records_exchange_id", "u", "UNIQUE (exchange_id, created_at)"),
        ("uq_audit_records_shard", "u", "UNIQUE (shard, seq, created_at)"),
    ]


async def test_a_record_of_a_month_without_a_partition_gets_one_and_lands_in_it(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    records = [
        replace(_record(1), created_at=datetime(2031, 5, 10, 8, 0, tzinfo=UTC)),
        replace(_record(2), created_at=datetime(2031, 6, 1, 0, 0, tzinfo=UTC)),
    ]
    await store.append(records)
    await store.append(
        [replace(_record(3), created_at=datetime(2031, 6, 30, 23, 59, 59, 999999, tzinfo=UTC))]
    )
    where = [await _where(engine, r.exchange_id) for r in (*records, _record(3))]
    if engine.dialect.name == "postgresql":
        assert where == [
            "audit_records_y2031m05",
            "audit_records_y2031m06",
            "audit_records_y2031m06",
        ]
    else:
        assert where == ["audit_records"] * 3
    checker = ChainVerifier(await store.registered_shards())
    found = [f async for row in store.stored_records() for f in checker.feed(row)]
    assert found == []
    months = {(str(p.month), p.rows) for p in await list_partitions(engine)}
    assert {("2031-05", 1), ("2031-06", 2)} <= months


async def test_partitions_are_made_for_this_month_and_the_next_two_once(
    engine: AsyncEngine,
) -> None:
    now = datetime(2032, 11, 20, 12, 0, tzinfo=UTC)
    made = await ensure_partitions(engine, now)
    again = await ensure_partitions(engine, now)
    if engine.dialect.name == "postgresql":
        assert made == [
            "audit_records_y2032m11",
            "audit_records_y2032m12",
            "audit_records_y2033m01",
        ]
    else:
        assert made == []
    assert again == []


async def test_the_append_only_trigger_holds_on_every_live_partition(
    store: SqlAuditStore, engine: AsyncEngine
) -> None:
    await store.append([replace(_record(1), created_at=datetime(2031, 5, 10, tzinfo=UTC))])
    table = "audit_records_y2031m05" if engine.dialect.name == "postgresql" else "audit_records"
    for statement in (
        f"UPDATE {table} SET status_code = 500",  # noqa: S608 - a constant name
        f"DELETE FROM {table}",  # noqa: S608
        "DELETE FROM audit_records",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with engine.connect() as conn:
        assert (await conn.execute(select(audit_records.c.status_code))).scalars().all() == [200]


@pytest.fixture
async def scratch(postgres_server_url: str) -> AsyncIterator[AsyncEngine]:
    """An empty PostgreSQL database of its own (migrations run from nothing)."""
    async with fresh_postgres(postgres_server_url) as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()


async def _kind(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        return str(
            await conn.scalar(
                text(
                    "SELECT CAST(relkind AS text) FROM pg_class "
                    "WHERE oid = to_regclass('audit_records')"
                )
            )
        )


async def _rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            select(
                audit_records.c.id,
                audit_records.c.exchange_id,
                audit_records.c.seq,
                audit_records.c.record_hash,
            ).order_by(audit_records.c.id)
        )
        return [tuple(r) for r in result]


@pytest.mark.postgres
async def test_on_postgres_0010_moves_the_rows_into_partitions_and_downgrades_back(
    scratch: AsyncEngine,
) -> None:
    await migrate(scratch, "0009")
    shard = await append_as_before_format_2(
        scratch,
        [
            replace(_record(1), created_at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC)),
            replace(_record(2), created_at=datetime(2026, 11, 1, 0, 0, tzinfo=UTC)),
        ],
    )
    before = await _rows(scratch)
    assert await _kind(scratch) == "r"
    assert await upgrade(scratch) == script_head()
    assert await _kind(scratch) == "p"
    assert await _rows(scratch) == before
    assert [await _where(scratch, _record(n).exchange_id) for n in (1, 2)] == [
        "audit_records_y2026m10",
        "audit_records_y2026m11",
    ]
    now = datetime.now(UTC)
    live = {p.name for p in await list_partitions(scratch)}
    assert f"audit_records_y{now.year:04d}m{now.month:02d}" in live
    store = SqlAuditStore(scratch)
    try:  # the writer's COPY goes through the parent; ids go on from the same sequence
        await store.append([_record(3)])
        assert shard in await store.registered_shards()
        ids = [row[0] for row in await _rows(scratch)]
        assert ids == [before[0][0], before[1][0], before[1][0] + 1]
        checker = ChainVerifier(await store.registered_shards())
        found = [f async for row in store.stored_records() for f in checker.feed(row)]
        assert found == []
    finally:
        await store.close()
    after = await _rows(scratch)
    await migrate(scratch, "0009", "downgrade")
    assert await _kind(scratch) == "r"
    assert await _rows(scratch) == after
    async with scratch.connect() as conn:
        keys = (
            (
                await conn.execute(
                    text(
                        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                        "CAST('audit_records' AS regclass) ORDER BY conname"
                    )
                )
            )
            .scalars()
            .all()
        )
        archives = await conn.scalar(text("SELECT to_regclass('audit_archives')"))
    assert keys == ["PRIMARY KEY (id)", "UNIQUE (exchange_id)", "UNIQUE (shard, seq)"]
    assert archives is None
    with pytest.raises(DBAPIError, match="append-only"):
        async with scratch.begin() as conn:
            await conn.execute(text("DELETE FROM audit_records"))
    assert await upgrade(scratch) == script_head()
    assert await _rows(scratch) == after


async def test_on_sqlite_0010_keeps_one_table_and_downgrades_to_no_archives(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(engine)
        await migrate(engine, "0009", "downgrade")
        async with engine.connect() as conn:
            tables = (
                (await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
                .scalars()
                .all()
            )
        assert "audit_archives" not in tables
        assert "audit_records" in tables
        assert await upgrade(engine) == script_head()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.postgres
async def test_a_starting_server_makes_the_coming_months_partitions(
    engine: AsyncEngine, dev_settings: Settings
) -> None:
    runtime = Runtime.build(
        dev_settings, clock=FixedClock(datetime(2034, 12, 20, tzinfo=UTC)), pepper=b"p" * 32
    )
    await runtime.start()
    try:
        wanted = {"audit_records_y2034m12", "audit_records_y2035m01", "audit_records_y2035m02"}
        for _ in range(100):
            live = {p.name for p in await list_partitions(engine)}
            if wanted <= live:
                break
            await asyncio.sleep(0.05)
        assert wanted <= live
    finally:
        await runtime.stop()
