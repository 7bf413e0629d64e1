"""The management API refuses to make a service keep payloads when the server has no key."""

from __future__ import annotations

from panjereh.storage.registry_repo import load_snapshot
from tests.integration.api.conftest import Api


async def test_keep_payloads_without_a_payload_key_is_refused_and_nothing_changes(
    api: Api,
) -> None:
    service = {
        "provider": "civil-registry/population-registry",
        "name_fa": "استعلام وضعیت حیات",
        "name_en": "Alive status inquiry",
        "endpoint_url": "https://api.civil-registry.example/alive",
        "request_schema": {"type": "object"},
        "response_schema": {"type": "object"},
        "keep_payloads": True,
    }
    response = await api.client.put(
        "/api/v1/services/civil-registry.alive.v1",
        json={"service": service, "reason": "keep them"},
        headers=api.auth("operator"),
    )
    assert response.status_code == 422
    assert response.json()["error"] == "service.keep-payloads-without-key"
    snapshot = await load_snapshot(api.app.runtime.engine)
    assert "civil-registry.alive.v1" not in snapshot.services
