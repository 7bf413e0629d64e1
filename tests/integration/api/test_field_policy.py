"""The field policy on the management API, field by field and persona by persona
(panjereh.registry.fields; docs/registry.md, "Field policy"): who reads a provider's endpoint,
an agency's contacts, API key material; what a suspended agency's administrator may still do.

Stored objects and chained events stay as they are: the policy is applied on output.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from sqlalchemy import select

from panjereh.domain.events import EventOutcome
from panjereh.storage.events_repo import events_for
from panjereh.storage.registry_repo import load_snapshot
from panjereh.storage.tables import api_keys, registry_events
from tests.integration.api.conftest import Api

SERVICE = "/api/v1/services/civil-registry.person.v1"
SYSTEM = "/api/v1/systems/civil-registry/population-registry"
ENDPOINT = "https://api.civil-registry.example/person"
PROVIDER = "civil-registry/population-registry"
REASON = {"reason": "field policy test"}
SIGNING_KEY = {"key_id": "2026-12", "public_key": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}

# Who may see a field of civil-registry's objects: its own admin (also while the agency is
# suspended), auditors and operators; never the consumer holding a grant or a stranger.
# Each test walks every persona it names on one copy of the government (cheaper than one
# copy per persona).
SEES_OWNERS_FIELDS = {
    "owner": True,
    "consumer": False,
    "stranger": False,
    "auditor": True,
    "operator": True,
}


async def _suspend(api: Api, agency: str) -> None:
    answer = await api.client.post(
        f"/api/v1/agencies/{agency}/suspend", json=REASON, headers=api.auth("operator")
    )
    assert answer.status_code == 200, answer.text


async def _issue_key(api: Api) -> str:
    answer = await api.client.post(f"{SYSTEM}/api-keys", json=REASON, headers=api.auth("owner"))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["api_key"])


async def _stored_key_hash(api: Api) -> str:
    async with api.app.runtime.engine.connect() as conn:
        return str((await conn.execute(select(api_keys.c.key_hash))).scalar_one())


# A provider's endpoint and provider system -----------------------------------------------------


async def test_a_services_endpoint_and_provider_are_shown_only_to_whom_they_concern(
    api: Api,
) -> None:
    for persona, sees in SEES_OWNERS_FIELDS.items():
        answer = await api.client.get(SERVICE, headers=api.auth(persona))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["endpoint_url"], body["provider"]) == (
            (ENDPOINT, PROVIDER) if sees else (None, None)
        ), persona
        assert (ENDPOINT in answer.text) is sees
        assert body["name_en"] == "Person inquiry"  # the public facts
        assert body["request_schema"] == {"type": "object"}
    snapshot = await load_snapshot(api.app.runtime.engine)
    assert snapshot.services["civil-registry.person.v1"].endpoint_url == ENDPOINT  # stored


async def test_a_suspended_agencys_admin_reads_its_own_endpoint_and_no_one_elses(
    api: Api,
) -> None:
    await _suspend(api, "science-ministry")  # the stranger's agency
    await _suspend(api, "civil-registry")  # the owner's
    for persona, sees in (("stranger", False), ("owner", True)):
        body = (await api.client.get(SERVICE, headers=api.auth(persona))).json()
        assert (body["endpoint_url"] == ENDPOINT) is sees
        assert (body["provider"] == PROVIDER) is sees


# An agency's contacts --------------------------------------------------------------------------


async def test_an_agencys_contacts_are_shown_only_to_whom_they_concern(api: Api) -> None:
    contact = {"email": "it@civil-registry.example", "phone": "021-1234"}
    changed = await api.client.post(
        "/api/v1/agencies",
        json=REASON
        | {
            "agency": {
                "code": "tehran-municipality",
                "legal_id": "14009876545",
                "name_fa": "شهرداری تهران",
                "name_en": "Tehran Municipality",
                "kind": "municipality",
                "contact": contact,
            }
        },
        headers=api.auth("operator"),
    )
    assert changed.status_code == 201, changed.text
    for persona in SEES_OWNERS_FIELDS:
        headers = api.auth(persona)
        one = await api.client.get("/api/v1/agencies/tehran-municipality", headers=headers)
        listed = await api.client.get("/api/v1/agencies", headers=headers)
        row = next(a for a in listed.json() if a["code"] == "tehran-municipality")
        staff = persona in ("auditor", "operator")  # no admin of the new agency exists
        expected = contact if staff else {"email": None, "phone": None}
        assert one.json()["contact"] == row["contact"] == expected, persona


# API key material ------------------------------------------------------------------------------


async def test_no_system_view_carries_a_key_hash(api: Api) -> None:
    key = await _issue_key(api)
    stored = await _stored_key_hash(api)
    answers = [
        await api.client.get(path, headers=api.auth(persona))
        for persona in ("owner", "auditor", "operator")
        for path in (SYSTEM, "/api/v1/agencies/civil-registry/systems")
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert stored not in answer.text
        assert "key_hash" not in answer.text
        assert key not in answer.text
    (issued,) = answers[0].json()["api_keys"]
    assert issued["prefix"] == key[: len(issued["prefix"])]
    assert set(issued) == {
        "prefix",
        "label",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    }


async def test_key_changes_answer_without_key_material_and_revoking_survives_suspension(
    api: Api,
) -> None:
    key = await _issue_key(api)
    stored = await _stored_key_hash(api)
    signed = await api.client.post(
        f"{SYSTEM}/signing-keys", json=REASON | SIGNING_KEY, headers=api.auth("owner")
    )
    assert signed.status_code == 201, signed.text
    prefix = signed.json()["api_keys"][0]["prefix"]
    await _suspend(api, "civil-registry")  # revoking stays allowed: it only takes access away
    revoked = await api.client.post(
        f"{SYSTEM}/api-keys/{prefix}/revoke", json=REASON, headers=api.auth("owner")
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["api_keys"][0]["revoked_at"] is not None
    for answer in (signed, revoked):
        assert stored not in answer.text
        assert "key_hash" not in answer.text
        assert key not in answer.text


async def test_an_objects_history_blanks_key_hashes_and_the_stored_events_keep_them(
    api: Api,
) -> None:
    await _issue_key(api)
    stored = await _stored_key_hash(api)
    rows = registry_events.c
    query = select(rows.id, rows.before, rows.after, rows.record_hash).where(
        rows.object_type == "system"
    )
    async with api.app.runtime.engine.connect() as conn:
        before_reading = (await conn.execute(query.order_by(rows.id))).all()
    for persona in ("auditor", "operator"):
        answer = await api.client.get(
            "/api/v1/events",
            params={"object_type": "system", "object_id": PROVIDER},
            headers=api.auth(persona),
        )
        assert answer.status_code == 200, answer.text
        assert stored not in answer.text
        issue = next(e for e in answer.json() if e["action"] == "api-key.issue")
        (shown,) = issue["after"]["api_keys"]
        assert shown["key_hash"] == "(not shown)"
        assert shown["prefix"]
    async with api.app.runtime.engine.connect() as conn:
        after_reading = (await conn.execute(query.order_by(rows.id))).all()
        history = await events_for(conn, "system", PROVIDER)
    assert after_reading == before_reading  # byte for byte: the events are chained
    issued = next(e for e in history if e.action == "api-key.issue")
    assert issued.after is not None
    assert issued.after["api_keys"][0]["key_hash"] == stored


# A suspended agency issues no credential -------------------------------------------------------


def _credential_calls() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("api-key.issue", f"{SYSTEM}/api-keys", REASON),
        ("api-key.rotate", f"{SYSTEM}/api-keys/rotate", REASON | {"overlap_seconds": 60}),
        ("signing-key.add", f"{SYSTEM}/signing-keys", REASON | SIGNING_KEY),
    ]


async def test_a_suspended_agencys_admin_issues_no_credential_and_the_refusal_is_audited(
    api: Api,
) -> None:
    await _suspend(api, "civil-registry")
    for _action, path, body in _credential_calls():
        answer = await api.client.post(path, json=body, headers=api.auth("owner"))
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["code"] == "agency-suspended"
        assert "suspended" in problem["detail"]
        assert problem["detail_fa"] == (
            "دستگاه شما تعلیق شده است؛ تا رفع تعلیق، کلید تازه‌ای صادر نمی‌شود."
        )
        assert "api_key" not in problem
    snapshot = await load_snapshot(api.app.runtime.engine)
    assert snapshot.keys_by_hash == {}
    assert snapshot.signing_keys == {}
    async with api.app.runtime.engine.connect() as conn:
        history = await events_for(conn, "system", PROVIDER)
    refused = [e for e in history if e.outcome is EventOutcome.REFUSED]
    assert [(e.action, e.actor, e.reason, e.after) for e in refused] == [
        (action, "user:owner", "field policy test", {"refused": "agency-suspended"})
        for action, _path, _body in _credential_calls()
    ]
    # The other personas get what they always got; an operator may still issue a key.
    for persona, status in (("stranger", 404), ("consumer", 404), ("auditor", 403)):
        answer = await api.client.post(f"{SYSTEM}/api-keys", json=REASON, headers=api.auth(persona))
        assert answer.status_code == status, (persona, answer.text)
    answer = await api.client.post(f"{SYSTEM}/api-keys", json=REASON, headers=api.auth("operator"))
    assert answer.status_code == 201, answer.text
    assert len((await load_snapshot(api.app.runtime.engine)).keys_by_hash) == 1
    async with api.app.runtime.engine.connect() as conn:
        again = await events_for(conn, "system", PROVIDER)
    assert len([e for e in again if e.outcome is EventOutcome.REFUSED]) == len(refused)


# The OpenAPI document describes what the policy makes ------------------------------------------


def _response_schema(spec: dict[str, Any], path: str, method: str, status: str) -> Any:
    content = spec["paths"][path][method]["responses"][status]["content"]
    schema = content["application/json"]["schema"]
    # Its $refs point into the document's components: validate against a root holding them.
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


async def test_the_openapi_document_describes_the_answers_the_policy_shapes(api: Api) -> None:
    await _issue_key(api)
    spec = (await api.client.get("/api/v1/openapi.json")).json()
    public = [
        ("stranger", "/services/{service_id}", SERVICE),
        ("stranger", "/agencies/{code}", "/api/v1/agencies/civil-registry"),
        ("stranger", "/agencies", "/api/v1/agencies"),
    ]
    private = [
        ("owner", "/services/{service_id}", SERVICE),
        ("owner", "/systems/{agency}/{system}", SYSTEM),
        ("owner", "/agencies/{code}/systems", "/api/v1/agencies/civil-registry/systems"),
    ]
    for persona, template, path in public + private:
        answer = await api.client.get(path, headers=api.auth(persona))
        assert answer.status_code == 200, answer.text
        validator = _response_schema(spec, template, "get", "200")
        errors = [e.message for e in validator.iter_errors(answer.json())]
        assert errors == [], (template, errors)
    service = spec["components"]["schemas"]["ServiceView"]["properties"]
    assert {"type": "null"} in service["endpoint_url"]["anyOf"]
    assert "key_hash" not in str(spec["components"]["schemas"]["ApiKeyView"])
