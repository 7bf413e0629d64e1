"""The database schema (SQLAlchemy Core).  Alembic migrations must match it (a test checks)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from panjereh.storage.types import UTCDateTime

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONValue = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: The largest values an ``Integer`` and a ``BigInteger`` column hold on both databases (an API
#: bounds what it passes to a query by them: a larger one overflows the driver).
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1

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
    Column("kind", String(24), nullable=False, server_default="organization"),
    Column("parent_id", Integer, ForeignKey("agencies.id"), nullable=True),
    Column("contact_email", String(200), nullable=True),
    Column("contact_phone", String(40), nullable=True),
    Column("search_key", Text, nullable=False, server_default=""),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("row_version", Integer, nullable=False, server_default="1"),
    # Where its provider endpoints may be, set by an operator (registry/addresses.py): private
    # address blocks (CIDRs, space-separated) and whether plain http is allowed.
    Column("private_blocks", Text, nullable=False, server_default=""),
    Column("allow_http", Boolean, nullable=False, server_default=false()),
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
    # "consumer", "provider" or "consumer,provider"
    Column("roles", String(40), nullable=False, server_default="consumer,provider"),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("row_version", Integer, nullable=False, server_default="1"),
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
    Column("label", String(100), nullable=False, server_default=""),
)

# Ed25519 public keys a system signs its requests with (RFC 9421); rotation = overlap.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("system_id", Integer, ForeignKey("systems.id"), nullable=False, index=True),
    Column("key_id", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    UniqueConstraint("system_id", "key_id", name="uq_signing_keys_system_key_id"),
)

purposes = Table(
    "purposes",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name_fa", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("legal_basis", Text, nullable=False),
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
    Column("request_schema", JSONValue, nullable=False, server_default="{}"),
    Column("response_schema", JSONValue, nullable=False, server_default="{}"),
    Column("personal_data", String(16), nullable=False, server_default="personal"),
    Column("cache_ttl_s", Integer, nullable=False, server_default="0"),
    Column("idempotent", Boolean, nullable=False, server_default="1"),
    Column("deprecated_on", Date, nullable=True),
    Column("search_key", Text, nullable=False, server_default=""),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("row_version", Integer, nullable=False, server_default="1"),
    # Keep the request and response bodies, encrypted (docs/audit-log.md, "Privacy").
    Column("keep_payloads", Boolean, nullable=False, server_default=false()),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consumer_system_id", Integer, ForeignKey("systems.id"), nullable=False),
    Column("service_id", String(160), ForeignKey("services.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("purposes", JSONValue, nullable=False, server_default="[]"),
    Column("projection", JSONValue, nullable=True),
    Column("rate_limit_per_minute", Integer, nullable=True),
    Column("daily_quota", Integer, nullable=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_until", Date, nullable=True),
    Column("confidential", Boolean, nullable=False, server_default="0"),
    Column("disclosure_date", Date, nullable=True),
    Column("justification", Text, nullable=False, server_default=""),
    Column("requested_by", String(120), nullable=True),
    Column("requested_at", UTCDateTime, nullable=True),
    Column("decided_by", String(120), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("row_version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("consumer_system_id", "service_id", name="uq_grants_consumer_service"),
)

citizen_services = Table(
    "citizen_services",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False, index=True),
    Column("title_fa", String(300), nullable=False),
    Column("title_en", String(300), nullable=False),
    Column("category", String(64), nullable=False),
    Column("delivery", String(16), nullable=False),
    Column("inquiries", JSONValue, nullable=False),
    Column("search_key", Text, nullable=False),
)

# People who manage the registry: operators, agency admins, auditors.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=True),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_sign_in_at", UTCDateTime, nullable=True),
)

# Bearer tokens for the management API: shown once, stored as SHA-256.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("label", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
)

# Signed-in web sessions (the cookie holds a random id; only its SHA-256 is stored).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# A password-checked sign-in waiting for its second step (the cookie holds a random id).
sign_in_challenges = Table(
    "sign_in_challenges",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# A staff member's TOTP secret (RFC 6238), sealed with AES-256-GCM (storage/totp_repo.py).
staff_totp = Table(
    "staff_totp",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("secret", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),  # None while the enrolment is pending
    Column("last_step", Integer, nullable=False),  # the last 30-second step used: no replay
)

# One-time recovery codes of a staff member's TOTP, stored as HMAC-SHA256.
staff_recovery_codes = Table(
    "staff_recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

# The sign-in throttle's keys (domain/throttle.py), by their HMAC; forgotten a day after the
# last failure.
sign_in_throttle = Table(
    "sign_in_throttle",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("label", String(200), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False, index=True),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("refusals", Integer, nullable=False),
)

# Every change to the registry: who, what, why, before and after, and whether it happened.
registry_events = Table(
    "registry_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(160), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("before", JSONValue, nullable=True),
    Column("after", JSONValue, nullable=True),
    Column("outcome", String(16), nullable=False),
    # The control-plane chain (docs/audit-log.md, "Control-plane events"): the stream, the
    # event's number in it and SHA-256(previous record_hash || canonical bytes) in hex.
    Column("stream", String(40), nullable=True),
    Column("seq", BigInteger, nullable=True),
    Column("record_hash", String(64), nullable=True),
    Index("ix_registry_events_object", "object_type", "object_id", "id"),
    UniqueConstraint("stream", "seq", name="uq_registry_events_stream_seq"),
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
    Column("request_id", String(64), nullable=True),
    Column("auth_method", String(16), nullable=True),
    Column("replay_of", String(36), nullable=True),
    Column("cached", Boolean, nullable=False, server_default=false()),
    Column("provider_ms", Float, nullable=True),
    # Format panjereh.audit/2 (migration 0014): the format (empty: 1) and its five values.
    Column("format", SmallInteger, nullable=True),
    Column("context", String(120), nullable=True),
    Column("request_bytes", BigInteger, nullable=True),
    Column("response_bytes", BigInteger, nullable=True),
    Column("operation", String(200), nullable=True),
    Column("projection_id", String(80), nullable=True),
    # The chain (docs/audit-log.md): the writer's shard, the record's number in it, and
    # SHA-256(previous record_hash || canonical bytes) in hex.
    Column("shard", String(40), nullable=True),
    Column("seq", BigInteger, nullable=True),
    Column("record_hash", String(64), nullable=True),
    UniqueConstraint("shard", "seq"),
    Index("ix_audit_records_service_created", "service_id", "created_at"),
    Index("ix_audit_records_subject_created", "subject_hash", "created_at"),
    Index("ix_audit_records_created", "created_at", "id"),  # migration 0011
)

# Signed checkpoints over the audit chains (docs/audit-log.md); `body` is the signed bytes.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column(
        "number",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Column("checkpoint_hash", String(64), nullable=False),
    Column("key_id", String(80), nullable=False),
    Column("signature", String(100), nullable=False),
)

# One row per audit chain: each writer process starts its own when it first writes.
audit_shards = Table(
    "audit_shards",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("host", String(120), nullable=False),
    Column("pid", Integer, nullable=False),
    # Whether its writer signs its head (migration 0014; docs/audit-log.md, "Signed heads").
    Column("signs_heads", Boolean, nullable=True),
)

# A live writer's heartbeat (its lease): the next start closes the shard of a writer whose
# heartbeat is older than PANJEREH_AUDIT_LEASE_SECONDS.  Not part of the log: updated.
audit_leases = Table(
    "audit_leases",
    metadata,
    Column("shard", String(40), primary_key=True),
    Column("heartbeat_at", UTCDateTime, nullable=False),
)

# A shard's head as its writer signed it (panjereh.audit.heads): at most every
# PANJEREH_AUDIT_HEAD_SECONDS while records come in, and a closing one when the shard closes.
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("shard", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("head", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closing", Boolean, nullable=False),
    Column("closed_by", String(40), nullable=True),  # the shard whose writer closed it
    Column("key_id", String(80), nullable=False),
    Column("signature", String(100), nullable=False),
    Index("ix_audit_heads_shard_seq", "shard", "seq"),
)

# Months of audit records exported to a signed archive and then detached (docs/audit-log.md,
# "Volume and retention"): per shard the archived range and the head at the cut, which is
# where `panjereh audit verify` starts that shard's chain in the live log; `boundary` holds
# the chain hashes of archived records that checkpoints still partly covering live records
# need for their Merkle roots.  On PostgreSQL audit_records is partitioned by month
# (migration 0010), with created_at added to its primary key and unique constraints.
audit_archives = Table(
    "audit_archives",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("month", String(7), nullable=False, unique=True),  # YYYY-MM (UTC)
    Column("file_sha256", String(64), nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("ranges", JSONValue, nullable=False),  # shard -> [first seq, last seq]
    Column("cuts", JSONValue, nullable=False),  # shard -> [last seq, head hash hex]
    Column("boundary", JSONValue, nullable=False),  # shard -> {seq: hash hex}
    Column("key_id", String(80), nullable=False),
    Column("signature", String(100), nullable=False),
    Column("kept_as", String(63), nullable=True),  # the detached table kept with --keep
    Column("detached_at", UTCDateTime, nullable=False),
)


# The citizen view (docs/audit-log.md, "Citizen view") -----------------------------------------

# A citizen's portal session: the cookie holds a random id, only its SHA-256 is stored, with
# the subject hashes the citizen's records are kept under (never the national code).
citizen_sessions = Table(
    "citizen_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("subject_hashes", JSONValue, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("method", String(32), nullable=False),  # how it was opened: "development", ...
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# A record a citizen flagged as suspicious, for an operator to look into.
audit_cases = Table(
    "audit_cases",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("exchange_id", String(36), nullable=False, index=True),
    Column("subject_hash", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(160), nullable=True),
    Column("resolution", Text, nullable=True),
    Index("ix_audit_cases_status_opened", "status", "opened_at"),
    # At most one open case per record and citizen.
    Index(
        "uq_audit_cases_open",
        "exchange_id",
        "subject_hash",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
)

# One row per record withheld from a citizen's view (a confidential grant), per view.
audit_withholdings = Table(
    "audit_withholdings",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("withheld_at", UTCDateTime, nullable=False, index=True),
    Column("subject_hash", String(64), nullable=False),
    Column("exchange_id", String(36), nullable=False, index=True),
    Column("grant_id", Integer, nullable=False),
    Column("disclosure_date", Date, nullable=True),
    Column("consumer", String(140), nullable=True),
    Column("service_id", String(160), nullable=True),
)

# The audit stream export's cursor (docs/audit-log.md, "Stream export"): per shard, the last
# sequence number JetStream acknowledged.  Not an audit table: it moves forward by UPDATE.
audit_outbox = Table(
    "audit_outbox",
    metadata,
    Column("shard", String(40), primary_key=True),
    Column("published_seq", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The kept bodies of inquiries to services with keep_payloads, AES-256-GCM sealed
# (docs/audit-log.md, "Privacy"); written in the transaction of their records.
audit_payloads = Table(
    "audit_payloads",
    metadata,
    Column("exchange_id", String(36), primary_key=True),
    Column("kind", String(8), primary_key=True),  # request or response
    Column("key_id", String(64), nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
)

# The head of each control-plane event stream: writers lock its row, so events are numbered
# and chained one after another even with several workers.
event_stream_heads = Table(
    "event_stream_heads",
    metadata,
    Column("stream", String(40), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
)
