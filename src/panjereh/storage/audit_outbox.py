"""The audit stream export's outbox: the records themselves, and a cursor per shard.

Implements `panjereh.audit.export.Outbox`.  The stored records are the outbox (nothing extra
is written on the inquiry path); ``audit_outbox`` marks, per shard, the last sequence number
JetStream acknowledged.  A shard gets its row (at 0) the first time the export sees it in
``audit_shards``, so switching the export on publishes the whole log from the start.

With several workers on PostgreSQL each runs an export; a claim locks the shard's row with
``SELECT ... FOR UPDATE SKIP LOCKED`` for the transaction that reads the batch, publishes it
and moves the cursor, so two workers never publish the same shard at once and a worker that
finds a shard claimed goes on to the next one.  SQLite has one process and one export; there
the claim takes no lock while it publishes (that would stall the audit writer), only the
short transaction that moves the cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.audit.stream import StreamRecord
from panjereh.storage.audit_repo import record_from_row
from panjereh.storage.engine import StorageError
from panjereh.storage.tables import audit_outbox, audit_records, audit_shards


class _Batch:
    def __init__(self, conn: AsyncConnection, shard: str, records: Sequence[StreamRecord]):
        self._conn = conn
        self._shard = shard
        self.records = records

    async def advance(self, seq: int) -> None:
        """Move the cursor to ``seq``; committed when the claim ends (never moves back)."""
        await self._conn.execute(
            update(audit_outbox)
            .where(audit_outbox.c.shard == self._shard, audit_outbox.c.published_seq < seq)
            .values(published_seq=seq, updated_at=datetime.now(UTC))
        )


class SqlOutbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._locks = engine.dialect.name == "postgresql"

    async def backlog(self) -> dict[str, int]:
        """Every registered shard's records not yet published (one query; shards seen for
        the first time get their cursor row at 0)."""
        last = (
            select(func.max(audit_records.c.seq))
            .where(audit_records.c.shard == audit_shards.c.id)
            .scalar_subquery()
        )
        query = select(audit_shards.c.id, audit_outbox.c.published_seq, last).outerjoin(
            audit_outbox, audit_outbox.c.shard == audit_shards.c.id
        )
        try:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
            new = [shard for shard, published, _ in rows if published is None]
            if new:
                await self._register(new)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"audit outbox not read: {exc.__class__.__name__}") from exc
        return {shard: (top or 0) - (published or 0) for shard, published, top in rows}

    async def _register(self, shards: list[str]) -> None:
        insert = (postgresql.insert if self._locks else sqlite.insert)(audit_outbox)
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:  # several workers may register at once
            await conn.execute(
                insert.on_conflict_do_nothing(),
                [{"shard": s, "published_seq": 0, "updated_at": now} for s in shards],
            )

    @asynccontextmanager
    async def claim(self, shard: str, limit: int) -> AsyncIterator[_Batch | None]:
        """The shard's next ``limit`` unpublished records in order, its cursor held against
        other workers until the block ends (then committed); None if another worker holds it."""
        cursor_query = select(audit_outbox.c.published_seq).where(audit_outbox.c.shard == shard)
        if self._locks:
            cursor_query = cursor_query.with_for_update(skip_locked=True)
        columns = audit_records.c
        try:
            async with self._engine.begin() as conn:
                cursor = (await conn.execute(cursor_query)).scalar()
                if cursor is None:
                    yield None
                    return
                rows = await conn.execute(
                    select(audit_records)
                    .where(columns.shard == shard, columns.seq > cursor)
                    .order_by(columns.seq)
                    .limit(limit)
                )
                records = [
                    StreamRecord(record_from_row(row), shard, row["seq"], row["record_hash"])
                    for row in rows.mappings()
                ]
                yield _Batch(conn, shard, records)
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"audit outbox not updated: {exc.__class__.__name__}") from exc

    async def cursors(self) -> dict[str, int]:
        """Every shard's cursor (for tests and operators)."""
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(audit_outbox))).mappings().all()
        return {row["shard"]: row["published_seq"] for row in rows}
