"""Control-plane events: written in the transaction of the change they describe, chained.

Every event gets the next number of the ``control-plane`` stream and its hash
(`panjereh.audit.events_chain`).  Writers serialize on the stream's head row in
``event_stream_heads``: PostgreSQL locks it (``SELECT ... FOR UPDATE``) until the transaction
ends, so events of several workers are numbered one after another; SQLite has one writer at a
time anyway, and the head is written first so the transaction holds the write lock before it
reads.  Control-plane writes are rare; the inquiries' audit records never wait on this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.audit.events_chain import (
    GENESIS,
    STREAM,
    StoredEvent,
    canonical_event_bytes,
    event_hash,
)
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.storage.tables import event_stream_heads, registry_events


class ConnectionAuditSink:
    """An `AuditSink` bound to one open transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.emitted = 0

    async def emit(self, event: AuditEvent) -> None:
        seq, head = await _lock_head(self._conn, STREAM)
        seq += 1
        digest = event_hash(head, canonical_event_bytes(event, STREAM, seq)).hex()
        await self._conn.execute(
            insert(registry_events).values(
                at=event.at,
                actor=event.actor,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                reason=event.reason,
                before=dict(event.before) if event.before is not None else None,
                after=dict(event.after) if event.after is not None else None,
                outcome=event.outcome.value,
                stream=STREAM,
                seq=seq,
                record_hash=digest,
            )
        )
        await self._conn.execute(
            update(event_stream_heads)
            .where(event_stream_heads.c.stream == STREAM)
            .values(seq=seq, head_hash=digest)
        )
        self.emitted += 1


async def _lock_head(conn: AsyncConnection, stream: str) -> tuple[int, bytes]:
    """The stream's last number and hash, its row locked until the transaction ends."""
    values = {"stream": stream, "seq": 0, "head_hash": GENESIS.hex()}
    heads = event_stream_heads
    if conn.dialect.name == "postgresql":
        await conn.execute(pg_insert(heads).values(values).on_conflict_do_nothing())
    else:
        await conn.execute(sqlite_insert(heads).values(values).on_conflict_do_nothing())
    row = (
        await conn.execute(
            select(heads.c.seq, heads.c.head_hash).where(heads.c.stream == stream).with_for_update()
        )
    ).one()
    return int(row.seq), bytes.fromhex(row.head_hash)


def _event(row: RowMapping) -> AuditEvent:
    return AuditEvent(
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        reason=row["reason"],
        before=row["before"],
        after=row["after"],
        outcome=EventOutcome(row["outcome"]),
    )


async def events_for(conn: AsyncConnection, object_type: str, object_id: str) -> list[AuditEvent]:
    """An object's history, oldest first."""
    rows = (
        await conn.execute(
            select(registry_events)
            .where(
                registry_events.c.object_type == object_type,
                registry_events.c.object_id == object_id,
            )
            .order_by(registry_events.c.id)
        )
    ).mappings()
    return [_event(row) for row in rows]


async def stored_events(engine: AsyncEngine, stream: str = STREAM) -> AsyncIterator[StoredEvent]:
    """The stream's events in number order, then any without a place in a chain, streamed."""
    columns = registry_events.c
    query = (
        select(registry_events)
        .where((columns.stream == stream) | columns.stream.is_(None))
        .order_by(columns.seq.is_(None), columns.seq, columns.id)
    )
    async with engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=5000))
        async for row in result.mappings():
            yield StoredEvent(_event(row), row["stream"], row["seq"], row["record_hash"], row["id"])


async def stream_head(engine: AsyncEngine, stream: str = STREAM) -> tuple[int, str] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(event_stream_heads.c.seq, event_stream_heads.c.head_hash).where(
                    event_stream_heads.c.stream == stream
                )
            )
        ).first()
    return None if row is None else (int(row.seq), row.head_hash)
