"""citizen view: citizens' sessions, the cases they open, the withholdings they never see

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import panjereh.storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_VALUE = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _utc() -> panjereh.storage.types.UTCDateTime:
    return panjereh.storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "citizen_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_hashes", JSON_VALUE, nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_citizen_sessions")),
    )
    op.create_index(
        op.f("ix_citizen_sessions_expires_at"), "citizen_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "audit_cases",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("closed_by", sa.String(length=160), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_cases")),
    )
    op.create_index(
        op.f("ix_audit_cases_exchange_id"), "audit_cases", ["exchange_id"], unique=False
    )
    op.create_index(
        "ix_audit_cases_status_opened", "audit_cases", ["status", "opened_at"], unique=False
    )
    op.create_index(
        "uq_audit_cases_open",
        "audit_cases",
        ["exchange_id", "subject_hash"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "audit_withholdings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("withheld_at", _utc(), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("disclosure_date", sa.Date(), nullable=True),
        sa.Column("consumer", sa.String(length=140), nullable=True),
        sa.Column("service_id", sa.String(length=160), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_withholdings")),
    )
    op.create_index(
        op.f("ix_audit_withholdings_withheld_at"),
        "audit_withholdings",
        ["withheld_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_audit_withholdings_exchange_id"),
        "audit_withholdings",
        ["exchange_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("audit_withholdings")
    op.drop_index("uq_audit_cases_open", table_name="audit_cases")
    op.drop_table("audit_cases")
    op.drop_table("citizen_sessions")
