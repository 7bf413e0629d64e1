"""The registry document: the whole registry as one YAML/JSON document.

`panjereh registry export` writes it, `panjereh registry import` reads it, the demonstration
government is generated as one.  Field-level rules live in the models (pydantic); rules that
cross objects (references, uniqueness, roles) live in `RegistryDocument.problems`, which names
each problem by its path (``grants[3].service``) so the YAML reader can add the line number.
docs/registry-document.md describes every field.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from panjereh.domain.errors import InvalidValue
from panjereh.domain.identifiers import LegalId, recorded_legal_id
from panjereh.domain.text import normalize
from panjereh.registry.addresses import DEFAULT_POLICY, NetworkPolicy, parse_blocks
from panjereh.registry.endpoints import validate_endpoint_url
from panjereh.registry.model import (
    AgencyKind,
    Delivery,
    GrantStatus,
    PersonalData,
    ServiceStatus,
    Status,
    SubjectKind,
    SystemRole,
    parse_code,
    parse_service_id,
)
from panjereh.registry.schemas import check_pointer, check_schema

_SYSTEM_REF = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*/[a-z0-9]+(?:-[a-z0-9]+)*$", re.ASCII)
_CITIZEN_SERVICE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$", re.ASCII)
_HEX64 = re.compile(r"^[0-9a-f]{64}$", re.ASCII)
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$", re.ASCII)
# Validation context key: the data is read back from storage (see AgencyDoc._legal_id).
STORED = "stored"


def _system_ref(value: str) -> str:
    if len(value) > 129 or not _SYSTEM_REF.fullmatch(value):
        raise ValueError("must be 'agency-code/system-code'")
    return value


def _persian(value: str) -> str:
    return normalize(value)


def _pointer(value: str) -> str:
    return check_pointer(value, "pointer")


Code = Annotated[str, AfterValidator(parse_code)]
ServiceId = Annotated[str, AfterValidator(parse_service_id)]
SystemRef = Annotated[str, AfterValidator(_system_ref)]
PersianText = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_persian)]
EnglishText = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(max_length=4000)]
Pointer = Annotated[str, AfterValidator(_pointer)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Purpose(Strict):
    """A legal basis a consumer may declare for an inquiry."""

    code: Code
    name_fa: PersianText
    name_en: EnglishText
    legal_basis: LongText = ""


class Contact(Strict):
    email: Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None


class NetworkDoc(Strict):
    """Where the agency's provider endpoints may be besides public addresses over https: private
    address blocks (CIDRs) and plain http.  Only an operator sets it (docs/registry.md)."""

    private_blocks: list[str] = []
    allow_http: StrictBool = False

    @field_validator("private_blocks")
    @classmethod
    def _blocks(cls, value: list[str]) -> list[str]:
        return [str(block) for block in parse_blocks(value)]

    @property
    def policy(self) -> NetworkPolicy:
        return NetworkPolicy.parse(" ".join(self.private_blocks), allow_http=self.allow_http)


class AgencyDoc(Strict):
    code: Code
    legal_id: str
    name_fa: PersianText
    name_en: EnglishText
    kind: AgencyKind
    parent: Code | None = None  # the ministry an organization belongs to
    contact: Contact = Contact()
    status: Status = Status.ACTIVE
    network: NetworkDoc | None = None  # None: no private blocks, https only

    @field_validator("network")
    @classmethod
    def _no_empty_network(cls, value: NetworkDoc | None) -> NetworkDoc | None:
        """One way to say "nothing recorded", so equal agencies compare equal."""
        return None if value == NetworkDoc() else value

    @property
    def policy(self) -> NetworkPolicy:
        return self.network.policy if self.network is not None else DEFAULT_POLICY

    @field_validator("legal_id")
    @classmethod
    def _legal_id(cls, value: str, info: ValidationInfo) -> str:
        """Today's rules for what comes in; what is read back from storage was checked when
        it came in, by the rules of its day (`panjereh registry check` lists what today's
        refuse), so reading it never fails."""
        if (info.context or {}).get(STORED):
            return recorded_legal_id(value)
        return LegalId.parse(value).value


class ApiKeyDoc(Strict):
    """An API key as stored: its peppered hash, never the key."""

    prefix: Annotated[str, Field(min_length=4, max_length=16)]
    key_hash: Annotated[str, Field(pattern=_HEX64.pattern)]
    label: Annotated[str, Field(max_length=100)] = ""
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None
    last_used_at: AwareDatetime | None = None


def _ed25519(value: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raise ValueError("must be base64url") from None
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return value


#: A signing key's id: 1 to 64 of A-Z a-z 0-9 . _ - (it is a path segment of the API).
KeyId = Annotated[str, Field(pattern=_KEY_ID.pattern, min_length=1, max_length=64)]
#: An Ed25519 public key: base64url of its 32 raw bytes.
Ed25519PublicKey = Annotated[str, AfterValidator(_ed25519)]


def check_signing_key(key_id: str, public_key: str) -> None:
    """`InvalidValue` naming the field for a key id or public key a `SigningKeyDoc` refuses,
    so a caller hears which field is wrong rather than meeting a model's error."""
    if not _KEY_ID.fullmatch(key_id):
        raise InvalidValue(
            "signing-key.key-id",
            message_en="A key id is 1 to 64 of the characters A-Z a-z 0-9 . _ -",
            message_fa="شناسه کلید ۱ تا ۶۴ نویسه از A-Z a-z 0-9 . _ - است.",
            field="key_id",
        )
    try:
        _ed25519(public_key)
    except ValueError:
        raise InvalidValue(
            "signing-key.public-key",
            message_en="The public key is an Ed25519 key: base64url of its 32 bytes.",
            message_fa="کلید عمومی باید کلید Ed25519 باشد: ۳۲ بایت آن به base64url.",
            field="public_key",
        ) from None


class SigningKeyDoc(Strict):
    """An Ed25519 public key the system signs requests with (RFC 9421)."""

    key_id: KeyId
    public_key: Ed25519PublicKey
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None


class SystemDoc(Strict):
    agency: Code
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    roles: Annotated[list[SystemRole], Field(min_length=1, max_length=2)]
    status: Status = Status.ACTIVE
    api_keys: list[ApiKeyDoc] = []
    signing_keys: list[SigningKeyDoc] = []

    @field_validator("roles")
    @classmethod
    def _sorted_roles(cls, value: list[SystemRole]) -> list[SystemRole]:
        return sorted(set(value))

    @field_validator("api_keys")
    @classmethod
    def _sorted_keys(cls, value: list[ApiKeyDoc]) -> list[ApiKeyDoc]:
        return sorted(value, key=lambda k: k.key_hash)

    @field_validator("signing_keys")
    @classmethod
    def _sorted_signers(cls, value: list[SigningKeyDoc]) -> list[SigningKeyDoc]:
        return sorted(value, key=lambda k: k.key_id)

    @property
    def ref(self) -> str:
        return f"{self.agency}/{self.code}"


class SubjectDoc(Strict):
    """Whom an inquiry is about: a JSON Pointer into the request and what it holds."""

    pointer: Pointer | None = None
    kind: SubjectKind = SubjectKind.NONE

    @model_validator(mode="after")
    def _pointer_iff_kind(self) -> SubjectDoc:
        if (self.pointer is None) != (self.kind is SubjectKind.NONE):
            raise ValueError("a subject has both a pointer and a kind, or neither (kind: none)")
        return self


class ServiceDoc(Strict):
    id: ServiceId
    provider: SystemRef
    name_fa: PersianText
    name_en: EnglishText
    description_fa: LongText = ""
    description_en: LongText = ""
    endpoint_url: str
    request_schema: dict[str, Any]
    response_schema: dict[str, Any]
    subject: SubjectDoc = SubjectDoc()
    personal_data: PersonalData = PersonalData.PERSONAL
    timeout_ms: Annotated[int, Field(ge=100, le=120_000)] = 5000
    cache_ttl_s: Annotated[int, Field(ge=0, le=86_400)] = 0
    idempotent: bool = True
    status: ServiceStatus = ServiceStatus.ACTIVE
    deprecated_on: date | None = None
    # Keep the request and response bodies, AES-256-GCM encrypted (docs/audit-log.md,
    # "Privacy"); needs PANJEREH_AUDIT_PAYLOAD_KEY wherever the registry is changed or served.
    keep_payloads: StrictBool = False

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str, info: ValidationInfo) -> str:
        context = info.context or {}
        if context.get("stored"):  # read back from the database: checked when it came in
            return value
        return validate_endpoint_url(value, allow_private=bool(context.get("allow_private")))

    @field_validator("request_schema", "response_schema")
    @classmethod
    def _schema(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        check_schema(value, str(info.field_name))
        return value

    @property
    def agency(self) -> str:
        return self.id.split(".", 1)[0]


class GrantDoc(Strict):
    consumer: SystemRef
    service: ServiceId
    purposes: Annotated[list[Code], Field(min_length=1)]
    projection: list[Pointer] | None = None  # None: every field of the answer
    rate_limit_per_minute: Annotated[int, Field(gt=0)] | None = None
    daily_quota: Annotated[int, Field(gt=0)] | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    confidential: bool = False
    disclosure_date: date | None = None
    status: GrantStatus = GrantStatus.ACTIVE
    justification: LongText = ""
    requested_by: Annotated[str, Field(max_length=120)] | None = None
    requested_at: AwareDatetime | None = None
    decided_by: Annotated[str, Field(max_length=120)] | None = None
    decided_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _dates(self) -> GrantDoc:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        if self.confidential and self.disclosure_date is None:
            raise ValueError("a confidential grant needs a disclosure_date")
        if not self.confidential and self.disclosure_date is not None:
            raise ValueError("disclosure_date is only for confidential grants")
        return self


class CitizenServiceDoc(Strict):
    """A service an agency offers citizens, however it is delivered today."""

    id: Annotated[str, Field(max_length=160, pattern=_CITIZEN_SERVICE.pattern)]
    agency: Code
    title_fa: PersianText
    title_en: EnglishText
    category: Code
    delivery: Delivery
    inquiries: list[ServiceId] = []


M = TypeVar("M", bound=BaseModel)


def validate_as(model: type[M], data: Mapping[str, Any], *, allow_private: bool) -> M:
    """Validate one object by the document's rules; its first problem as an `InvalidValue`
    (for the API and the registry operations, which report one problem at a time)."""
    try:
        return model.model_validate(data, context={"allow_private": allow_private})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, InvalidValue):
            raise cause from None
        field = ".".join(str(p) for p in error["loc"])
        raise InvalidValue(
            "registry.invalid",
            message_en=f"{field}: {str(error['msg']).removeprefix('Value error, ')}",
            message_fa=f"مقدار {field} معتبر نیست.",
            field=field or None,
        ) from None


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    path: tuple[str | int, ...]
    message: str


def validation_problems(exc: ValidationError) -> Iterator[DocumentProblem]:
    """pydantic's errors as problems, each with its path and its English message."""
    for error in exc.errors(include_url=False):
        cause = error.get("ctx", {}).get("error")
        message = cause.message_en if isinstance(cause, InvalidValue) else str(error["msg"])
        yield DocumentProblem(tuple(error["loc"]), message.removeprefix("Value error, "))


class RegistryDocument(Strict):
    purposes: list[Purpose] = []
    agencies: list[AgencyDoc] = []
    systems: list[SystemDoc] = []
    services: list[ServiceDoc] = []
    grants: list[GrantDoc] = []
    citizen_services: list[CitizenServiceDoc] = []

    def problems(self) -> list[DocumentProblem]:
        """Cross-object rules: unique keys, references that resolve, roles that fit."""
        return list(_cross_checks(self))

    def problems_today(self, *, allow_private: bool) -> list[DocumentProblem]:
        """Every problem today's rules find in this document, read back from storage (where
        each value passed the rules of its day): what ``panjereh registry check`` lists."""
        data = self.model_dump(mode="json")
        try:
            again = RegistryDocument.model_validate(data, context={"allow_private": allow_private})
        except ValidationError as exc:
            return list(validation_problems(exc))
        return again.problems()

    def key_of(self, path: tuple[str | int, ...]) -> str:
        """What names the object at ``path`` (an agency's code, a service's id...)."""
        if len(path) < 2 or not isinstance(path[0], str) or not isinstance(path[1], int):
            return ""
        section = getattr(self, path[0], None)
        if not isinstance(section, list) or not 0 <= path[1] < len(section):
            return ""
        return _key(section[path[1]])


def _key(item: BaseModel) -> str:
    if isinstance(item, SystemDoc):
        return item.ref
    if isinstance(item, GrantDoc):
        return f"{item.consumer} -> {item.service}"
    return str(getattr(item, "code", None) or getattr(item, "id", ""))


def _duplicates(section: str, keys: list[str], field: str) -> Iterator[DocumentProblem]:
    counts = Counter(keys)
    for index, key in enumerate(keys):
        if counts[key] > 1:
            yield DocumentProblem((section, index, field), f"{key!r} appears more than once")


def _cross_checks(doc: RegistryDocument) -> Iterator[DocumentProblem]:
    yield from _duplicates("purposes", [p.code for p in doc.purposes], "code")
    yield from _duplicates("agencies", [a.code for a in doc.agencies], "code")
    yield from _duplicates("agencies", [a.legal_id for a in doc.agencies], "legal_id")
    yield from _duplicates("systems", [s.ref for s in doc.systems], "code")
    yield from _duplicates("services", [s.id for s in doc.services], "id")
    yield from _duplicates(
        "grants", [f"{g.consumer} -> {g.service}" for g in doc.grants], "service"
    )
    yield from _duplicates("citizen_services", [c.id for c in doc.citizen_services], "id")
    agencies = {a.code for a in doc.agencies}
    for i, agency in enumerate(doc.agencies):
        if agency.parent is not None and (
            agency.parent not in agencies or agency.parent == agency.code
        ):
            yield DocumentProblem(("agencies", i, "parent"), f"no other agency {agency.parent!r}")
    systems = {s.ref: s for s in doc.systems}
    for i, system in enumerate(doc.systems):
        if system.agency not in agencies:
            yield DocumentProblem(("systems", i, "agency"), f"no agency {system.agency!r}")
    yield from _check_services(doc, systems)
    yield from _check_grants(doc, systems)
    services = {s.id for s in doc.services}
    for i, citizen in enumerate(doc.citizen_services):
        if citizen.agency not in agencies:
            yield DocumentProblem(
                ("citizen_services", i, "agency"), f"no agency {citizen.agency!r}"
            )
        for j, inquiry in enumerate(citizen.inquiries):
            if inquiry not in services:
                yield DocumentProblem(
                    ("citizen_services", i, "inquiries", j), f"no service {inquiry!r}"
                )


def _check_services(
    doc: RegistryDocument, systems: dict[str, SystemDoc]
) -> Iterator[DocumentProblem]:
    for i, service in enumerate(doc.services):
        provider = systems.get(service.provider)
        if provider is None:
            yield DocumentProblem(("services", i, "provider"), f"no system {service.provider!r}")
        elif SystemRole.PROVIDER not in provider.roles:
            yield DocumentProblem(("services", i, "provider"), "that system is not a provider")
        elif provider.agency != service.agency:
            yield DocumentProblem(
                ("services", i, "id"), "a service id starts with its provider's agency code"
            )


def _check_grants(
    doc: RegistryDocument, systems: dict[str, SystemDoc]
) -> Iterator[DocumentProblem]:
    services = {s.id for s in doc.services}
    purposes = {p.code for p in doc.purposes}
    for i, grant in enumerate(doc.grants):
        consumer = systems.get(grant.consumer)
        if consumer is None:
            yield DocumentProblem(("grants", i, "consumer"), f"no system {grant.consumer!r}")
        elif SystemRole.CONSUMER not in consumer.roles:
            yield DocumentProblem(("grants", i, "consumer"), "that system is not a consumer")
        if grant.service not in services:
            yield DocumentProblem(("grants", i, "service"), f"no service {grant.service!r}")
        for j, purpose in enumerate(grant.purposes):
            if purpose not in purposes:
                yield DocumentProblem(("grants", i, "purposes", j), f"no purpose {purpose!r}")
