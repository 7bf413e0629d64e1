"""The monthly partitions of audit_records on PostgreSQL (migration 0010; docs/audit-log.md,
"Volume and retention").

Partitions must exist before records arrive: servers create the current month's and the next
`MONTHS_AHEAD` at start and once a day; a record for a month without a partition makes the
writer create that one and retry (`storage/audit_repo.py`), so there is no DEFAULT partition
(which would have to be scanned, under lock, each time a month's partition is added).  SQLite
keeps one table: there every month is "live" in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.audit.archive import Month
from panjereh.storage.tables import audit_archives, audit_records

MONTHS_AHEAD = 2
PARTITION_PREFIX = "audit_records_y"
KEPT_PREFIX = "audit_archived_y"
_LOCK = 7_310_010  # pg_advisory_xact_lock key: one session at a time adds partitions
NO_PARTITION = "no partition of relation"  # PostgreSQL's message for a row without one


class PartitionState(StrEnum):
    LIVE = "live"  # attached: written to, verified, append-only by trigger
    KEPT = "detached"  # archived and detached, kept as a plain table (`detach --keep`)
    ARCHIVED = "archived"  # archived and gone from the database: the archive file holds it


@dataclass(frozen=True, slots=True)
class Partition:
    month: Month
    name: str | None  # the table, if there is one
    rows: int | None  # None when the rows are no longer in the database
    state: PartitionState


def partition_ddl(month: Month) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {month.partition} PARTITION OF audit_records "
        f"FOR VALUES FROM ('{month.start.isoformat()}') TO ('{month.end.isoformat()}')"
    )


def months_ahead(now: datetime, ahead: int = MONTHS_AHEAD) -> list[Month]:
    months = [Month.of(now)]
    for _ in range(ahead):
        months.append(months[-1].next())
    return months


async def is_partitioned(conn: AsyncConnection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = await conn.scalar(
        text("SELECT CAST(relkind AS text) FROM pg_class WHERE oid = to_regclass('audit_records')")
    )
    return bool(kind == "p")


async def _existing(conn: AsyncConnection) -> set[str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('audit_records')"
        )
    )
    return {str(name) for (name,) in rows}


async def create_partitions(conn: AsyncConnection, months: Iterable[Month]) -> list[str]:
    """Create the partitions of ``months`` that do not exist yet (in ``conn``'s transaction);
    returns the names created.  Nothing on SQLite."""
    if not await is_partitioned(conn):
        return []
    wanted = sorted(set(months))
    existing = await _existing(conn)
    missing = [m for m in wanted if m.partition not in existing]
    if not missing:
        return []
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    existing = await _existing(conn)  # another worker may have made them meanwhile
    made = []
    for month in missing:
        if month.partition not in existing:
            await conn.exec_driver_sql(partition_ddl(month))
            made.append(month.partition)
    return made


async def ensure_partitions(engine: AsyncEngine, now: datetime) -> list[str]:
    """The current month's partition and the next `MONTHS_AHEAD`' (cheap when they exist)."""
    async with engine.begin() as conn:
        return await create_partitions(conn, months_ahead(now))


async def list_partitions(engine: AsyncEngine) -> list[Partition]:
    """Every month the log holds or held: live partitions (PostgreSQL) or months of the one
    table (SQLite) with their row counts, and the archived months."""
    found: dict[Month, Partition] = {}
    async with engine.connect() as conn:
        archived = (await conn.execute(select(audit_archives))).mappings().all()
        if await is_partitioned(conn):
            for name in sorted(await _existing(conn)):
                if not name.startswith(PARTITION_PREFIX):
                    continue
                month = Month(int(name[-7:-3]), int(name[-2:]))
                rows = await conn.scalar(text(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
                found[month] = Partition(month, name, int(rows or 0), PartitionState.LIVE)
        else:
            found.update(await _sqlite_months(conn))
        for row in archived:
            month = Month.parse(str(row["month"]))
            kept = row["kept_as"]
            if kept is not None and month not in found:
                rows = await conn.scalar(text(f'SELECT count(*) FROM "{kept}"'))  # noqa: S608
                found[month] = Partition(month, str(kept), int(rows or 0), PartitionState.KEPT)
            elif month not in found:
                found[month] = Partition(month, None, None, PartitionState.ARCHIVED)
    return [found[m] for m in sorted(found)]


async def _sqlite_months(conn: AsyncConnection) -> dict[Month, Partition]:
    label = func.substr(audit_records.c.created_at, 1, 7)
    rows = await conn.execute(select(label, func.count()).group_by(label).order_by(label))
    months = {}
    for text_month, count in rows:
        month = Month.parse(str(text_month))
        months[month] = Partition(month, "audit_records", int(count), PartitionState.LIVE)
    return months


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """For Alembic's comparison (env.py, the migration test): the partitions and the kept
    detached months are made at run time, not by the table definitions."""
    return not (type_ == "table" and (name or "").startswith((PARTITION_PREFIX, KEPT_PREFIX)))


# The unique constraints PostgreSQL's partitioned audit_records holds with created_at added
# (migration 0010); the table definitions name them without it, as SQLite has them.
_KEYED_UNIQUES = {
    "uq_audit_records_exchange_id": ("exchange_id", "created_at"),
    "uq_audit_records_shard": ("shard", "seq", "created_at"),
}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """For Alembic's comparison: a unique constraint of the partitioned table counts as the
    table definition's one when it is that one with the partition key added."""
    if type_ != "unique_constraint" or name not in _KEYED_UNIQUES:
        return True
    stored = obj if reflected else compare_to
    if stored is None:
        return True
    return tuple(column.name for column in stored.columns) != _KEYED_UNIQUES[name]
