"""Changing the audit tables the way only someone who owns the database can: past the
append-only triggers (migrations 0006 and 0009), which such a person can drop or bypass."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

TABLES = (
    "audit_records",
    "audit_shards",
    "audit_checkpoints",
    "audit_archives",
    "audit_heads",
)


async def tamper(engine: AsyncEngine, statement: str, **values: object) -> None:
    await _past_triggers(engine, TABLES, statement, values)


async def tamper_events(engine: AsyncEngine, statement: str, **values: object) -> None:
    """The same on the control-plane events (their triggers come from migration 0009)."""
    await _past_triggers(engine, ("registry_events",), statement, values)


async def _past_triggers(
    engine: AsyncEngine, tables: tuple[str, ...], statement: str, values: dict[str, object]
) -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # A superuser's way past triggers, for this transaction only.
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in tables:
                for action in ("update", "delete"):
                    await conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))
        await conn.execute(text(statement), values)
