"""audit volume: monthly partitions of audit_records (PostgreSQL) and the archives table

On PostgreSQL ``audit_records`` becomes a table partitioned by RANGE (created_at), one
partition per UTC calendar month (``audit_records_y2026m12`` holds [2026-12-01, 2027-01-01)).
The rows move over with every column the table has now (``LIKE ... INCLUDING DEFAULTS``, so
columns added by earlier revisions come along); every index is made again on the parent, and
every primary key and unique constraint gets ``created_at`` added, as PostgreSQL requires of a
partitioned table: ``exchange_id`` is then unique per instant rather than overall (exchange ids
are UUIDv7 made once per inquiry, and a chain's (shard, seq) are numbered by its one writer;
docs/audit-log.md, "Volume and retention").  The append-only trigger sits on the parent, so it
applies to every live partition.  There is no DEFAULT partition: a record for a month without
a partition makes the writer create it (storage/audit_repo.py), and servers create the coming
months' partitions at start and daily (storage/partitions.py).

SQLite keeps one table; only ``audit_archives`` is added there (retention deletes an archived
month's rows in one transaction instead, `panjereh audit detach`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import panjereh.storage.types

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "audit_records_unpartitioned"
MONTHS_AHEAD = 2  # besides the current month; the runtime keeps this many ready


def upgrade() -> None:
    op.create_table(
        "audit_archives",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("ranges", _JSON, nullable=False),
        sa.Column("cuts", _JSON, nullable=False),
        sa.Column("boundary", _JSON, nullable=False),
        sa.Column("key_id", sa.String(length=80), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("kept_as", sa.String(length=63), nullable=True),
        sa.Column("detached_at", panjereh.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_archives")),
        sa.UniqueConstraint("month", name=op.f("uq_audit_archives_month")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(partitioned=True)
        op.execute(
            "CREATE TRIGGER audit_archives_append_only BEFORE UPDATE OR DELETE ON "
            "audit_archives FOR EACH ROW EXECUTE FUNCTION panjereh_audit_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_archives_no_{action.lower()} BEFORE {action} ON "
                f"audit_archives BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: "
                f"{action} on audit_archives refused'); END"
            )


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _create_partition(year: int, month: int) -> None:
    ny, nm = _next(year, month)
    op.execute(
        f"CREATE TABLE IF NOT EXISTS audit_records_y{year:04d}m{month:02d} PARTITION OF "
        f"audit_records FOR VALUES FROM ('{_month_start(year, month).isoformat()}') "
        f"TO ('{_month_start(ny, nm).isoformat()}')"
    )


def _constraints(bind: sa.Connection, table: str) -> list[tuple[str, str, list[str]]]:
    """(name, kind p/u/f, columns) of ``table``'s primary key, unique and foreign keys."""
    rows = bind.execute(
        sa.text(
            "SELECT c.conname, CAST(c.contype AS text), array_agg(a.attname ORDER BY k.ord) "
            "FROM pg_constraint c "
            "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
            "WHERE c.conrelid = CAST(:t AS regclass) AND c.contype IN ('p', 'u') "
            "GROUP BY c.conname, c.contype ORDER BY c.conname"
        ),
        {"t": table},
    ).all()
    return [(str(name), str(kind), list(columns)) for name, kind, columns in rows]


def _indexes(bind: sa.Connection) -> list[tuple[str, str]]:
    """(name, definition) of ``audit_records``' indexes that are not a constraint's."""
    rows = bind.execute(
        sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = "
            "'audit_records' AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 "
            "FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = "
            "CAST('audit_records' AS regclass)) ORDER BY i.indexname"
        )
    ).all()
    return [(str(name), str(definition)) for name, definition in rows]


def _sequences(bind: sa.Connection) -> list[tuple[str, str]]:
    """(column, sequence) of ``audit_records``' serial columns."""
    rows = bind.execute(
        sa.text(
            "SELECT a.attname, pg_get_serial_sequence('audit_records', a.attname) "
            "FROM pg_attribute a WHERE a.attrelid = CAST('audit_records' AS regclass) "
            "AND a.attnum > 0 AND NOT a.attisdropped "
            "AND pg_get_serial_sequence('audit_records', a.attname) IS NOT NULL"
        )
    ).all()
    return [(str(column), str(sequence)) for column, sequence in rows]


def _refuse_foreign_keys(bind: sa.Connection) -> None:
    referencing = (
        bind.execute(
            sa.text(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid = CAST('audit_records' AS regclass)"
            )
        )
        .scalars()
        .all()
    )
    if referencing:
        raise RuntimeError(
            "audit_records cannot be partitioned while foreign keys point at it "
            f"({', '.join(referencing)}): refer to exchange_id without a foreign key"
        )


def _keys_and_indexes(
    constraints: list[tuple[str, str, list[str]]],
    indexes: list[tuple[str, str]],
    *,
    partitioned: bool,
) -> None:
    """The set-aside table's keys and indexes made again on the new ``audit_records``: a
    partitioned table's keys must hold ``created_at``, a plain table's keys go without it."""
    for name, kind, columns in constraints:
        if partitioned:
            keyed = [*columns, "created_at"] if "created_at" not in columns else columns
        else:
            keyed = [c for c in columns if c != "created_at"] or columns
        what = "PRIMARY KEY" if kind == "p" else "UNIQUE"
        op.execute(f'ALTER TABLE audit_records ADD CONSTRAINT "{name}" {what} ({", ".join(keyed)})')
    for _, definition in indexes:
        op.execute(definition.replace(" ON ONLY ", " ON ", 1))


def _partitions_wanted(bind: sa.Connection) -> None:
    """A partition for every month the set-aside rows are of, and this and the coming ones."""
    months = bind.execute(
        sa.text(
            f"SELECT DISTINCT CAST(EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC') AS int), "  # noqa: S608 - constant name
            f"CAST(EXTRACT(MONTH FROM created_at AT TIME ZONE 'UTC') AS int) FROM {OLD}"
        )
    ).all()
    now = datetime.now(UTC)
    wanted = {(int(y), int(m)) for y, m in months}
    year, month = now.year, now.month
    for _ in range(MONTHS_AHEAD + 1):
        wanted.add((year, month))
        year, month = _next(year, month)
    for year, month in sorted(wanted):
        _create_partition(year, month)


def _rebuild(*, partitioned: bool) -> None:
    """``audit_records`` made again, partitioned by month (upgrade) or as one plain table
    (downgrade), with the rows, keys, indexes, sequences and trigger it had.  Downgrading
    keeps the rows of every live partition (detached or dropped months stay in their
    archives; a table kept with ``--keep`` stays as it is)."""
    bind = op.get_bind()
    if partitioned:
        _refuse_foreign_keys(bind)
    constraints = _constraints(bind, "audit_records")
    indexes = _indexes(bind)
    sequences = _sequences(bind)
    op.execute("DROP TRIGGER IF EXISTS audit_records_append_only ON audit_records")
    op.execute(f"ALTER TABLE audit_records RENAME TO {OLD}")
    for name, _, _ in constraints:
        op.execute(f'ALTER TABLE {OLD} RENAME CONSTRAINT "{name}" TO "{name}_old"')
    for name, _ in indexes:
        op.execute(f'ALTER INDEX "{name}" RENAME TO "{name}_old"')
    if partitioned:  # keys first (an empty parent), then the partitions the rows go to
        op.execute(
            f"CREATE TABLE audit_records (LIKE {OLD} INCLUDING DEFAULTS INCLUDING STORAGE "
            "INCLUDING COMMENTS) PARTITION BY RANGE (created_at)"
        )
        _keys_and_indexes(constraints, indexes, partitioned=True)
        _partitions_wanted(bind)
        op.execute(f"INSERT INTO audit_records SELECT * FROM {OLD}")  # noqa: S608 - constant names
    else:  # rows first, keys after (faster)
        op.execute(f"CREATE TABLE audit_records (LIKE {OLD} INCLUDING DEFAULTS INCLUDING STORAGE)")
        op.execute(f"INSERT INTO audit_records SELECT * FROM {OLD}")  # noqa: S608 - constant names
        _keys_and_indexes(constraints, indexes, partitioned=False)
    for column, sequence in sequences:
        op.execute(f'ALTER SEQUENCE {sequence} OWNED BY audit_records."{column}"')
    op.execute(f"DROP TABLE {OLD}")  # the old partitions go with it
    op.execute(
        "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records "
        "FOR EACH ROW EXECUTE FUNCTION panjereh_audit_append_only()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _rebuild(partitioned=False)
        op.execute("DROP TRIGGER IF EXISTS audit_archives_append_only ON audit_archives")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_archives_no_{action}")
    op.drop_table("audit_archives")
