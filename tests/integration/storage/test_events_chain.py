"""The control-plane event stream on SQLite and PostgreSQL: chained as it is written, with
tampering done directly in the database named by the verifier; migration 0009 chains the
events written before it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.events_chain import STREAM, EventChainVerifier
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.storage.engine import create_engine
from panjereh.storage.events_repo import ConnectionAuditSink, stored_events, stream_head
from panjereh.storage.migrate import alembic_config, upgrade
from panjereh.storage.tables import registry_events

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


async def tamper(engine: AsyncEngine, statement: str, **values: object) -> None:
    """As only a database owner can: past the append-only triggers (migration 0009)."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for action in ("update", "delete"):
                await conn.execute(text(f"DROP TRIGGER IF EXISTS registry_events_no_{action}"))
        await conn.execute(text(statement), values)


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


async def test_an_altered_event_is_named(events: AsyncEngine) -> None:
    await tamper(events, "UPDATE registry_events SET actor = 'cli:someone' WHERE seq = 3")
    assert await findings(events) == [("event-broken-link", 3)]


async def test_an_altered_before_value_is_named(events: AsyncEngine) -> None:
    await tamper(events, "UPDATE registry_events SET reason = 'other' WHERE seq = 5")
    assert await findings(events) == [("event-broken-link", 5)]


async def test_a_deleted_event_is_named(events: AsyncEngine) -> None:
    await tamper(events, "DELETE FROM registry_events WHERE seq = 4")
    assert await findings(events) == [("event-missing", 4)]


async def test_a_truncated_tail_is_named(events: AsyncEngine) -> None:
    await tamper(events, "DELETE FROM registry_events WHERE seq >= 5")
    assert await findings(events) == [("event-truncated", 5)]


async def test_an_event_inserted_around_the_writer_is_named(events: AsyncEngine) -> None:
    await tamper(
        events,
        "INSERT INTO registry_events (at, actor, action, object_type, object_id, reason, "
        "outcome) VALUES (:at, 'cli:x', 'grant.approve', 'grant', 'a/b', 'r', 'succeeded')",
        at=T0,
    )
    assert await findings(events) == [("event-unchained", None)]


async def test_an_event_inserted_into_the_chain_is_named(events: AsyncEngine) -> None:
    """A row given the next number and a made-up hash breaks the link and the head."""
    await tamper(
        events,
        "INSERT INTO registry_events (at, actor, action, object_type, object_id, reason, "
        "outcome, stream, seq, record_hash) VALUES (:at, 'cli:x', 'grant.approve', 'grant', "
        "'a/b', 'r', 'succeeded', 'control-plane', 7, :h)",
        at=T0,
        h="ab" * 32,
    )
    assert await findings(events) == [("event-broken-link", 7), ("event-head", 7)]


async def test_two_swapped_events_are_named(events: AsyncEngine) -> None:
    await tamper(events, "UPDATE registry_events SET seq = -1 WHERE seq = 2")
    await tamper(events, "UPDATE registry_events SET seq = 2 WHERE seq = 3")
    await tamper(events, "UPDATE registry_events SET seq = 3 WHERE seq = -1")
    assert await findings(events) == [
        ("event-broken-link", 2),
        ("event-reordered", 3),
        ("event-broken-link", 3),
        ("event-broken-link", 4),
    ]


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


async def _events_before_0009(engine: AsyncEngine) -> None:
    def to(connection: Connection, revision: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(to, "0008")
    async with engine.begin() as conn:
        for n in range(1, 4):
            e = event(n)
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


async def _check_migrated(engine: AsyncEngine) -> None:
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


async def test_migration_0009_chains_the_events_written_before_it_on_sqlite(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await _events_before_0009_raw(engine)
        await _check_migrated(engine)
    finally:
        await engine.dispose()


async def _events_before_0009_raw(engine: AsyncEngine) -> None:
    """Rows as revision 0008 had them: the table had no chain columns yet."""

    def to(connection: Connection, revision: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(to, "0008")
    async with engine.begin() as conn:
        for n in range(1, 4):
            e = event(n)
            await conn.execute(
                text(
                    "INSERT INTO registry_events (at, actor, action, object_type, object_id, "
                    "reason, before, after, outcome) VALUES (:at, :ac, :a, :t, :o, :r, :b, "
                    ":af, :out)"
                ),
                {
                    "at": e.at
                    if engine.dialect.name == "postgresql"
                    else e.at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
                    "ac": e.actor,
                    "a": e.action,
                    "t": e.object_type,
                    "o": e.object_id,
                    "r": e.reason,
                    "b": _json_text(e.before),
                    "af": _json_text(e.after),
                    "out": e.outcome.value,
                },
            )


def _json_text(value: object) -> str | None:
    import json

    return None if value is None else json.dumps(value, ensure_ascii=False)


@pytest.mark.postgres
async def test_migration_0009_chains_the_events_written_before_it_on_postgresql(
    postgres_server_url: str,
) -> None:
    url = make_url(postgres_server_url)
    name = f"panjereh_m0009_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    engine = create_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        await _events_before_0009(engine)
        await _check_migrated(engine)
    finally:
        await engine.dispose()
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _alembic(connection: Connection, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


async def _down_and_up(engine: AsyncEngine) -> None:
    """0009 undone restores 0008's schema (no chain columns, no payload tables, no triggers);
    done again, it chains the events again."""
    await _events_before_0009(engine)
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "upgrade", "0009")
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "downgrade", "0008")
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
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "upgrade", "0009")
    assert sorted((await ids(engine)).keys()) == [1, 2]
    assert await findings(engine) == []


async def test_migration_0009_downgrades_and_upgrades_again_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'down.db'}")
    try:
        await _down_and_up(engine)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_migration_0009_downgrades_and_upgrades_again_on_postgresql(
    postgres_server_url: str,
) -> None:
    url = make_url(postgres_server_url)
    name = f"panjereh_d0009_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    engine = create_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        await _down_and_up(engine)
    finally:
        await engine.dispose()
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
