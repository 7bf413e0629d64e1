"""The management API's errors repeat at most a short excerpt of what they were sent.

Persona: the consumer agency's admin, asking for a grant with a body of absurd field names and
values.  The answers stay small problem+json documents; nothing is stored.
"""

from __future__ import annotations

import pytest

from panjereh.storage.registry_repo import load_snapshot
from tests.integration.api.conftest import Api

HUGE = "a" * 60_000
GRANT = {
    "consumer": "social-security/benefits",
    "service": "civil-registry.person.v1",
    "purposes": ["benefit-eligibility"],
    "justification": "Check benefit claims",
    "reason": "a test change",
}
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _grants(api: Api) -> int:
    return len((await load_snapshot(api.app.runtime.engine)).grants)


async def test_a_60k_unknown_field_name_is_refused_in_under_2_kb(api: Api) -> None:
    before = await _grants(api)
    response = await api.client.post(
        "/api/v1/grants", json=GRANT | {HUGE: 1}, headers=api.auth("consumer")
    )
    assert response.status_code == 422
    assert len(response.content) < 2048, len(response.content)
    problem = response.json()
    assert problem["code"] == "invalid-request"
    assert problem["errors"][0]["field"] == "a" * 99 + "…"
    assert await _grants(api) == before


async def test_thousands_of_refused_fields_give_one_small_answer(api: Api) -> None:
    extra = {f"field-{n}-{'x' * 50}": n for n in range(5_000)}
    response = await api.client.post(
        "/api/v1/grants", json=GRANT | extra, headers=api.auth("consumer")
    )
    assert response.status_code == 422
    assert len(response.content) < 4096, len(response.content)
    problem = response.json()
    assert len(problem["errors"]) == 10
    assert problem["detail"].endswith("…") or "4990 more" in problem["detail"]


async def test_a_60k_purpose_is_refused_in_under_2_kb(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/grants", json=GRANT | {"purposes": [HUGE]}, headers=api.auth("consumer")
    )
    assert response.status_code == 422
    assert len(response.content) < 2048, len(response.content)
