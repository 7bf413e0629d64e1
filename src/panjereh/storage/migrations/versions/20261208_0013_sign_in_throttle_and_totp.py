"""sign-in throttle and staff TOTP

- ``sign_in_throttle``: the platform's one sign-in throttle (domain/throttle.py) when no Redis
  is configured: failures, lock and refusals per key, the key stored as an HMAC.
- ``staff_totp``, ``staff_recovery_codes``: a staff member's TOTP secret (sealed with
  AES-256-GCM) and ten one-time recovery codes (HMAC-SHA256).
- ``sign_in_challenges``: a sign-in whose password was right, waiting for its code.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import panjereh.storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, panjereh.storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sign_in_challenges",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sign_in_challenges_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_sign_in_challenges")),
    )
    op.create_index(
        op.f("ix_sign_in_challenges_user_id"), "sign_in_challenges", ["user_id"], unique=False
    )
    op.create_table(
        "staff_totp",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        _when("created_at"),
        _when("confirmed_at", nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_totp_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_totp")),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_recovery_codes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_staff_recovery_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_staff_recovery_codes_user_id"), "staff_recovery_codes", ["user_id"], unique=False
    )
    op.create_table(
        "sign_in_throttle",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _when("last_failure_at"),
        _when("locked_until", nullable=True),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index(
        op.f("ix_sign_in_throttle_last_failure_at"),
        "sign_in_throttle",
        ["last_failure_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_throttle_last_failure_at"), table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_index(op.f("ix_staff_recovery_codes_user_id"), table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_totp")
    op.drop_index(op.f("ix_sign_in_challenges_user_id"), table_name="sign_in_challenges")
    op.drop_table("sign_in_challenges")
