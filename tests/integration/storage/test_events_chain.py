"""The control-plane event stream on SQLite and PostgreSQL: chained as it is written, with
tampering done directly in the database named by the verifier; migration 0009 chains the
events written before it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.events_chain import STREAM, EventChainVerifier
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.storage.engine import create_engine
from panjereh.storage.events_repo import ConnectionAuditSink, stored_events, stream_head
from panjereh.storage.migrate import upgrade
from panjereh.storage.tables import registry_events
from tests.integration.storage.tampering import tamper_events
from tests.support import migrate

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def event(n: int) -> AuditEvent:
    return AuditEvent(
        at=T0 + timedelta(seconds=n, microseconds=n),
        actor="cli:maryam",
        action="service.update",
        object_type="service",
        object_id=f"civil-registry.service-{n}.v1",
        reason="دلیل تغییر",
        before={"timeout_ms": 1000 + n, "name_fa": "استعلام"} if n % 2 else None,
        after={"timeout_ms": 2000 + n, "nested": {"b": [1, 2.5, None], "a": True}},
        outcome=EventOutcome.SUCCEEDED if n % 3 else EventOutcome.REFUSED,
    )


async def findings(engine: AsyncEngine) -> list[tuple[str, int | None]]:
    checker = EventChainVerifier()
    found = []
    async for row in stored_events(engine):
        found.extend(checker.feed(row))
    found.extend(checker.finish(await stream_head(engine)))
    return [(f.problem.value, f.seq) for f in found]


@pytest.fixture
async def events(engine: AsyncEngine) -> AsyncEngine:
    """Six events, in three transactions."""
    for batch in ((1, 2), (3,), (4, 5, 6)):
        async with engine.begin() as conn:
            sink = ConnectionAuditSink(conn)
            for n in batch:
                await sink.emit(event(n))
    return engine


async def ids(engine: AsyncEngine) -> dict[int, int]:
    """seq -> row id."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(registry_events.c.seq, registry_events.c.id))
        return {int(seq): int(row_id) for seq, row_id in rows}


async def test_events_are_numbered_and_chained_and_verify(events: AsyncEngine) -> None:
    assert await findings(events) == []
    assert sorted((await ids(events)).keys()) == [1, 2, 3, 4, 5, 6]
    head = await stream_head(events)
    assert head is not None
    async with events.connect() as conn:
        last = (
            await conn.execute(
                select(registry_events.c.record_hash, registry_events.c.stream).where(
                    registry_events.c.seq == 6
                )
            )
        ).one()
    assert head == (6, last.record_hash)
    assert last.stream == STREAM


async def test_an_event_that_is_rolled_back_leaves_no_gap(events: AsyncEngine) -> None:
    async def failing_change() -> None:
        async with events.begin() as conn:
            await ConnectionAuditSink(conn).emit(event(7))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    async with events.begin() as conn:
        await ConnectionAuditSink(conn).emit(event(8))
    assert sorted((await ids(events)).keys()) == [1, 2, 3, 4, 5, 6, 7]
    assert await findings(events) == []


INSERT = "INSERT INTO registry_events (at, actor, action, object_type, object_id, reason, outcome"


@pytest.mark.parametrize(
    ("statements", "values", "named"),
    [
        pytest.param(
            ["UPDATE registry_events SET actor = 'cli:someone' WHERE seq = 3"],
            {},
            [("event-broken-link", 3)],
            id="an-altered-event",
        ),
        pytest.param(
            ["UPDATE registry_events SET reason = 'other' WHERE seq = 5"],
            {},
            [("event-broken-link", 5)],
            id="an-altered-before-value",
        ),
        pytest.param(
            ["DELETE FROM registry_events WHERE seq = 4"],
            {},
            [("event-missing", 4)],
            id="a-deleted-event",
        ),
        pytest.param(
            ["DELETE FROM registry_events WHERE seq >= 5"],
            {},
            [("event-truncated", 5)],
            id="a-truncated-tail",
        ),
        pytest.param(
            [f"{INSERT}) VALUES (:at, 'cli:x', 'grant.approve', 'grant', 'a/b', 'r', 'succeeded')"],
            {"at": T0},
            [("event-unchained", None)],
            id="an-event-inserted-around-the-writer",
        ),
        pytest.param(  # the next number and a made-up hash break the link and the head
            [
                f"{INSERT}, stream, seq, record_hash) VALUES (:at, 'cli:x', 'grant.approve', "
                "'grant', 'a/b', 'r', 'succeeded', 'control-plane', 7, :h)"
            ],
            {"at": T0, "h": "ab" * 32},
            [("event-broken-link", 7), ("event-head", 7)],
            id="an-event-inserted-into-the-chain",
        ),
        pytest.param(
            [
                "UPDATE registry_events SET seq = -1 WHERE seq = 2",
                "UPDATE registry_events SET seq = 2 WHERE seq = 3",
                "UPDATE registry_events SET seq = 3 WHERE seq = -1",
            ],
            {},
            [
                ("event-broken-link", 2),
                ("event-reordered", 3),
                ("event-broken-link", 3),
                ("event-broken-link", 4),
            ],
            id="two-swapped-events",
        ),
    ],
)
async def test_a_changed_stream_is_named(
    events: AsyncEngine,
    statements: list[str],
    values: dict[str, object],
    named: list[tuple[str, int | None]],
) -> None:
    for statement in statements:
        await tamper_events(events, statement, **values)
    assert await findings(events) == named


async def test_the_database_refuses_to_change_or_delete_events(events: AsyncEngine) -> None:
    for statement in ("UPDATE registry_events SET actor = 'x'", "DELETE FROM registry_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with events.begin() as conn:
                await conn.execute(text(statement))
    assert await findings(events) == []


@pytest.mark.postgres
async def test_concurrent_writers_on_postgresql_number_events_one_after_another(
    postgres_migrated: str,
) -> None:
    engines = [create_engine(postgres_migrated) for _ in range(4)]
    try:
        async with engines[0].begin() as conn:
            await conn.execute(text("TRUNCATE registry_events, event_stream_heads"))

        async def writer(engine: AsyncEngine, start: int) -> None:
            for n in range(start, start + 10):
                async with engine.begin() as conn:
                    await ConnectionAuditSink(conn).emit(event(n))

        await asyncio.gather(*(writer(e, i * 100) for i, e in enumerate(engines)))
        assert sorted((await ids(engines[0])).keys()) == list(range(1, 41))
        assert await findings(engines[0]) == []
    finally:
        for engine in engines:
            await engine.dispose()


# Migration 0009 ---------------------------------------------------------------------------

INSERT_0008 = (
    "INSERT INTO registry_events (at, actor, action, object_type, object_id, reason, before, "
    "after, outcome) VALUES (:at, :ac, :a, :t, :o, :r, :b, :af, :out)"
)


def _json_text(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _as_text(engine: AsyncEngine, e: AuditEvent) -> dict[str, object]:
    """An event's columns as SQL text would write them (SQLite: times as 0008 stored them)."""
    at: object = e.at
    if engine.dialect.name != "postgresql":
        at = e.at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return {
        "at": at,
        "ac": e.actor,
        "a": e.action,
        "t": e.object_type,
        "o": e.object_id,
        "r": e.reason,
        "b": _json_text(e.before),
        "af": _json_text(e.after),
        "out": e.outcome.value,
    }


async def _events_before_0009(engine: AsyncEngine, *, as_text: bool = False) -> None:
    """Three events as revision 0008 had them: the table had no chain columns yet
    (``as_text``: written by plain SQL instead of through the table's column types)."""
    await migrate(engine, "0008")
    async with engine.begin() as conn:
        for n in range(1, 4):
            e = event(n)
            if as_text:
                await conn.execute(text(INSERT_0008), _as_text(engine, e))
                continue
            await conn.execute(
                registry_events.insert().values(
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    object_type=e.object_type,
                    object_id=e.object_id,
                    reason=e.reason,
                    before=e.before,
                    after=e.after,
                    outcome=e.outcome.value,
                )
            )


async def test_migration_0009_chains_the_events_written_before_it(
    fresh_engine: AsyncEngine,
) -> None:
    engine = fresh_engine
    await _events_before_0009(engine, as_text=engine.dialect.name == "sqlite")
    await upgrade(engine)
    assert await findings(engine) == []
    assert sorted((await ids(engine)).keys()) == [1, 2, 3]
    head = await stream_head(engine)
    assert head is not None
    assert head[0] == 3
    async with engine.begin() as conn:  # new events continue the migrated stream
        await ConnectionAuditSink(conn).emit(event(4))
    assert sorted((await ids(engine)).keys()) == [1, 2, 3, 4]
    assert await findings(engine) == []


async def test_migration_0009_downgrades_and_upgrades_again(fresh_engine: AsyncEngine) -> None:
    """0009 undone restores 0008's schema (no chain columns, no payload tables, no triggers);
    done again, it chains the events again."""
    engine = fresh_engine
    await _events_before_0009(engine)
    await migrate(engine, "0009")
    await migrate(engine, "0008", "downgrade")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(sa_inspect(c).get_table_names()))
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in sa_inspect(c).get_columns("registry_events")}
        )
    assert "audit_payloads" not in tables
    assert "event_stream_heads" not in tables
    assert {"stream", "seq", "record_hash"} & columns == set()
    async with engine.begin() as conn:  # no trigger left: 0008 allowed deleting events
        await conn.execute(text("DELETE FROM registry_events WHERE id = 1"))
    await migrate(engine, "0009")
    assert sorted((await ids(engine)).keys()) == [1, 2]
    assert await findings(engine) == []
