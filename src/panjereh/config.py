"""Typed settings for every Panjereh process.

One `Settings` object is built at start-up (environment variables ``PANJEREH_*``, secrets from
``PANJEREH_<NAME>_FILE``, an optional TOML file named by ``PANJEREH_CONFIG``) and passed
explicitly to whatever needs it; nothing reads the environment after that.  A bad value stops
the process with a message that names the setting, never with a traceback.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import os
import re
import secrets
import tempfile
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from panjereh.audit.payloads import PayloadKeys
from panjereh.audit.subjects import PEPPER_KEY_ID, SubjectKeys, pepper_key
from panjereh.domain.errors import PanjerehError

ENV_PREFIX = "PANJEREH_"
KEY_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class Environment(StrEnum):
    """Where a process runs; demo credentials and development sign-in exist only in development."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"


class ConfigError(PanjerehError):
    """A setting is missing or has a bad value; the message names the setting."""


class Settings(BaseSettings):
    """Every setting of a Panjereh process.  See docs/configuration.md for each one."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    env: Environment = Field(
        default=Environment.PRODUCTION,
        description="production (default) or development; development enables demo data.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the embedded database, keys and generated secrets.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy async URL; default sqlite+aiosqlite:///<data_dir>/panjereh.db. "
            "Use postgresql+asyncpg://... for PostgreSQL."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server listens on.")
    public_url: str | None = Field(
        default=None,
        description="Base URL people and agencies use; default http://<host>:<port>.",
    )
    api_key_pepper: SecretStr | None = Field(
        default=None,
        description=(
            "Server-side secret mixed into every API-key hash (HMAC-SHA256). Required in "
            "production; generated under <data_dir>/secrets/ in development."
        ),
    )
    allow_private_endpoints: bool = Field(
        default=False,
        description=(
            "Development only: provider endpoints on loopback and private addresses, and plain "
            "http, without an operator's record on the agency (the demo and tests need it; "
            "metadata and the platform's own servers stay refused; never in production)."
        ),
    )
    simulator: bool | None = Field(
        default=None,
        description=(
            "Mount the simulated agencies under /simulator/ in the same process; "
            "default: on in development, off in production."
        ),
    )
    simulator_seed: int = Field(
        default=1405, description="Seed of the synthetic population (deterministic)."
    )
    provider_timeout: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="Default seconds to wait for a provider when a service sets none.",
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest inquiry body the exchange accepts.",
    )
    audit_batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Most audit records in one commit."
    )
    audit_commit_delay_ms: float = Field(
        default=1.0,
        ge=0,
        le=50,
        description=(
            "How long the audit writer waits for the records of inquiries still in flight "
            "before committing a smaller batch (0: commit at once)."
        ),
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0,
        ge=1,
        le=86_400,
        description="How often a signed audit checkpoint is made while records come in.",
    )
    audit_head_seconds: float = Field(
        default=0.25,
        ge=0.01,
        le=60,
        description=(
            "How often, at most, the audit writer signs its shard's head while records come "
            "in (a waiting tail is signed this long after the last head)."
        ),
    )
    audit_lease_seconds: float = Field(
        default=15.0,
        ge=1,
        le=3600,
        description=(
            "An audit writer without a heartbeat for this long is gone: the next start closes "
            "its shard from its last signed head."
        ),
    )
    audit_publish_dir: Path | None = Field(
        default=None,
        description=(
            "Append-only folder where each signed audit head and checkpoint is also written as "
            "it is made (one JSON line, fsynced), for a second party to collect."
        ),
    )
    # Audit privacy (docs/audit-log.md, "Privacy") -------------------------------------------
    audit_subject_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key of the subjects' HMAC in the audit log: base64 of at least 32 random bytes "
            "(openssl rand -base64 32). Required in production; development derives one from "
            "the pepper. Needs PANJEREH_AUDIT_SUBJECT_KEY_ID."
        ),
    )
    audit_subject_key_id: str | None = Field(
        default=None,
        pattern=KEY_ID_PATTERN,
        description="Id of PANJEREH_AUDIT_SUBJECT_KEY (e.g. subject-2026-12), for rotation.",
    )
    audit_subject_previous_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Older subject keys still used to find records written before a rotation: "
            "comma-separated id:base64 entries (the entry `pepper` alone means the key "
            "derived from the pepper)."
        ),
    )
    audit_payload_key: SecretStr | None = Field(
        default=None,
        description=(
            "AES-256-GCM key for the request and response bodies of services that keep "
            "them: base64 of exactly 32 random bytes. Needs PANJEREH_AUDIT_PAYLOAD_KEY_ID."
        ),
    )
    audit_payload_key_id: str | None = Field(
        default=None,
        pattern=KEY_ID_PATTERN,
        description="Id of PANJEREH_AUDIT_PAYLOAD_KEY, stored with every sealed body.",
    )
    audit_payload_previous_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Older payload keys still used to read bodies sealed before a rotation: "
            "comma-separated id:base64 entries."
        ),
    )
    usage_flush_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How often usage fields (an API key's last use) are written to the database.",
    )
    max_in_flight: int = Field(
        default=1024,
        ge=1,
        le=1_000_000,
        description=(
            "Inquiries one worker handles at once; beyond it the exchange answers 503 "
            "overloaded with Retry-After instead of queueing."
        ),
    )
    # What one client may make a server process hold (docs/operations.md, "Slow and large
    # requests"); enforced by the HTTP protocol of `panjereh serve` (web/http_guard.py).
    http_max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        le=1_048_576,
        description=(
            "Largest request line and header fields of one request, in bytes; beyond it the "
            "server answers 431 and closes the connection."
        ),
    )
    http_max_headers: int = Field(
        default=100,
        ge=8,
        le=10_000,
        description="Most header fields in one request; beyond it 431 and the connection closed.",
    )
    http_header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description=(
            "Seconds a client has to send a request's whole header, from its connection (the "
            "first request) or its first byte (the next ones); then 408 and closed."
        ),
    )
    http_body_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "Seconds a client has to send a request's whole body once its header is in "
            "(time the server itself holds reading back does not count); then 408 and closed."
        ),
    )
    http_keep_alive: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds an idle kept-alive connection stays open between requests.",
    )
    http_max_receiving: int = Field(
        default=512,
        ge=1,
        le=100_000,
        description=(
            "Connections one worker lets send a request at once (still sending the header or "
            "the body, a new connection included); a new one beyond it is answered 503 "
            "overloaded with Retry-After and closed."
        ),
    )
    provider_concurrency: int = Field(
        default=128,
        ge=1,
        le=100_000,
        description="Inquiries in flight to one provider system at once (its bulkhead).",
    )
    provider_attempts: int = Field(
        default=2,
        ge=1,
        le=5,
        description=(
            "Tries per inquiry to an idempotent service on a transport failure or 502/503/504, "
            "within its timeout and a retry budget of 20% (1 = never retry)."
        ),
    )
    keys_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the exchange's Ed25519 signing keys (created by `panjereh db upgrade` "
            "or the first start, mode 0600); default <data_dir>/keys."
        ),
    )
    exchange_signing_key: SecretStr | None = Field(
        default=None,
        description=(
            "The exchange's active Ed25519 private key as PKCS#8 PEM, instead of the keys "
            "folder (workers on several machines); needs PANJEREH_EXCHANGE_SIGNING_KEY_ID."
        ),
    )
    exchange_signing_key_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="Key id published for PANJEREH_EXCHANGE_SIGNING_KEY.",
    )
    redis_url: str | None = Field(
        default=None,
        description=(
            "redis://host:port/db for rate limits, quotas, X-Request-Id replays and the "
            "response cache shared by several workers; required with --workers > 1."
        ),
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Server processes on one port; more than 1 needs PostgreSQL and Redis.",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description=(
            "Addresses (IP or CIDR, comma-separated) of reverse proxies that verify callers "
            "themselves (e.g. mutual TLS) and pass the system in X-Verified-Client-System; "
            "empty (default): off."
        ),
    )
    trusted_forwarders: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description=(
            "Addresses (IP or CIDR, comma-separated) of reverse proxies whose X-Forwarded-For "
            "names the client (sign-in throttle, /metrics); empty (default): the socket's peer."
        ),
    )
    staff_totp_required: bool = Field(
        default=False,
        description=(
            "Staff (operators, auditors, agency admins) must use a TOTP code at sign-in; one "
            "without it is sent to enrolment and can do nothing else until enrolled."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token /metrics requires when set; unset, /metrics answers only requests "
            "from a loopback address."
        ),
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the server."
    )
    # The audit stream export (docs/audit-log.md, "Stream export").
    nats_url: str | None = Field(
        default=None,
        description=(
            "nats://host:port (comma-separated for a cluster) of a NATS server with JetStream; "
            "when set, every audit record is also published to the stream PANJEREH_NATS_STREAM."
        ),
    )
    nats_stream: str = Field(
        default="PANJEREH_AUDIT",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="JetStream stream the audit records go to (created if missing).",
    )
    nats_subject_prefix: str = Field(
        default="panjereh.audit.records",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        max_length=200,
        description="Records are published on <prefix>.<shard>; the stream takes <prefix>.>.",
    )
    nats_heads_stream: str = Field(
        default="PANJEREH_AUDIT_HEADS",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description=(
            "JetStream stream the signed audit heads and checkpoints go to (created if "
            "missing), on <PANJEREH_NATS_HEADS_SUBJECT_PREFIX>.heads and .checkpoints."
        ),
    )
    nats_heads_subject_prefix: str = Field(
        default="panjereh.audit",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        max_length=200,
        description="Signed heads go to <prefix>.heads, checkpoints to <prefix>.checkpoints.",
    )
    nats_batch_size: int = Field(
        default=1000,
        ge=1,
        le=4000,  # nats-py keeps at most 4,000 publishes awaiting their acknowledgement
        description="Most records of one shard published before the export's cursor moves.",
    )
    nats_poll_seconds: float = Field(
        default=0.25,
        gt=0,
        le=60,
        description="How often the idle export looks for new audit records.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (an async driver)"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [part.strip() for part in value.split(",")]
        if not all(part.startswith(("nats://", "tls://")) for part in parts):
            raise ValueError("must be nats:// or tls:// URLs, comma-separated")
        return ",".join(parts)

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (use 32+ random)")
        return value

    @field_validator("trusted_proxies", "trusted_forwarders", mode="before")
    @classmethod
    def _networks(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValueError("must be a comma-separated list of IP addresses or networks")  # noqa: TRY004 - pydantic reports ValueError
        found = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            try:
                found.append(str(ipaddress.ip_network(text, strict=False)))
            except ValueError:
                raise ValueError(f"{text!r} is not an IP address or network") from None
        return tuple(found)

    @model_validator(mode="after")
    def _signing_key_has_id(self) -> Settings:
        if (self.exchange_signing_key is None) != (self.exchange_signing_key_id is None):
            raise ValueError(
                "PANJEREH_EXCHANGE_SIGNING_KEY and PANJEREH_EXCHANGE_SIGNING_KEY_ID go together"
            )
        return self

    @field_validator("audit_subject_key", "audit_payload_key")
    @classmethod
    def _base64_key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            exact = KEY_BYTES_PAYLOAD if info.field_name == "audit_payload_key" else None
            decode_key(value.get_secret_value(), exact=exact)
        return value

    @field_validator("audit_subject_previous_keys", "audit_payload_previous_keys")
    @classmethod
    def _key_list(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            exact = KEY_BYTES_PAYLOAD if info.field_name == "audit_payload_previous_keys" else None
            parse_key_list(value.get_secret_value(), exact=exact, allow_pepper=exact is None)
        return value

    @model_validator(mode="after")
    def _audit_keys_have_ids(self) -> Settings:
        for name in ("audit_subject_key", "audit_payload_key"):
            if (getattr(self, name) is None) != (getattr(self, f"{name}_id") is None):
                label = f"{ENV_PREFIX}{name.upper()}"
                raise ValueError(f"{label} and {label}_ID go together")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit arguments, environment, ``*_FILE`` secrets, TOML file."""
        return (
            init_settings,
            env_settings,
            SecretFileSource(settings_cls),
            TomlFileSource(settings_cls),
        )

    # Derived values -------------------------------------------------------------------------

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def simulator_enabled(self) -> bool:
        return self.is_development if self.simulator is None else self.simulator

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'panjereh.db'}"

    @property
    def effective_keys_dir(self) -> Path:
        return self.keys_dir if self.keys_dir is not None else self.data_dir / "keys"

    @property
    def effective_public_url(self) -> str:
        if self.public_url is not None:
            return self.public_url
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::"} else self.host  # noqa: S104
        return f"http://{host}:{self.port}"


class SecretFileSource(PydanticBaseSettingsSource):
    """Reads ``PANJEREH_<NAME>_FILE`` for every secret setting (Docker/Kubernetes secrets)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            if field.annotation not in (SecretStr, SecretStr | None):
                continue
            variable = f"{ENV_PREFIX}{name.upper()}_FILE"
            path = os.environ.get(variable)
            if not path:
                continue
            try:
                found[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(f"{variable}: cannot read {path!r} ({exc.strerror})") from None
        return found


class TomlFileSource(PydanticBaseSettingsSource):
    """Reads the optional TOML file named by ``PANJEREH_CONFIG`` (flat keys, no prefix)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ does the work

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(f"{ENV_PREFIX}CONFIG")
        if not path:
            return {}
        try:
            with Path(path).open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}CONFIG: cannot read {path!r} ({exc.strerror})"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{ENV_PREFIX}CONFIG: {path!r} is not valid TOML ({exc})") from None
        return data


def load_settings(**overrides: Any) -> Settings:
    """Build the settings or raise `ConfigError` naming every bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        label = f"{ENV_PREFIX}{name.upper()}"
        if error["type"] == "extra_forbidden":
            problems.append(f"{label}: unknown setting")
        else:
            problems.append(f"{label}: {error['msg']}")
    return "invalid settings: " + "; ".join(problems)


def setting_names() -> Mapping[str, str]:
    """Environment variable name -> description, for docs and the docs guard test."""
    return {
        f"{ENV_PREFIX}{name.upper()}": field.description or ""
        for name, field in Settings.model_fields.items()
    }


# Audit keys (docs/audit-log.md, "Privacy") ---------------------------------------------------

KEY_BYTES_PAYLOAD = 32
MIN_SUBJECT_KEY_BYTES = 32


def decode_key(text: str, *, exact: int | None) -> bytes:
    """A key given as base64 (standard or URL-safe alphabet, padding optional)."""
    cleaned = text.strip()
    try:
        raw = base64.b64decode(
            cleaned.replace("-", "+").replace("_", "/") + "=" * (-len(cleaned) % 4),
            validate=True,
        )
    except binascii.Error:
        raise ValueError("must be base64 (e.g. from `openssl rand -base64 32`)") from None
    if exact is not None and len(raw) != exact:
        raise ValueError(f"must decode to exactly {exact} bytes (it gives {len(raw)})")
    if exact is None and len(raw) < MIN_SUBJECT_KEY_BYTES:
        raise ValueError(f"must decode to at least {MIN_SUBJECT_KEY_BYTES} bytes")
    return raw


def parse_key_list(
    text: str, *, exact: int | None, allow_pepper: bool
) -> tuple[tuple[str, bytes | None], ...]:
    """``id:base64, id:base64, ...`` (None as the key of the entry ``pepper``)."""
    found: list[tuple[str, bytes | None]] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        if allow_pepper and entry == "pepper":
            found.append(("pepper", None))
            continue
        key_id, colon, key = entry.partition(":")
        if not colon or re.fullmatch(KEY_ID_PATTERN, key_id, re.ASCII) is None:
            raise ValueError("each entry is key-id:base64-key (ids of letters, digits, . _ -)")
        try:
            found.append((key_id, decode_key(key, exact=exact)))
        except ValueError as exc:
            raise ValueError(f"key {key_id!r}: {exc}") from None
    if len({key_id for key_id, _ in found}) != len(found):
        raise ValueError("a key id is listed twice")
    return tuple(found)


def resolve_subject_keys(settings: Settings, pepper: bytes) -> SubjectKeys:
    """The audit log's subject keys: from settings, or (development only) the key derived from
    the pepper, as before this setting existed (so existing hashes stay valid)."""
    previous: list[tuple[str, bytes]] = []
    if settings.audit_subject_previous_keys is not None:
        listed = parse_key_list(
            settings.audit_subject_previous_keys.get_secret_value(), exact=None, allow_pepper=True
        )
        previous = [(key_id, key or pepper_key(pepper)) for key_id, key in listed]
    if settings.audit_subject_key is None or settings.audit_subject_key_id is None:
        if not settings.is_development:
            raise ConfigError(
                f"{ENV_PREFIX}AUDIT_SUBJECT_KEY (or {ENV_PREFIX}AUDIT_SUBJECT_KEY_FILE) and "
                f"{ENV_PREFIX}AUDIT_SUBJECT_KEY_ID are required in production: the key of the "
                "national codes' HMAC in the audit log, base64 of 32+ random bytes "
                "(docs/audit-log.md, Privacy)"
            )
        current = (PEPPER_KEY_ID, pepper_key(pepper))
    else:
        current = (
            settings.audit_subject_key_id,
            decode_key(settings.audit_subject_key.get_secret_value(), exact=None),
        )
    try:
        return SubjectKeys(current[1], key_id=current[0], previous=previous)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}AUDIT_SUBJECT_PREVIOUS_KEYS: {exc}") from None


def resolve_payload_keys(settings: Settings) -> PayloadKeys | None:
    """The keys of kept payloads, or None when no payload key is configured."""
    if settings.audit_payload_key is None or settings.audit_payload_key_id is None:
        return None
    previous: list[tuple[str, bytes]] = []
    if settings.audit_payload_previous_keys is not None:
        listed = parse_key_list(
            settings.audit_payload_previous_keys.get_secret_value(),
            exact=KEY_BYTES_PAYLOAD,
            allow_pepper=False,
        )
        previous = [(key_id, key) for key_id, key in listed if key is not None]
    key = decode_key(settings.audit_payload_key.get_secret_value(), exact=KEY_BYTES_PAYLOAD)
    try:
        return PayloadKeys(key, key_id=settings.audit_payload_key_id, previous=previous)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}AUDIT_PAYLOAD_PREVIOUS_KEYS: {exc}") from None


def resolve_pepper(settings: Settings) -> bytes:
    """The API-key pepper: from settings, or (development only) a generated file.

    In development the file ``<data_dir>/secrets/api-key-pepper`` is created once,
    atomically, with mode 0600, so several processes starting together agree on one value.
    """
    if settings.api_key_pepper is not None:
        value = settings.api_key_pepper.get_secret_value().encode("utf-8")
        if len(value) < 16:
            raise ConfigError(f"{ENV_PREFIX}API_KEY_PEPPER: must be at least 16 characters")
        return value
    if not settings.is_development:
        raise ConfigError(
            f"{ENV_PREFIX}API_KEY_PEPPER (or {ENV_PREFIX}API_KEY_PEPPER_FILE) is required "
            "in production: a random secret of at least 32 characters"
        )
    path = settings.data_dir / "secrets" / "api-key-pepper"
    return _read_or_create_secret(path)


def _read_or_create_secret(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        # Write a complete temporary file, then link it into place: link() fails if the name
        # exists, so exactly one of several racing processes wins and nobody reads half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_urlsafe(32).encode("ascii") + b"\n")
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    value = path.read_bytes().strip()
    if not value:
        raise ConfigError(f"{path} is empty; delete it to generate a new secret")
    return value
