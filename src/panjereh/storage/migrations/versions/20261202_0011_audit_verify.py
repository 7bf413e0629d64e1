"""audit log by time: an index on (created_at, id)

Browsing the log newest first with no service or subject to walk an index by (an operator's
"everything in this period", an agency's own records) walked the primary key and, when the
period had an end in the past, read every newer record first: 0.9-2.8 s on PostgreSQL at ten
million records.  With this index every such page walks time backwards from the period's end
and stops after one page, and `panjereh audit verify --since/--until` finds a window's first
and last records without scanning.  Records arrive in time order, so new entries land at the
right edge of the index (measured in bench/audit.py: the append rate with and without it is
in docs/benchmarks.md).  On PostgreSQL the index is made on the partitioned table, so every
monthly partition has its own.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_records_created", "audit_records", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_created", table_name="audit_records")
