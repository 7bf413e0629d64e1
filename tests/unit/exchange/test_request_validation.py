"""Any body at all: the exchange answers 200 or a 400 problem, never a 5xx, and records it once.

The inquiry handler runs whole here (authentication, grant, schema, subject, replay, limits,
signing, audit) with the provider and the audit store in memory, so hypothesis can throw
thousands of bodies at it quickly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.subjects import SubjectKeys
from panjereh.audit.writer import AuditWriter
from panjereh.domain.clock import FixedClock
from panjereh.exchange.cache import MemoryCache
from panjereh.exchange.callers import Authenticator
from panjereh.exchange.idempotency import MemoryIdempotencyStore
from panjereh.exchange.inquiry import InquiryHandler, InquiryReply, InquiryRequest
from panjereh.exchange.keys import load_keys
from panjereh.exchange.limits import MemoryLimiter
from panjereh.exchange.provider import ProviderGateway
from panjereh.exchange.resilience import AdmissionControl
from panjereh.exchange.transport import ProviderReply, ProviderTransport
from panjereh.registry.addresses import DEFAULT_POLICY, NetworkPolicy
from panjereh.registry.credentials import hash_api_key
from panjereh.registry.model import (
    Agency,
    ApiKey,
    Grant,
    GrantStatus,
    Service,
    ServiceStatus,
    Status,
    SubjectKind,
    System,
)
from panjereh.registry.snapshot import RegistrySnapshot, SnapshotHolder

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PEPPER = b"a-pepper-for-the-property-tests!"
KEY = "pnj_property-test-key-000000"
SERVICE_ID = "civil-registry.person.v1"
PATH = f"/exchange/v1/services/{SERVICE_ID}"
SCHEMA = {
    "type": "object",
    "properties": {"national_code": {"type": "string", "maxLength": 20}},
    "required": ["national_code"],
    "additionalProperties": False,
}


class MemoryStore:
    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    async def append(self, records: Sequence[AuditRecord]) -> None:
        self.records.extend(records)


class AnsweringTransport(ProviderTransport):
    """A provider that answers every call at once."""

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float,
        *,
        policy: NetworkPolicy = DEFAULT_POLICY,
        service: str = "",
    ) -> ProviderReply:
        return ProviderReply(200, b'{"alive": true}', "application/json")


def _snapshot() -> RegistrySnapshot:
    provider_agency = Agency(
        1, "civil-registry", "14000000001", "ثبت احوال", "Civil", Status.ACTIVE
    )
    consumer_agency = Agency(2, "social-security", "14000000002", "تامین", "SSO", Status.ACTIVE)
    provider = System(1, provider_agency, "people", "People", Status.ACTIVE)
    consumer = System(2, consumer_agency, "benefits", "Benefits", Status.ACTIVE)
    service = Service(
        id=SERVICE_ID,
        agency=provider_agency,
        provider_system_id=1,
        name_fa="استعلام",
        name_en="Person",
        description_fa="",
        description_en="",
        endpoint_url="http://provider.invalid/person",
        subject_pointer="/national_code",
        subject_kind=SubjectKind.NATIONAL_CODE,
        timeout_ms=1000,
        status=ServiceStatus.ACTIVE,
        request_schema=SCHEMA,
    )
    key = ApiKey(1, 2, hash_api_key(PEPPER, KEY), KEY[:8], None, None)
    grant = Grant(1, 2, SERVICE_ID, GrantStatus.ACTIVE, frozenset({"benefit-eligibility"}))
    return RegistrySnapshot.build(
        version=1,
        agencies=[provider_agency, consumer_agency],
        systems=[provider, consumer],
        services=[service],
        keys=[key],
        grants=[grant],
    )


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


def handler_with(keys_dir: Path) -> tuple[InquiryHandler, AuditWriter, MemoryStore]:
    """An inquiry handler over the one-service snapshot, its audit writer (started) and the
    records' store; the caller stops the writer."""
    clock = FixedClock(NOW)
    registry = SnapshotHolder(_snapshot())
    keys = load_keys(keys_dir, NOW)
    store = MemoryStore()
    audit = AuditWriter(store)
    audit.start()
    handler = InquiryHandler(
        registry=registry,
        authenticator=Authenticator(registry=registry, pepper=PEPPER, clock=clock),
        gateway=ProviderGateway(
            transport=AnsweringTransport(), keys=lambda: keys, default_timeout=1, concurrency=8
        ),
        audit=audit,
        limiter=MemoryLimiter(clock=clock),
        idempotency=MemoryIdempotencyStore(),
        cache=MemoryCache(),
        admission=AdmissionControl(64),
        keys=lambda: keys,
        subjects=SubjectKeys.from_pepper(PEPPER),
        clock=clock,
    )
    return handler, audit, store


async def _ask(keys_dir: Path, bodies: list[bytes]) -> tuple[list[InquiryReply], MemoryStore]:
    handler, audit, store = handler_with(keys_dir)
    headers = {
        "host": "exchange.test",
        "authorization": f"ApiKey {KEY}",
        "content-type": "application/json",
        "x-purpose": "benefit-eligibility",
    }
    try:
        replies = [
            await handler.handle(InquiryRequest(SERVICE_ID, PATH, headers, b)) for b in bodies
        ]
    finally:
        await audit.stop()
    return replies, store


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_bodies = st.one_of(
    st.binary(max_size=64),
    _json.map(orjson.dumps),
    st.dictionaries(st.just("national_code"), st.text(max_size=14) | st.integers()).map(
        orjson.dumps
    ),
    st.from_regex(r"[0-9۰-۹٠-٩ -]{8,14}", fullmatch=True).map(
        lambda code: orjson.dumps({"national_code": code})
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=_bodies)
def test_any_body_is_answered_200_or_400_and_recorded_once(keys_dir: Path, body: bytes) -> None:
    replies, store = asyncio.run(_ask(keys_dir, [body]))
    reply = replies[0]
    assert reply.status in (200, 400), reply.body
    assert len(store.records) == 1
    record = store.records[0]
    assert record.exchange_id == reply.headers["x-exchange-id"]
    assert record.status_code == reply.status
    assert record.outcome is (Outcome.OK if reply.status == 200 else Outcome.INVALID)
    if reply.status == 400:
        problem: dict[str, Any] = orjson.loads(reply.body)
        assert problem["code"] == "invalid-request"
        assert reply.content_type == "application/problem+json"
    assert "signature" in reply.headers


def test_a_valid_subject_in_persian_digits_is_answered(keys_dir: Path) -> None:
    body = orjson.dumps({"national_code": "۳۰۶۶۵۵۷۳۵۹"})
    replies, store = asyncio.run(_ask(keys_dir, [body]))
    assert replies[0].status == 200, replies[0].body
    assert store.records[0].subject_hash is not None
