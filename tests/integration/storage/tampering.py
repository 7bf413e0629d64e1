"""Changing the audit tables the way only someone who owns the database can: past the
append-only triggers (migrations 0006 and 0009), which such a person can drop or bypass."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

TABLES = ("audit_records", "audit_shards", "audit_checkpoints", "audit_archives")


async def tamper(
    engine: AsyncEngine, statement: str, *, tables: tuple[str, ...] = TABLES, **values: object
) -> None:
    """Run ``statement`` past the append-only triggers of ``tables`` (on SQLite they are
    dropped; on PostgreSQL every trigger is bypassed for this transaction)."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # A superuser's way past triggers, for this transaction only.
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in tables:
                for action in ("update", "delete"):
                    await conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))
        await conn.execute(text(statement), values)
