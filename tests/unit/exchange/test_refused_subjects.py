"""A refused inquiry's record names its subject (keyed hash) when the caller was
authenticated, the service is known and the body gives a valid subject; otherwise nobody."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.audit.subjects import SubjectKeys
from panjereh.exchange.inquiry import InquiryRequest
from tests.unit.exchange.test_request_validation import (
    KEY,
    PEPPER,
    SERVICE_ID,
    handler_with,
)

CODE = "3066557359"
SUBJECTS = SubjectKeys.from_pepper(PEPPER)


async def _record(
    keys_dir: Path, body: bytes, *, service: str = SERVICE_ID, **headers: str
) -> AuditRecord:
    handler, audit, store = handler_with(keys_dir)
    sent = {"host": "exchange.test", "authorization": f"ApiKey {KEY}", **headers}
    try:
        path = f"/exchange/v1/services/{service}"
        reply = await handler.handle(InquiryRequest(service, path, sent, body))
    finally:
        await audit.stop()
    (record,) = store.records
    assert record.status_code == reply.status
    return record


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


PURPOSE = {"x_purpose": "benefit-eligibility"}


@pytest.mark.parametrize(
    ("body", "headers", "outcome"),
    [
        ({"national_code": CODE}, {}, Outcome.DENIED),  # no purpose declared
        ({"national_code": "٣٠٦٦٥٥٧٣٥٩"}, {"x_purpose": "curiosity"}, Outcome.DENIED),
        ({"national_code": "۳۰۶۶۵۵۷۳۵۹", "extra": 1}, PURPOSE, Outcome.INVALID),
    ],
    ids=["no-purpose", "purpose-not-granted-arabic-digits", "schema-persian-digits"],
)
def test_a_refused_inquiry_with_a_valid_subject_names_it(
    keys_dir: Path, body: dict[str, object], headers: dict[str, str], outcome: Outcome
) -> None:
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    record = asyncio.run(_record(keys_dir, orjson.dumps(body), **named))
    assert (record.outcome, record.subject_hash) == (outcome, SUBJECTS.hash(CODE))


def test_an_unauthenticated_or_unknown_service_or_unreadable_subject_names_nobody(
    keys_dir: Path,
) -> None:
    body = orjson.dumps({"national_code": CODE})
    cases = [
        _record(keys_dir, body, authorization="ApiKey pnj_not-a-key", **{"x-purpose": "p"}),
        _record(keys_dir, body, service="civil-registry.nothing.v1"),
        _record(keys_dir, b"not json", **{"x-purpose": "curiosity"}),
        _record(keys_dir, b'["3066557359"]', **{"x-purpose": "curiosity"}),
        _record(keys_dir, orjson.dumps({"national_code": "3066557358"})),  # check digit
        _record(keys_dir, orjson.dumps({"code": CODE})),
    ]
    records = [asyncio.run(case) for case in cases]
    assert [(r.outcome, r.subject_hash) for r in records] == [
        (Outcome.DENIED, None),
        (Outcome.INVALID, None),
        (Outcome.DENIED, None),
        (Outcome.DENIED, None),
        (Outcome.DENIED, None),
        (Outcome.DENIED, None),
    ]
