"""Object-level authorization of the management API, persona by persona.

A stranger can never read or change another agency's systems, keys or grants, and learns
nothing from the answer: it is the same 404 as for an object that does not exist.
"""

from __future__ import annotations

import pytest

from panjereh.storage.events_repo import events_for
from panjereh.storage.registry_repo import load_snapshot
from tests.integration.api.conftest import Api

SYSTEM = "/api/v1/systems/civil-registry/population-registry"
GRANT = "/api/v1/grants/social-security/benefits/civil-registry.person.v1"
REASON = {"reason": "a test change"}


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("owner", 200),
        ("consumer", 404),
        ("stranger", 404),
        ("auditor", 200),
        ("operator", 200),
        ("nobody", 401),
    ],
)
async def test_reading_an_agencys_systems(api: Api, persona: str, status: int) -> None:
    response = await api.client.get(
        "/api/v1/agencies/civil-registry/systems", headers=api.auth(persona)
    )
    assert response.status_code == status
    if status == 200:
        assert [s["code"] for s in response.json()] == ["population-registry"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 201), ("consumer", 404), ("stranger", 404), ("auditor", 403), ("operator", 201)],
)
async def test_issuing_a_key_for_a_system(api: Api, persona: str, status: int) -> None:
    response = await api.client.post(f"{SYSTEM}/api-keys", json=REASON, headers=api.auth(persona))
    assert response.status_code == status, response.text
    snapshot = await load_snapshot(api.app.runtime.engine)
    keys = list(snapshot.keys_by_hash.values())
    assert len(keys) == (1 if status == 201 else 0)
    if status == 201:
        assert response.json()["api_key"].startswith("pnj_")
        assert response.json()["api_key"] not in str(snapshot.keys_by_hash)


async def test_a_stranger_learns_nothing_from_the_error(api: Api) -> None:
    hidden = await api.client.get(SYSTEM, headers=api.auth("stranger"))
    missing = await api.client.get(
        "/api/v1/systems/civil-registry/no-such-system", headers=api.auth("owner")
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert hidden.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("consumer", 200), ("stranger", 404), ("auditor", 200), ("operator", 200)],
)
async def test_reading_a_grant_needs_a_party_to_it(api: Api, persona: str, status: int) -> None:
    response = await api.client.get(GRANT, headers=api.auth(persona))
    assert response.status_code == status
    if status == 200:
        assert response.json()["purposes"] == ["benefit-eligibility"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("consumer", 200), ("stranger", 404), ("auditor", 403), ("operator", 200)],
)
async def test_revoking_a_grant(api: Api, persona: str, status: int) -> None:
    response = await api.client.post(f"{GRANT}/revoke", json=REASON, headers=api.auth(persona))
    assert response.status_code == status, response.text
    snapshot = await load_snapshot(api.app.runtime.engine)
    assert (len(snapshot.grants) == 0) == (status == 200)


async def test_the_onboarding_workflow_request_approve_and_audit(api: Api) -> None:
    request = {
        "consumer": "science-ministry/degrees",
        "service": "civil-registry.person.v1",
        "purposes": ["benefit-eligibility"],
        "projection": ["/first_name", "/last_name"],
        "justification": "Verify graduates' identity",
        "reason": "new scholarship programme",
    }
    asked = await api.client.post("/api/v1/grants", json=request, headers=api.auth("stranger"))
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending"
    assert asked.json()["requested_by"] == "user:stranger"
    path = "/api/v1/grants/science-ministry/degrees/civil-registry.person.v1"
    self_approval = await api.client.post(
        f"{path}/approve", json=REASON, headers=api.auth("stranger")
    )
    assert self_approval.status_code == 403
    pending = await api.client.get("/api/v1/grants?status=pending", headers=api.auth("owner"))
    assert [g["consumer"] for g in pending.json()] == ["science-ministry/degrees"]
    approved = await api.client.post(f"{path}/approve", json=REASON, headers=api.auth("owner"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert approved.json()["decided_by"] == "user:owner"
    again = await api.client.post(f"{path}/approve", json=REASON, headers=api.auth("owner"))
    assert again.status_code == 409
    async with api.app.runtime.engine.connect() as conn:
        history = await events_for(
            conn, "grant", "science-ministry/degrees -> civil-registry.person.v1"
        )
    assert [(e.action, e.actor) for e in history] == [
        ("grant.request", "user:stranger"),
        ("grant.approve", "user:owner"),
    ]
    assert history[1].reason == "a test change"


async def test_a_stranger_cannot_request_a_grant_for_another_agencys_system(api: Api) -> None:
    request = {
        "consumer": "social-security/benefits",
        "service": "civil-registry.person.v1",
        "purposes": ["benefit-eligibility"],
        "justification": "pretending",
        "reason": "pretending",
    }
    response = await api.client.post("/api/v1/grants", json=request, headers=api.auth("stranger"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 403), ("auditor", 403), ("operator", 200)]
)
async def test_only_an_operator_suspends_an_agency(api: Api, persona: str, status: int) -> None:
    response = await api.client.post(
        "/api/v1/agencies/social-security/suspend", json=REASON, headers=api.auth(persona)
    )
    assert response.status_code == status
    snapshot = await load_snapshot(api.app.runtime.engine)
    agency = next(a for a in snapshot.agencies.values() if a.code == "social-security")
    assert (agency.status.value == "suspended") == (status == 200)


async def test_only_an_operator_records_an_agencys_private_blocks(api: Api) -> None:
    body = {
        "private_blocks": ["10.20.0.0/16"],
        "allow_http": True,
        "reason": "provider on the agency's VPN (ticket 4711)",
    }
    path = "/api/v1/agencies/civil-registry/network"
    # The agency's own admin may not widen where the exchange goes, nor may anyone else.
    for persona, status in (
        ("nobody", 401),
        ("stranger", 403),
        ("consumer", 403),
        ("auditor", 403),
        ("owner", 403),
        ("operator", 200),
    ):
        response = await api.client.put(path, json=body, headers=api.auth(persona))
        assert response.status_code == status, (persona, response.text)
        snapshot = await load_snapshot(api.app.runtime.engine)
        agency = next(a for a in snapshot.agencies.values() if a.code == "civil-registry")
        async with api.app.runtime.engine.connect() as conn:
            history = await events_for(conn, "agency", "civil-registry")
        changes = [e for e in history if e.action == "agency.network"]
        if status != 200:
            assert response.headers["content-type"] == "application/problem+json"
            assert agency.network.private_blocks == ()
            assert changes == []
    assert response.json()["network"] == {"private_blocks": ["10.20.0.0/16"], "allow_http": True}
    assert [str(b) for b in agency.network.private_blocks] == ["10.20.0.0/16"]
    assert agency.network.allow_http
    [event] = changes
    assert event.actor == "user:operator"
    assert event.reason == "provider on the agency's VPN (ticket 4711)"
    assert event.before is not None
    assert event.before["network"] is None
    assert event.after is not None
    assert event.after["network"] == {"private_blocks": ["10.20.0.0/16"], "allow_http": True}
    # Another agency's internal network is not a stranger's business.
    for persona, sees in (("owner", True), ("auditor", True), ("stranger", False)):
        one = await api.client.get("/api/v1/agencies/civil-registry", headers=api.auth(persona))
        every = await api.client.get("/api/v1/agencies", headers=api.auth(persona))
        listed = next(a for a in every.json() if a["code"] == "civil-registry")
        assert (one.json()["network"] is not None) is sees, persona
        assert (listed["network"] is not None) is sees, persona


async def test_a_private_endpoint_fits_only_inside_the_agencys_blocks(api: Api) -> None:
    service = {
        "provider": "civil-registry/population-registry",
        "name_fa": "استعلام وضعیت حیات",
        "name_en": "Alive status inquiry",
        "endpoint_url": "https://10.20.3.4/alive",
        "request_schema": {"type": "object"},
        "response_schema": {"type": "object"},
    }
    path = "/api/v1/services/civil-registry.alive.v1"
    body = {"service": service, "reason": "new service"}
    refused = await api.client.put(path, json=body, headers=api.auth("owner"))
    not_private = await api.client.put(
        "/api/v1/agencies/civil-registry/network",
        json={"private_blocks": ["169.254.0.0/16"], "reason": "its VPN"},
        headers=api.auth("operator"),
    )
    recorded = await api.client.put(
        "/api/v1/agencies/civil-registry/network",
        json={"private_blocks": ["10.20.0.0/16"], "reason": "its VPN"},
        headers=api.auth("operator"),
    )
    accepted = await api.client.put(path, json=body, headers=api.auth("owner"))
    plain = await api.client.put(
        path,
        json=body | {"service": service | {"endpoint_url": "http://10.20.3.4/alive"}},
        headers=api.auth("owner"),
    )

    assert refused.status_code == 422
    assert refused.json()["error"] == "endpoint-url.private"
    assert not_private.status_code == 422
    assert not_private.json()["error"] == "network.block-not-private"
    assert not_private.json()["detail_fa"]
    assert recorded.status_code == 200
    assert accepted.status_code == 200, accepted.text
    assert plain.status_code == 422
    assert plain.json()["error"] == "endpoint-url.http"
    snapshot = await load_snapshot(api.app.runtime.engine)
    assert snapshot.services["civil-registry.alive.v1"].endpoint_url == "https://10.20.3.4/alive"


async def test_an_owner_registers_a_service_but_not_for_another_agency(api: Api) -> None:
    service = {
        "provider": "civil-registry/population-registry",
        "name_fa": "استعلام وضعیت حیات",
        "name_en": "Alive status inquiry",
        "endpoint_url": "https://api.civil-registry.example/alive",
        "request_schema": {"type": "object"},
        "response_schema": {"type": "object"},
        "subject": {"pointer": "/national_code", "kind": "national_code"},
    }
    body = {"service": service, "reason": "new service"}
    made = await api.client.put(
        "/api/v1/services/civil-registry.alive.v1", json=body, headers=api.auth("owner")
    )
    assert made.status_code == 200, made.text
    foreign = await api.client.put(
        "/api/v1/services/civil-registry.alive.v2", json=body, headers=api.auth("stranger")
    )
    assert foreign.status_code == 404
    listing = await api.client.get("/api/v1/services?search=حیات", headers=api.auth("stranger"))
    assert [s["id"] for s in listing.json()] == ["civil-registry.alive.v1"]


async def test_a_private_endpoint_is_refused(api: Api) -> None:
    service = {
        "provider": "civil-registry/population-registry",
        "name_fa": "الف",
        "name_en": "A",
        "endpoint_url": "http://169.254.169.254/latest/meta-data",
        "request_schema": {"type": "object"},
        "response_schema": {"type": "object"},
    }
    response = await api.client.put(
        "/api/v1/services/civil-registry.meta.v1",
        json={"service": service, "reason": "try"},
        headers=api.auth("operator"),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "endpoint-url.private"


async def test_allowed_lists_the_callers_granted_services(api: Api) -> None:
    mine = await api.client.get("/api/v1/services?allowed=true", headers=api.auth("consumer"))
    assert [s["id"] for s in mine.json()] == ["civil-registry.person.v1"]
    none = await api.client.get("/api/v1/services?allowed=true", headers=api.auth("stranger"))
    assert none.json() == []


async def test_a_services_openapi_carries_its_schemas(api: Api) -> None:
    response = await api.client.get(
        "/api/v1/services/civil-registry.person.v1/openapi.json", headers=api.auth("stranger")
    )
    assert response.status_code == 200
    operation = response.json()["paths"]["/exchange/v1/services/civil-registry.person.v1"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {"type": "object"}


async def test_the_api_describes_itself_in_openapi_3_1(api: Api) -> None:
    response = await api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "x-access" in operation, f"{method.upper()} {path} declares no access"
