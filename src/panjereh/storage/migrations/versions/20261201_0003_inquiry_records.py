"""inquiry records: request id, authentication method, replays, cache hits, provider time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("auth_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("replay_of", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("cached", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("provider_ms", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_column("provider_ms")
        batch_op.drop_column("cached")
        batch_op.drop_column("replay_of")
        batch_op.drop_column("auth_method")
        batch_op.drop_column("request_id")
