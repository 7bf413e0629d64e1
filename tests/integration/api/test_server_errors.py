"""Input that used to answer a bare "Internal Server Error" (issue 25) gets a clear 4xx problem
in the API's envelope: bad signing keys, integers past what the database stores, and dates at
the ends of the calendar.  Each case is asked with the persona who may make the request, so
only the input is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from panjereh.storage.events_repo import events_for
from tests.integration.api.conftest import Api

SYSTEM = "/api/v1/systems/civil-registry/population-registry"
KEY = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


def _problem(answer: Any, status: int = 422) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    return body


# Signing keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "public_key", "field"),
    [
        ("2026-12", "abc", "public_key"),
        ("2026-12", "not base64 at all!", "public_key"),
        ("2026-12", KEY + "AAAA", "public_key"),
        ("", KEY, "key_id"),
        ("k" * 65, KEY, "key_id"),
        ("bad id/%", KEY, "key_id"),
    ],
)
async def test_a_bad_signing_key_is_refused_naming_its_field_and_nothing_is_stored(
    api: Api, key_id: str, public_key: str, field: str
) -> None:
    answer = await api.client.post(
        f"{SYSTEM}/signing-keys",
        json={"key_id": key_id, "public_key": public_key, "reason": "a new signing key"},
        headers=api.auth("owner"),
    )
    body = _problem(answer)
    assert body["code"] == "invalid-request"
    assert [e["field"] for e in body["errors"]] == [field]
    system = await api.client.get(SYSTEM, headers=api.auth("owner"))
    assert system.json()["signing_keys"] == []
    async with api.app.runtime.engine.connect() as conn:
        events = await events_for(conn, "system", "civil-registry/population-registry")
    assert "signing-key.add" not in [e.action for e in events]


async def test_a_good_signing_key_is_still_taken(api: Api) -> None:
    answer = await api.client.post(
        f"{SYSTEM}/signing-keys",
        json={"key_id": "2026-12", "public_key": KEY, "reason": "a new signing key"},
        headers=api.auth("owner"),
    )
    assert answer.status_code == 201, answer.text
    assert [k["key_id"] for k in answer.json()["signing_keys"]] == ["2026-12"]
