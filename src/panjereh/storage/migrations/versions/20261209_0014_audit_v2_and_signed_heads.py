"""audit record format 2 and signed shard heads

- ``audit_records``: ``format`` (empty for the records written before: format 1) and the five
  values of format ``panjereh.audit/2``, all nullable: ``context``, ``request_bytes``,
  ``response_bytes``, ``operation``, ``projection_id``.
- ``audit_shards``: ``signs_heads`` (set when the shard is registered; the table stays
  append-only).
- ``audit_heads``: each shard's head as its writer signed it (docs/audit-log.md, "Signed
  heads"); append-only like the other audit tables (0006).
- ``audit_leases``: each live writer's heartbeat, the one audit table that is updated: how the
  next start tells a writer that is gone (its shard is then closed from its last signed head).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import panjereh.storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECORD_COLUMNS = (
    "format",
    "context",
    "request_bytes",
    "response_bytes",
    "operation",
    "projection_id",
)


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, panjereh.storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Nullable columns without a default: on PostgreSQL a catalog change only (the partitions
    # of audit_records take them too), on SQLite an ALTER TABLE ... ADD COLUMN each.
    op.add_column("audit_records", sa.Column("format", sa.SmallInteger(), nullable=True))
    op.add_column("audit_records", sa.Column("context", sa.String(length=120), nullable=True))
    op.add_column("audit_records", sa.Column("request_bytes", sa.BigInteger(), nullable=True))
    op.add_column("audit_records", sa.Column("response_bytes", sa.BigInteger(), nullable=True))
    op.add_column("audit_records", sa.Column("operation", sa.String(length=200), nullable=True))
    op.add_column("audit_records", sa.Column("projection_id", sa.String(length=80), nullable=True))
    op.add_column("audit_shards", sa.Column("signs_heads", sa.Boolean(), nullable=True))
    op.create_table(
        "audit_leases",
        sa.Column("shard", sa.String(length=40), nullable=False),
        _when("heartbeat_at"),
        sa.PrimaryKeyConstraint("shard"),
    )
    op.create_table(
        "audit_heads",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("shard", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        _when("created_at"),
        sa.Column("closing", sa.Boolean(), nullable=False),
        sa.Column("closed_by", sa.String(length=40), nullable=True),
        sa.Column("key_id", sa.String(length=80), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_heads_shard_seq", "audit_heads", ["shard", "seq"], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # the function of 0006
        op.execute(
            "CREATE TRIGGER audit_heads_append_only BEFORE UPDATE OR DELETE ON audit_heads "
            "FOR EACH ROW EXECUTE FUNCTION panjereh_audit_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_heads_no_{action.lower()} BEFORE {action} ON audit_heads "
            f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {action} on "
            "audit_heads refused'); END"
        )


def downgrade() -> None:
    op.drop_index("ix_audit_heads_shard_seq", table_name="audit_heads")
    op.drop_table("audit_heads")  # its triggers go with it
    op.drop_table("audit_leases")
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35+): the tables and their append-only
    # triggers stay as they are.
    op.drop_column("audit_shards", "signs_heads")
    for name in _RECORD_COLUMNS:
        op.drop_column("audit_records", name)
