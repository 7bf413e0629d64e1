"""Registry values as the data plane sees them: immutable, small, no database in sight."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from panjereh.domain.errors import InvalidValue
from panjereh.registry.addresses import DEFAULT_POLICY, NetworkPolicy

_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
# Also valid ECMA-262 (JSON Schema) syntax: the OpenAPI description reuses it.
SERVICE_ID = re.compile(rf"^{_SLUG}\.{_SLUG}\.v[1-9][0-9]{{0,3}}$", re.ASCII)
CODE = re.compile(rf"^{_SLUG}$", re.ASCII)


class Status(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class ServiceStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


# The statuses an inquiry may be made in (deprecated: still answered, soon retired); what the
# portal lists and counts.
CALLABLE_STATUSES = frozenset({ServiceStatus.ACTIVE, ServiceStatus.DEPRECATED})


class AgencyKind(StrEnum):
    MINISTRY = "ministry"
    ORGANIZATION = "organization"  # a government organization (often under a ministry)
    JUDICIARY = "judiciary"
    POLICE = "police"
    REGULATOR = "regulator"
    COMPANY = "company"  # a state-owned company
    MUNICIPALITY = "municipality"
    OTHER = "other"


class SystemRole(StrEnum):
    CONSUMER = "consumer"
    PROVIDER = "provider"


class PersonalData(StrEnum):
    """How sensitive a service's answers are (drives retention, review and citizen views)."""

    NONE = "none"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"  # health, criminal records, welfare, religion, ...


class GrantStatus(StrEnum):
    PENDING = "pending"  # requested by the consumer agency, awaiting the provider
    ACTIVE = "active"
    REJECTED = "rejected"
    REVOKED = "revoked"
    SUSPENDED = "suspended"


class Delivery(StrEnum):
    """How a citizen service is delivered today; the law tracks electronic and smart shares."""

    IN_PERSON = "in_person"
    ELECTRONIC = "electronic"
    SMART = "smart"  # no human, no visit, any hour: every inquiry automatic


class SubjectKind(StrEnum):
    """What the subject pointer of a service points at (the person or entity asked about)."""

    NATIONAL_CODE = "national_code"
    LEGAL_ID = "legal_id"
    NONE = "none"


def parse_service_id(raw: str) -> str:
    """A service id: ASCII slugs ``{agency_code}.{service}.v{N}``, e.g. civil-registry.person.v1."""
    if not isinstance(raw, str) or len(raw) > 160 or not SERVICE_ID.fullmatch(raw):
        raise InvalidValue(
            "service-id.format",
            message_fa="شناسه خدمت باید به شکل «کد-دستگاه.نام-خدمت.vN» با حروف کوچک لاتین باشد.",
            message_en="A service id looks like {agency_code}.{service}.v{N} in lower-case ASCII.",
            field="service_id",
        )
    return raw


def parse_code(raw: str, field: str = "code") -> str:
    """Agency and system codes are lower-case ASCII slugs (they appear in URLs and ids)."""
    if not isinstance(raw, str) or len(raw) > 64 or not CODE.fullmatch(raw):
        raise InvalidValue(
            f"{field}.format",
            message_fa="کد باید فقط حروف کوچک لاتین، رقم و خط تیره باشد.",
            message_en="A code has only lower-case ASCII letters, digits and dashes.",
            field=field,
        )
    return raw


def credential_usable(
    revoked_at: datetime | None, expires_at: datetime | None, now: datetime
) -> bool:
    """Not revoked by ``now`` and not expired (expiry is exclusive: at ``expires_at`` it stops)."""
    if revoked_at is not None and revoked_at <= now:
        return False
    return expires_at is None or now < expires_at


@dataclass(frozen=True, slots=True)
class Agency:
    id: int
    code: str
    legal_id: str
    name_fa: str
    name_en: str
    status: Status
    kind: AgencyKind = AgencyKind.ORGANIZATION
    parent_id: int | None = None
    network: NetworkPolicy = DEFAULT_POLICY  # where its provider endpoints may be


@dataclass(frozen=True, slots=True)
class System:
    """An agency's information system (X-Road: subsystem), the unit that holds keys and grants."""

    id: int
    agency: Agency
    code: str
    name: str
    status: Status
    roles: frozenset[SystemRole] = frozenset({SystemRole.CONSUMER, SystemRole.PROVIDER})

    @property
    def ident(self) -> str:
        """The system's stable public name, ``agency/system``."""
        return f"{self.agency.code}/{self.code}"

    @property
    def is_active(self) -> bool:
        return self.status is Status.ACTIVE and self.agency.status is Status.ACTIVE


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    system_id: int
    key_hash: str
    prefix: str
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return credential_usable(self.revoked_at, self.expires_at, now)


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    agency: Agency
    provider_system_id: int
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    endpoint_url: str
    subject_pointer: str | None
    subject_kind: SubjectKind
    timeout_ms: int
    status: ServiceStatus
    request_schema: Mapping[str, Any] = field(default_factory=dict)
    response_schema: Mapping[str, Any] = field(default_factory=dict)
    personal_data: PersonalData = PersonalData.PERSONAL
    cache_ttl_s: int = 0
    idempotent: bool = True
    deprecated_on: date | None = None
    keep_payloads: bool = False  # store request and response bodies, encrypted

    @property
    def is_callable(self) -> bool:
        return self.status in CALLABLE_STATUSES


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 public key of a system; several may be valid at once during rotation."""

    id: int
    system_id: int
    key_id: str
    public_key: bytes
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return credential_usable(self.revoked_at, self.expires_at, now)


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    consumer_system_id: int
    service_id: str
    status: GrantStatus
    purposes: frozenset[str] = frozenset()
    projection: tuple[str, ...] | None = None
    rate_limit_per_minute: int | None = None
    daily_quota: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    confidential: bool = False
    disclosure_date: date | None = None

    def in_force_on(self, day: date) -> bool:
        """Active and inside its validity window on ``day``."""
        if self.status is not GrantStatus.ACTIVE:
            return False
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until
