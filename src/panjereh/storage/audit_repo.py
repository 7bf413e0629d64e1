"""The audit store: batched inserts of audit records, and the reads tests and views need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.storage.tables import audit_records


class SqlAuditStore:
    """Implements `panjereh.audit.writer.AuditStore` with one executemany per batch."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def append(self, records: Sequence[AuditRecord]) -> None:
        rows = [asdict(record) for record in records]
        async with self._engine.begin() as conn:
            await conn.execute(insert(audit_records), rows)

    async def by_exchange_id(self, exchange_id: str) -> AuditRecord | None:
        async with self._engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(audit_records).where(audit_records.c.exchange_id == exchange_id)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        values = {key: row[key] for key in row if key != "id"}
        values["outcome"] = Outcome(values["outcome"])
        return AuditRecord(**values)

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(audit_records)) or 0)
