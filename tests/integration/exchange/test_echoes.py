"""What an error repeats from the request is a short excerpt: huge values give small answers.

Persona: the granted consumer (social-security/benefits) with its API key, asking for a
service whose id is 60,000 characters long, over a real socket (the server takes such a path).
Each answer is a problem+json document under 2 KB, the echo is cut at 100 characters and
marked "…", and the refusal is recorded.  The other echoes (purpose, schema errors, signature
components) are tested on the inquiry handler itself: tests/unit/exchange/test_echoes.py.
"""

from __future__ import annotations

import orjson

from panjereh.audit.records import Outcome
from tests.integration.exchange.harness import GRANTED, Platform

HUGE = "a" * 60_000
SMALL = 2048


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
