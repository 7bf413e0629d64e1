"""The management API refuses a JSON body that repeats a key, in its own 422 envelope.

Persona: the science ministry's admin, who may ask for a grant for its own system.  A request
whose body says ``purposes`` twice is refused and nothing is stored; said once, it is taken.
"""

from __future__ import annotations

import orjson
import pytest

from panjereh.storage.events_repo import events_for
from tests.integration.api.conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
GRANT = {
    "consumer": "science-ministry/degrees",
    "service": "civil-registry.person.v1",
    "purposes": ["benefit-eligibility"],
    "justification": "Check benefit claims",
    "reason": "a test change",
}


GRANT_REF = "science-ministry/degrees -> civil-registry.person.v1"


async def _events(api: Api) -> list[str]:
    """The registry events of the grant asked for (each change of a grant makes one)."""
    async with api.app.runtime.engine.connect() as conn:
        return [e.action for e in await events_for(conn, "grant", GRANT_REF)]


async def test_a_grant_request_that_says_a_key_twice_is_refused_and_not_stored(
    api: Api,
) -> None:
    body = orjson.dumps(GRANT)[:-1] + b',"purposes":["law-enforcement"]}'
    response = await api.client.post(
        "/api/v1/grants",
        content=body,
        headers=api.auth("stranger") | {"content-type": "application/json"},
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid-request"
    assert 'the key "purposes"' in problem["detail"]
    assert problem["errors"] == [{"field": "body", "message": problem["detail"]}]
    assert await _events(api) == []


async def test_the_same_request_saying_each_key_once_is_taken(api: Api) -> None:
    response = await api.client.post("/api/v1/grants", json=GRANT, headers=api.auth("stranger"))
    assert response.status_code == 201, response.text
    assert await _events(api) == ["grant.request"]


async def test_a_body_that_is_not_json_is_answered_by_the_route_as_before(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/grants",
        content=b"{not json",
        headers=api.auth("stranger") | {"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "JSON decode error"


@pytest.mark.parametrize(
    "body",
    [b'{"justification": "\xff\xfe"}', b"\xfe\xff\x00{", '{"reason": "ی"}'.encode("utf-16")],
    ids=["latin-1-bytes", "bom-and-bytes", "utf-16"],
)
async def test_a_body_that_is_not_utf8_gets_the_malformed_json_problem(
    api: Api, body: bytes
) -> None:
    malformed = await api.client.post(
        "/api/v1/grants",
        content=b"{not json",
        headers=api.auth("stranger") | {"content-type": "application/json"},
    )
    response = await api.client.post(
        "/api/v1/grants",
        content=body,
        headers=api.auth("stranger") | {"content-type": "application/json"},
    )
    assert response.status_code == malformed.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == malformed.json()["code"] == "invalid-request"
    assert response.json()["errors"][0]["field"] == "body"
    assert await _events(api) == []
