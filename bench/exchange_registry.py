"""The registry the exchange benchmark runs against, as a registry document.

The format is docs/registry-document.md.

Two provider agencies share ``services`` inquiry services (all active, pointing at the stub
upstream), plus a few no consumer holds a grant on (the denied share).  Every consumer system
holds grants on the others for the purposes ``bench-eligibility`` and ``bench-provider-fault``:
the stub answers 500 to any request declaring the latter (forwarded as ``X-Purpose``), so the
injected provider errors are sporadic failures of healthy providers, spread over every
service, not dead services a circuit breaker would rightly close off.  Each consumer has an
API key (generated here, its peppered hash in the document) and an Ed25519 signing key for the
signed callers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from panjereh.domain.identifiers import legal_id_check_digit
from panjereh.interchange.registry_document import (
    AgencyDoc,
    ApiKeyDoc,
    GrantDoc,
    Purpose,
    RegistryDocument,
    ServiceDoc,
    SigningKeyDoc,
    SubjectDoc,
    SystemDoc,
)
from panjereh.registry.credentials import display_prefix, hash_api_key, new_api_key

PURPOSE = "bench-eligibility"
OTHER_PURPOSE = "bench-unrelated"  # declared by the wrong-purpose share of denied requests
FAULT_PURPOSE = "bench-provider-fault"  # the stub answers 500 to requests declaring it
PROVIDERS = ("bench-a", "bench-b")
CONSUMER_AGENCY = "bench-consumers"
CREATED = datetime(2026, 11, 1, tzinfo=UTC)
SCHEMA_VARIANTS = 8  # distinct request schemas (the exchange caches validators per schema)


@dataclass(frozen=True, slots=True)
class Caller:
    """A consumer system and its credentials (the API key and private key exist only here)."""

    ref: str  # agency/system
    api_key: str
    signing_key: Ed25519PrivateKey
    key_id: str

    @property
    def signature_key_id(self) -> str:
        """The RFC 9421 ``keyid``: ``{agency}/{system}/{key_id}``."""
        return f"{self.ref}/{self.key_id}"


@dataclass(frozen=True, slots=True)
class BenchRegistry:
    document: RegistryDocument
    callers: list[Caller]
    services: list[str]  # granted, answered by the stub; the Zipf ranking is this order
    ungranted_services: list[str]  # nobody holds a grant on them


def _legal_id(n: int) -> str:
    """Distinct legal IDs 1400001xxxx…: digits 4-9 never all zero (docs/domain.md)."""
    first_ten = f"{1_400_001_000 + n:010d}"
    return first_ten + legal_id_check_digit(first_ten)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def request_schema(variant: int) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["national_code"],
        "properties": {
            "national_code": {"type": "string", "pattern": "^[0-9]{10}$"},
            "as_of": {"type": "string", "format": "date"},
            "detail": {"type": "string", "enum": ["summary", "full"]},
            "case_reference": {"type": "string", "maxLength": 40 + variant},
        },
        "additionalProperties": False,
    }


RESPONSE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
}


def _service(service_id: str, provider: str, url: str, variant: int) -> ServiceDoc:
    return ServiceDoc.model_validate(
        {
            "id": service_id,
            "provider": f"{provider}/registry",
            "name_fa": f"استعلام آزمایشی {service_id}",
            "name_en": f"Benchmark inquiry {service_id}",
            "endpoint_url": url,
            "request_schema": request_schema(variant),
            "response_schema": RESPONSE_SCHEMA,
            "subject": SubjectDoc(pointer="/national_code", kind="national_code"),
            "timeout_ms": 5000,
            "cache_ttl_s": 0,
        },
        context={"allow_private": True},
    )


def _caller(pepper: bytes, index: int) -> tuple[Caller, SystemDoc]:
    code = f"consumer-{index + 1}"
    ref = f"{CONSUMER_AGENCY}/{code}"
    key = new_api_key()
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    system = SystemDoc(
        agency=CONSUMER_AGENCY,
        code=code,
        name=f"Benchmark consumer {index + 1}",
        roles=["consumer"],
        api_keys=[
            ApiKeyDoc(
                prefix=display_prefix(key),
                key_hash=hash_api_key(pepper, key),
                label="bench",
                created_at=CREATED,
            )
        ],
        signing_keys=[
            SigningKeyDoc(key_id="bench-1", public_key=_b64url(public), created_at=CREATED)
        ],
    )
    return Caller(ref=ref, api_key=key, signing_key=private, key_id="bench-1"), system


def build_registry(
    *, pepper: bytes, upstream: str, services: int, consumers: int, ungranted: int
) -> BenchRegistry:
    """The benchmark's registry; ``upstream`` is the stub's base URL (``http://127.0.0.1:P``)."""
    agencies = [
        AgencyDoc(
            code=code,
            legal_id=_legal_id(n + 1),
            name_fa=f"دستگاه آزمایشی {n + 1}",
            name_en=f"Benchmark agency {code}",
            kind="organization",
        )
        for n, code in enumerate((*PROVIDERS, CONSUMER_AGENCY))
    ]
    systems = [
        SystemDoc(agency=code, code="registry", name=f"{code} registry", roles=["provider"])
        for code in PROVIDERS
    ]
    callers: list[Caller] = []
    for index in range(consumers):
        caller, system = _caller(pepper, index)
        callers.append(caller)
        systems.append(system)
    docs: list[ServiceDoc] = []
    granted: list[str] = []
    for n in range(services):
        provider = PROVIDERS[n % len(PROVIDERS)]
        sid = f"{provider}.inquiry-{n:04d}.v1"
        docs.append(_service(sid, provider, f"{upstream}/{provider}/{n:04d}", n % SCHEMA_VARIANTS))
        granted.append(sid)
    closed = [f"{PROVIDERS[1]}.restricted-{n:02d}.v1" for n in range(ungranted)]
    docs += [_service(s, PROVIDERS[1], f"{upstream}/{PROVIDERS[1]}/r{s}", 0) for s in closed]
    grants = [
        GrantDoc(
            consumer=c.ref,
            service=s,
            purposes=[PURPOSE, FAULT_PURPOSE],
            justification="benchmark",
        )
        for c in callers
        for s in granted
    ]
    document = RegistryDocument(
        purposes=[
            Purpose(code=PURPOSE, name_fa="ارزیابی آزمایشی", name_en="Benchmark eligibility"),
            Purpose(code=OTHER_PURPOSE, name_fa="هدف دیگر", name_en="Unrelated purpose"),
            Purpose(code=FAULT_PURPOSE, name_fa="خطای تزریقی", name_en="Injected provider fault"),
        ],
        agencies=agencies,
        systems=systems,
        services=docs,
        grants=grants,
    )
    return BenchRegistry(document, callers, granted, closed)
