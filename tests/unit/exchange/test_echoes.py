"""Refusals repeat at most 100 characters of what the request sent, on the inquiry handler.

The handler runs whole (tests/unit/exchange/test_request_validation.py builds it) for the
granted consumer's API key; each refusal is a problem+json document under 2 KB, recorded once.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson

from panjereh.audit.records import Outcome
from panjereh.exchange.inquiry import InquiryReply, InquiryRequest
from panjereh.exchange.signatures import CONSUMER_REQUEST, content_digest
from tests.unit.exchange.test_request_validation import KEY, NOW, PATH, SERVICE_ID, handler_with

HUGE = "a" * 60_000


async def _refused(keys_dir: Path, body: bytes, **headers: str) -> dict[str, object]:
    handler, audit, store = handler_with(keys_dir)
    sent = {"host": "exchange.test", "authorization": f"ApiKey {KEY}"}
    sent |= {"x-purpose": "benefit-eligibility"} | headers
    try:
        reply: InquiryReply = await handler.handle(InquiryRequest(SERVICE_ID, PATH, sent, body))
    finally:
        await audit.stop()
    assert reply.status >= 400
    assert len(reply.body) < 2048, len(reply.body)
    assert "a" * 101 not in reply.body.decode()
    (record,) = store.records
    assert record.status_code == reply.status
    assert record.outcome in (Outcome.DENIED, Outcome.INVALID)
    problem: dict[str, object] = orjson.loads(reply.body)
    return problem


async def test_a_60k_purpose_is_repeated_in_100_characters(tmp_path: Path) -> None:
    problem = await _refused(tmp_path, b'{"national_code": "3066557359"}', **{"x-purpose": HUGE})
    assert problem["code"] == "access-denied"
    assert "a" * 99 + "…" in str(problem["detail"])


async def test_a_60k_field_name_the_schema_refuses_is_repeated_in_100_characters(
    tmp_path: Path,
) -> None:
    problem = await _refused(tmp_path, orjson.dumps({"national_code": "3066557359", HUGE: 1}))
    assert problem["code"] == "invalid-request"


async def test_a_60k_value_of_the_wrong_type_is_repeated_in_100_characters(
    tmp_path: Path,
) -> None:
    problem = await _refused(tmp_path, orjson.dumps({"national_code": [HUGE]}))
    assert problem["code"] == "invalid-request"


async def test_a_signature_covering_a_1000_character_component_is_refused_briefly(
    tmp_path: Path,
) -> None:
    name = "a" * 1000  # the longest component name the signature grammar takes
    covered = " ".join(f'"{c.name}"' for c in CONSUMER_REQUEST.components) + f' "{name}"'
    problem = await _refused(
        tmp_path,
        b"{}",
        **{
            "content-digest": content_digest(b"{}"),
            "x-request-id": str(uuid.uuid4()),
            "signature-input": f"sig=({covered});created={int(NOW.timestamp())};"
            'keyid="social-security/benefits/k1";alg="ed25519"',
            "signature": "sig=:" + "A" * 86 + "==:",
        },
    )
    assert (problem["code"], problem["reason"]) == ("unauthenticated", "components")
