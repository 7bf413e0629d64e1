"""chained audit records: shard, sequence and hash per record; the shards

Records written before this revision are chained here, in id order, into one shard named
``migrated-0004`` (docs/audit-log.md): from now on they are as verifiable as new ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import panjereh.storage.types
from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.records import AuditRecord, Outcome

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIGRATED_SHARD = "migrated-0004"
# The record's columns as they are at this revision: a migration keeps its own copy, so that
# later changes to the application's column list cannot change what it did.
_FIELDS = (
    "exchange_id",
    "created_at",
    "consumer",
    "service_id",
    "purpose",
    "subject_hash",
    "outcome",
    "status_code",
    "error_type",
    "duration_ms",
    "request_hash",
    "response_hash",
    "request_id",
    "auth_method",
    "replay_of",
    "cached",
    "provider_ms",
)


def upgrade() -> None:
    op.create_table(
        "audit_shards",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("started_at", panjereh.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("host", sa.String(length=120), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_shards")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shard", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_audit_records_shard"), ["shard", "seq"])
    _chain_existing_records()


def _chain_existing_records() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    records = sa.Table(
        "audit_records",
        meta,
        sa.Column("id", sa.BigInteger),
        *(sa.Column(name) for name in _FIELDS if name != "created_at"),
        sa.Column("created_at", panjereh.storage.types.UTCDateTime(timezone=True)),
        sa.Column("shard"),
        sa.Column("seq"),
        sa.Column("record_hash"),
    )
    shards = sa.Table(
        "audit_shards",
        meta,
        sa.Column("id"),
        sa.Column("started_at", panjereh.storage.types.UTCDateTime(timezone=True)),
        sa.Column("host"),
        sa.Column("pid"),
    )
    rows = bind.execute(sa.select(records).order_by(records.c.id)).mappings().all()
    if not rows:
        return
    bind.execute(
        shards.insert().values(
            id=MIGRATED_SHARD,
            started_at=datetime.now(UTC),
            host=socket.gethostname()[:120],
            pid=0,
        )
    )
    head = GENESIS
    for seq, row in enumerate(rows, start=1):
        values = {name: row[name] for name in _FIELDS}
        values["outcome"] = Outcome(values["outcome"])
        values["cached"] = bool(values["cached"])
        record = AuditRecord(**values)
        head = chain_hash(head, canonical_bytes(record, MIGRATED_SHARD, seq))
        bind.execute(
            records.update()
            .where(records.c.id == row["id"])
            .values(shard=MIGRATED_SHARD, seq=seq, record_hash=head.hex())
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_audit_records_shard"), type_="unique")
        batch_op.drop_column("record_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("shard")
    op.drop_table("audit_shards")
