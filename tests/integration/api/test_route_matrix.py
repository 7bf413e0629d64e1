"""Every management-API route × every persona: the answer, and nothing stored when refused.

Personas go from the least to the most privileged, so the refusals happen before the change
that succeeds; a status given as a set allows "done already" (409) after an earlier success.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from panjereh.config import Environment, Settings
from panjereh.domain.clock import SystemClock
from panjereh.interchange.registry_document import RegistryDocument
from panjereh.storage.document_repo import export_document
from panjereh.web.api.app import create_api
from panjereh.web.runtime import Runtime
from tests.integration.api.conftest import Api

ORDER = ("nobody", "stranger", "consumer", "auditor", "owner", "operator")
R = {"reason": "matrix test"}
SYSTEM = "/api/v1/systems/civil-registry/population-registry"
GRANT = "/api/v1/grants/social-security/benefits/civil-registry.person.v1"
PENDING = "/api/v1/grants/science-ministry/degrees/civil-registry.person.v1"
ALL_READ = {"stranger": 200, "consumer": 200, "auditor": 200, "owner": 200, "operator": 200}
OPERATOR_ONLY = {"stranger": 403, "consumer": 403, "auditor": 403, "owner": 403, "operator": 200}
OWNER_WRITES = {"stranger": 404, "consumer": 404, "auditor": 403, "owner": 201, "operator": 201}
OWNER_READS = {"stranger": 404, "consumer": 404, "auditor": 200, "owner": 200, "operator": 200}
NEW_AGENCY = {
    "code": "tehran-municipality",
    "legal_id": "14009876545",
    "name_fa": "شهرداری تهران",
    "name_en": "Tehran Municipality",
    "kind": "municipality",
}
SERVICE = {
    "provider": "civil-registry/population-registry",
    "name_fa": "استعلام وضعیت حیات",
    "name_en": "Alive status inquiry",
    "endpoint_url": "https://api.civil-registry.example/alive",
    "request_schema": {"type": "object"},
    "response_schema": {"type": "object"},
}
SIGNING_KEY = {"key_id": "2026-11", "public_key": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
REQUEST = {
    "consumer": "science-ministry/degrees",
    "service": "civil-registry.person.v1",
    "purposes": ["benefit-eligibility"],
    "justification": "graduates' identity",
}
NO_CITIZEN = {"stranger": 401, "consumer": 401, "auditor": 401, "owner": 401, "operator": 401}
PURPOSE = {"code": "research", "name_fa": "پژوهش", "name_en": "Research"}


@dataclass
class Case:
    method: str
    path: str
    expect: Mapping[str, int | set[int]]
    body: dict[str, Any] | None = None
    setup: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def merged(
    base: Mapping[str, int | set[int]], **changes: int | set[int]
) -> dict[str, int | set[int]]:
    return {**base, **changes}


CASES = [
    Case("GET", "/api/v1/me", ALL_READ),
    Case("GET", "/api/v1/agencies", ALL_READ),
    Case(
        "POST", "/api/v1/agencies", merged(OPERATOR_ONLY, operator=201), R | {"agency": NEW_AGENCY}
    ),
    Case("GET", "/api/v1/agencies/civil-registry", ALL_READ),
    Case("POST", "/api/v1/agencies/social-security/suspend", OPERATOR_ONLY, R),
    Case("POST", "/api/v1/agencies/social-security/reactivate", OPERATOR_ONLY, R),
    Case(
        "PUT",
        "/api/v1/agencies/civil-registry/network",
        OPERATOR_ONLY,
        R | {"private_blocks": ["10.20.0.0/16"], "allow_http": False},
    ),
    Case("GET", "/api/v1/agencies/civil-registry/systems", OWNER_READS),
    Case(
        "POST",
        "/api/v1/agencies/civil-registry/systems",
        merged(OWNER_WRITES, operator=409),
        R | {"code": "archive", "name": "Archive", "roles": ["provider"]},
    ),
    Case("GET", SYSTEM, OWNER_READS),
    Case("POST", f"{SYSTEM}/suspend", OPERATOR_ONLY, R),
    Case("POST", f"{SYSTEM}/reactivate", OPERATOR_ONLY, R),
    Case("POST", f"{SYSTEM}/api-keys", OWNER_WRITES, R),
    Case("POST", f"{SYSTEM}/api-keys/rotate", OWNER_WRITES, R | {"overlap_seconds": 60}),
    Case(
        "POST",
        f"{SYSTEM}/api-keys/pnj_none/revoke",
        merged(OWNER_WRITES, owner=404, operator=404),
        R,
    ),
    Case("POST", f"{SYSTEM}/signing-keys", merged(OWNER_WRITES, operator=409), R | SIGNING_KEY),
    Case(
        "POST",
        f"{SYSTEM}/signing-keys/none/revoke",
        merged(OWNER_WRITES, owner=404, operator=404),
        R,
    ),
    Case("GET", "/api/v1/services", ALL_READ),
    Case("GET", "/api/v1/services/civil-registry.person.v1", ALL_READ),
    Case("GET", "/api/v1/services/civil-registry.person.v1/openapi.json", ALL_READ),
    Case(
        "PUT",
        "/api/v1/services/civil-registry.alive.v1",
        merged(OWNER_WRITES, owner=200, operator=200),
        R | {"service": SERVICE},
    ),
    Case("GET", "/api/v1/grants", ALL_READ),
    Case(
        "POST",
        "/api/v1/grants",
        {"consumer": 404, "auditor": 403, "owner": 404, "stranger": 201, "operator": 409},
        R | REQUEST,
    ),
    Case("GET", GRANT, merged(ALL_READ, stranger=404)),
    Case(
        "POST",
        f"{PENDING}/approve",
        {"stranger": 403, "consumer": 404, "auditor": 403, "owner": 200, "operator": 409},
        R,
        setup=[("stranger", "POST", "/api/v1/grants", R | REQUEST)],
    ),
    Case(
        "POST",
        f"{PENDING}/reject",
        {"stranger": 403, "consumer": 404, "auditor": 403, "owner": 200, "operator": 409},
        R,
        setup=[("stranger", "POST", "/api/v1/grants", R | REQUEST)],
    ),
    Case(
        "POST",
        f"{GRANT}/revoke",
        {"stranger": 404, "auditor": 403, "consumer": 200, "owner": 409, "operator": 409},
        R,
    ),
    Case("GET", "/api/v1/purposes", ALL_READ),
    Case("POST", "/api/v1/purposes", merged(OPERATOR_ONLY, operator=201), R | {"purpose": PURPOSE}),
    Case("GET", "/api/v1/citizen-services", ALL_READ),
    Case(
        "GET",
        "/api/v1/events?object_type=agency&object_id=civil-registry",
        # 403 as on /audit/events: the role, not the object, is refused (issue 25)
        {"stranger": 403, "consumer": 403, "owner": 403, "auditor": 200, "operator": 200},
    ),
    Case("GET", "/api/v1/audit/checkpoints", {"nobody": 200, **ALL_READ}),
    Case("GET", "/api/v1/audit/records", ALL_READ),  # each its own agency's (test_audit_browse)
    Case(
        "POST",
        "/api/v1/audit/records/search",
        merged(OPERATOR_ONLY, auditor=200),
        {"national_code": "0013542419"},
    ),
    Case("GET", "/api/v1/audit/events", merged(OPERATOR_ONLY, auditor=200)),
    Case(
        "GET",
        "/api/v1/audit/records/0190f3c2-3333-7000-8000-000000000009/proof",
        {"stranger": 404, "consumer": 404, "auditor": 404, "owner": 404, "operator": 404},
    ),
    # The citizen view: a citizen's portal session, never a bearer token (tests/integration/
    # citizen/ has the citizen's own answers).
    Case("GET", "/api/v1/me/session", NO_CITIZEN),
    Case("GET", "/api/v1/me/inquiries", NO_CITIZEN),
    Case(
        "POST",
        "/api/v1/me/inquiries/0190f3c2-3333-7000-8000-000000000009/flag",
        NO_CITIZEN,
        {"reason": "I never asked"},
    ),
    Case(
        "GET",
        "/api/v1/audit/withholdings",
        {"stranger": 403, "consumer": 403, "auditor": 200, "owner": 403, "operator": 200},
    ),
]


def test_the_matrix_covers_every_route_of_the_api(tmp_path: Path) -> None:
    runtime = Runtime.build(
        Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path),
        clock=SystemClock(),
        pepper=b"x" * 32,
    )
    spec = create_api(runtime).openapi()
    uncovered = []
    for template, item in spec["paths"].items():
        pattern = re.compile("/api/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template))
        for method in item:
            if not any(
                c.method == method.upper() and pattern.fullmatch(c.path.split("?")[0])
                for c in CASES
            ):
                uncovered.append(f"{method.upper()} {template}")
    assert uncovered == []
    assert len({c.id for c in CASES}) == len(CASES)


async def _snapshot(api: Api) -> RegistryDocument:
    async with api.app.runtime.engine.connect() as conn:
        return await export_document(conn)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_route_answers_each_persona(api: Api, case: Case) -> None:
    for persona, method, path, body in case.setup:
        done = await api.client.request(method, path, json=body, headers=api.auth(persona))
        assert done.status_code < 300, done.text
    expect: dict[str, int | set[int]] = {"nobody": 401, **case.expect}
    for persona in ORDER:
        before = await _snapshot(api)
        response = await api.client.request(
            case.method, case.path, json=case.body, headers=api.auth(persona)
        )
        allowed = expect[persona]
        statuses = allowed if isinstance(allowed, set) else {allowed}
        assert response.status_code in statuses, (persona, response.status_code, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert await _snapshot(api) == before, f"{persona}'s refused call changed the registry"
