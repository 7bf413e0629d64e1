"""audit stream export: the outbox cursor

One row per audit shard: the last sequence number the JetStream export has had acknowledged
(docs/audit-log.md, "Stream export").  The records themselves are the outbox; this table only
marks how far each shard has been published.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import panjereh.storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_outbox",
        sa.Column("shard", sa.String(length=40), nullable=False),
        sa.Column("published_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", panjereh.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shard", name=op.f("pk_audit_outbox")),
    )


def downgrade() -> None:
    # Only the cursor goes: the next export starts every shard from its first record again
    # (JetStream de-duplicates within its window; consumers skip numbers they have seen).
    op.drop_table("audit_outbox")
