"""The database schema (SQLAlchemy Core).  Alembic migrations must match it (a test checks)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from panjereh.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# One row: bumped by every registry change, polled by exchange workers to refresh snapshots.
registry_state = Table(
    "registry_state",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

agencies = Table(
    "agencies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("legal_id", String(11), nullable=False, unique=True),
    Column("name_fa", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

systems = Table(
    "systems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("agency_id", "code", name="uq_systems_agency_code"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("system_id", Integer, ForeignKey("systems.id"), nullable=False, index=True),
    # HMAC-SHA256(pepper, key), hex: the key itself is never stored.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

services = Table(
    "services",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False, index=True),
    Column("provider_system_id", Integer, ForeignKey("systems.id"), nullable=False),
    Column("name_fa", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("description_fa", Text, nullable=False),
    Column("description_en", Text, nullable=False),
    Column("endpoint_url", String(2000), nullable=False),
    Column("subject_pointer", String(200), nullable=True),
    Column("subject_kind", String(32), nullable=False),
    Column("timeout_ms", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consumer_system_id", Integer, ForeignKey("systems.id"), nullable=False),
    Column("service_id", String(160), ForeignKey("services.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("consumer_system_id", "service_id", name="uq_grants_consumer_service"),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("exchange_id", String(36), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("consumer", String(140), nullable=True),
    Column("service_id", String(160), nullable=True),
    Column("purpose", String(120), nullable=True),
    Column("subject_hash", String(64), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("status_code", SmallInteger, nullable=False),
    Column("error_type", String(40), nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("request_hash", String(64), nullable=True),
    Column("response_hash", String(64), nullable=True),
    Index("ix_audit_records_service_created", "service_id", "created_at"),
    Index("ix_audit_records_subject_created", "subject_hash", "created_at"),
)
