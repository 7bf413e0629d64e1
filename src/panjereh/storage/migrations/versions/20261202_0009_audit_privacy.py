"""audit privacy: encrypted payloads; control-plane event chain

- ``services.keep_payloads`` and the table ``audit_payloads`` of sealed bodies
  (docs/audit-log.md, "Privacy");
- ``registry_events`` chained in the stream ``control-plane`` (stream, seq, record_hash) with
  its head row in ``event_stream_heads``; the events written before this revision are chained
  here, in id order (docs/audit-log.md, "Control-plane events");
- ``registry_events`` and ``audit_payloads`` become append-only like the audit tables (0006).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import panjereh.storage.types
from panjereh.audit.events_chain import GENESIS, canonical_event_bytes, event_hash
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.storage.tables import JSONValue

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAM = "control-plane"  # this revision's own copy (see 0004 on frozen values)
APPEND_ONLY = ("registry_events", "audit_payloads")


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keep_payloads", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "audit_payloads",
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("exchange_id", "kind", name=op.f("pk_audit_payloads")),
    )
    op.create_table(
        "event_stream_heads",
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_event_stream_heads")),
    )
    with op.batch_alter_table("registry_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_registry_events_stream_seq", ["stream", "seq"])
    _chain_existing_events()
    _append_only()


def _chain_existing_events() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    events = sa.Table(
        "registry_events",
        meta,
        sa.Column("id", sa.BigInteger),
        sa.Column("at", panjereh.storage.types.UTCDateTime(timezone=True)),
        *(sa.Column(name) for name in ("actor", "action", "object_type", "object_id", "reason")),
        sa.Column("before", JSONValue),
        sa.Column("after", JSONValue),
        sa.Column("outcome"),
        sa.Column("stream"),
        sa.Column("seq"),
        sa.Column("record_hash"),
    )
    heads = sa.Table(
        "event_stream_heads", meta, sa.Column("stream"), sa.Column("seq"), sa.Column("head_hash")
    )
    head, seq = GENESIS, 0
    for row in bind.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        seq += 1
        event = AuditEvent(
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            reason=row["reason"],
            before=row["before"],
            after=row["after"],
            outcome=EventOutcome(row["outcome"]),
        )
        head = event_hash(head, canonical_event_bytes(event, STREAM, seq))
        bind.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(stream=STREAM, seq=seq, record_hash=head.hex())
        )
    bind.execute(heads.insert().values(stream=STREAM, seq=seq, head_hash=head.hex()))


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # panjereh_audit_append_only() is migration 0006's trigger function.
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION panjereh_audit_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {action} on "
                f"{table} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    with op.batch_alter_table("registry_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_registry_events_stream_seq", type_="unique")
        batch_op.drop_column("record_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("stream")
    op.drop_table("event_stream_heads")
    op.drop_table("audit_payloads")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("keep_payloads")
