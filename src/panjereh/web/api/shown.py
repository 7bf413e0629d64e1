"""Registry objects as the management API shows them to one person: the field policy
(`panjereh.registry.fields`) applied on output, into response models that the OpenAPI
document describes (a field the policy hides is ``null``; key material has no field at all).

The models carry no validators: what is shown was validated when it came in, and reading it
back must never fail because a rule changed since (docs/domain.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from panjereh.interchange.registry_document import AgencyDoc, Contact, ServiceDoc, SystemDoc
from panjereh.registry.access import Principal
from panjereh.registry.fields import hidden_fields
from panjereh.registry.model import PersonalData, ServiceStatus, Status, SubjectKind, SystemRole

OWNER_ONLY = (
    "Shown to the provider agency's administrators, auditors and operators; null for others "
    '(docs/registry.md, "Field policy").'
)


class ApiKeyView(BaseModel):
    """An API key's metadata: never the key, never its hash."""

    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class SigningKeyView(BaseModel):
    key_id: str
    public_key: str = Field(description="base64url of the 32-byte Ed25519 public key")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class SystemView(BaseModel):
    agency: str
    code: str
    name: str
    roles: list[SystemRole]
    status: Status
    api_keys: list[ApiKeyView]
    signing_keys: list[SigningKeyView]


class SubjectView(BaseModel):
    pointer: str | None
    kind: SubjectKind


class ServiceView(BaseModel):
    id: str
    provider: str | None = Field(description=OWNER_ONLY)
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    endpoint_url: str | None = Field(description=OWNER_ONLY)
    request_schema: dict[str, Any]
    response_schema: dict[str, Any]
    subject: SubjectView
    personal_data: PersonalData
    timeout_ms: int
    cache_ttl_s: int
    idempotent: bool
    status: ServiceStatus
    deprecated_on: date | None
    keep_payloads: bool


def _blanked(data: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    return {k: None if k in hidden else v for k, v in data.items()}


def service_view(doc: ServiceDoc, who: Principal) -> ServiceView:
    hidden = hidden_fields(who, "service", owner=doc.agency)
    return ServiceView.model_validate(_blanked(doc.model_dump(), hidden))


def system_view(doc: SystemDoc, _who: Principal) -> SystemView:
    """Whoever may see a system sees all of it but its keys' hashes (which nobody sees)."""
    data = doc.model_dump(exclude={"api_keys": {"__all__": {"key_hash"}}})
    return SystemView.model_validate(data)


def agency_view(doc: AgencyDoc, who: Principal) -> AgencyDoc:
    """The agency with its contacts blanked and its network record left out for whom they do
    not concern (the document's own model: a blank contact and no network are valid)."""
    hidden = hidden_fields(who, "agency", owner=doc.code)
    update: dict[str, object] = {}
    if "contact" in hidden:
        update["contact"] = Contact()
    if "network" in hidden:
        update["network"] = None
    return doc.model_copy(update=update) if update else doc
