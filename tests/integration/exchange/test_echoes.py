"""What an error repeats from the request is a short excerpt: huge values give small answers.

Persona: the granted consumer (social-security/benefits) with its API key, sending values of
60,000 characters where a few dozen are expected.  Each answer is a problem+json document
under 2 KB, the echo is cut at 100 characters and marked "…", and the refusal is recorded.
"""

from __future__ import annotations

import time
import uuid

import orjson

from panjereh.audit.records import Outcome
from panjereh.exchange.signatures import CONSUMER_REQUEST, content_digest
from tests.integration.exchange.harness import GRANTED, PERSON, Platform

HUGE = "a" * 60_000
SMALL = 2048
REQUIRED = [c.name for c in CONSUMER_REQUEST.components]


def assert_small_problem(body: bytes, code: str) -> dict[str, object]:
    assert len(body) < SMALL, len(body)
    problem: dict[str, object] = orjson.loads(body)
    assert problem["code"] == code
    assert HUGE[:200] not in body.decode()
    return problem


async def test_an_unknown_service_id_of_60k_characters_is_answered_in_under_2_kb(
    sqlite_platform: Platform,
) -> None:
    platform = sqlite_platform
    response = await platform.client.post(
        f"/exchange/v1/services/{HUGE}",
        content=orjson.dumps({"national_code": platform.citizen}),
        headers=platform.headers() | {"content-type": "application/json"},
    )
    assert response.status_code == 404
    problem = assert_small_problem(response.content, "unknown-service")
    assert problem["detail"] == f"There is no service '{'a' * 99}…'."
    assert str(problem["instance"]).endswith("…")
    record = await platform.record(response)
    assert (record.outcome, record.consumer, record.service_id) == (Outcome.INVALID, GRANTED, None)


async def test_the_description_of_an_unknown_60k_service_id_is_answered_in_under_2_kb(
    sqlite_platform: Platform,
) -> None:
    response = await sqlite_platform.client.get(f"/exchange/v1/services/{HUGE}")
    assert response.status_code == 404
    assert_small_problem(response.content, "unknown-service")


async def test_a_60k_purpose_is_refused_in_under_2_kb(sqlite_platform: Platform) -> None:
    platform = sqlite_platform
    response = await platform.ask(purpose=HUGE)
    assert response.status_code == 403
    problem = assert_small_problem(response.content, "access-denied")
    assert "a" * 101 not in str(problem["detail"])
    record = await platform.record(response)
    assert record.outcome is Outcome.DENIED
    assert record.purpose is not None
    assert len(record.purpose) <= 120


async def test_a_60k_field_the_schema_refuses_is_answered_in_under_2_kb(
    sqlite_platform: Platform,
) -> None:
    platform = sqlite_platform
    response = await platform.ask({"national_code": HUGE, HUGE: HUGE})
    assert response.status_code == 400
    assert_small_problem(response.content, "invalid-request")
    assert (await platform.record(response)).outcome is Outcome.INVALID


async def test_a_60k_value_of_the_wrong_type_is_answered_in_under_2_kb(
    sqlite_platform: Platform,
) -> None:
    response = await sqlite_platform.ask({"national_code": [HUGE]})
    assert response.status_code == 400
    assert_small_problem(response.content, "invalid-request")


async def test_a_signature_covering_a_1000_character_component_is_refused_in_under_2_kb(
    sqlite_platform: Platform,
) -> None:
    platform = sqlite_platform
    name = "x" * 1000  # the longest component name the signature grammar takes
    covered = " ".join(f'"{c}"' for c in (*REQUIRED, name))
    headers = platform.headers() | {
        "content-digest": content_digest(b"{}"),
        "x-request-id": str(uuid.uuid4()),
        "signature-input": f"sig=({covered});created={int(time.time())};"
        f'keyid="{GRANTED}/k";alg="ed25519"',
        "signature": "sig=:" + "A" * 86 + "==:",
    }
    response = await platform.client.post(PERSON, content=b"{}", headers=headers)
    assert response.status_code == 401
    problem = assert_small_problem(response.content, "unauthenticated")
    assert problem["reason"] == "components"
    assert "x" * 101 not in str(problem["detail"])
