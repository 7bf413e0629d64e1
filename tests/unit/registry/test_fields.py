"""The field policy's rules, persona by persona (the API and the operator area apply them:
tests/integration/api/test_field_policy.py, tests/integration/operator/test_pages.py)."""

from __future__ import annotations

from typing import Any

import pytest

from panjereh.registry.access import Principal, Role
from panjereh.registry.fields import (
    HIDDEN,
    SECRET_NAMES,
    hidden_fields,
    owner_of,
    shown_document,
    visible,
)

PERSONAS = {
    "owner": Principal("user:owner", Role.AGENCY_ADMIN, "civil-registry"),
    "stranger": Principal("user:stranger", Role.AGENCY_ADMIN, "science-ministry"),
    "auditor": Principal("user:auditor", Role.AUDITOR),
    "operator": Principal("user:operator", Role.OPERATOR),
}
SEES_OWNERS = {"owner": True, "stranger": False, "auditor": True, "operator": True}

SYSTEM_DOC: dict[str, Any] = {
    "agency": "civil-registry",
    "code": "population-registry",
    "api_keys": [{"prefix": "pnj_ab12", "key_hash": "ab" * 32, "label": "main"}],
    "signing_keys": [{"key_id": "k1", "public_key": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}],
}


@pytest.mark.parametrize(("persona", "sees"), SEES_OWNERS.items())
@pytest.mark.parametrize(("kind", "field"), [("service", "endpoint_url"), ("agency", "contact")])
def test_an_owners_field_is_visible_to_the_owner_and_staff_only(
    persona: str, sees: bool, kind: str, field: str
) -> None:
    owner = "civil-registry"
    assert visible(PERSONAS[persona], kind, field, owner=owner) is sees
    assert (field in hidden_fields(PERSONAS[persona], kind, owner=owner)) is not sees


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_field_without_a_rule_is_visible_to_whoever_sees_the_object(persona: str) -> None:
    assert visible(PERSONAS[persona], "service", "name_en", owner="civil-registry")


@pytest.mark.parametrize("persona", PERSONAS)
def test_key_material_is_visible_to_nobody(persona: str) -> None:
    assert not visible(PERSONAS[persona], "system", "api_keys[].key_hash", owner="civil-registry")
    assert {"key_hash", "password_hash", "token_hash"} == SECRET_NAMES


@pytest.mark.parametrize("persona", PERSONAS)
def test_an_events_document_blanks_secrets_at_any_depth_and_keeps_the_rest(persona: str) -> None:
    shown = shown_document(SYSTEM_DOC, PERSONAS[persona], "system", owner="civil-registry")
    assert shown["api_keys"] == [{"prefix": "pnj_ab12", "key_hash": HIDDEN, "label": "main"}]
    assert shown["signing_keys"] == SYSTEM_DOC["signing_keys"]
    assert SYSTEM_DOC["api_keys"][0]["key_hash"] == "ab" * 32  # the stored value is untouched


@pytest.mark.parametrize(("persona", "sees"), SEES_OWNERS.items())
def test_an_events_document_blanks_the_kinds_owner_fields_for_others(
    persona: str, sees: bool
) -> None:
    service = {"id": "civil-registry.person.v1", "endpoint_url": "https://api.example/person"}
    shown = shown_document(service, PERSONAS[persona], "service", owner="civil-registry")
    assert (shown["endpoint_url"] == service["endpoint_url"]) is sees
    assert shown["id"] == service["id"]


def test_documents_of_no_mapping_pass_through() -> None:
    assert shown_document(None, PERSONAS["operator"], "system", owner=None) is None
    assert shown_document([{"token_hash": "x"}], PERSONAS["operator"], "user", owner=None) == [
        {"token_hash": HIDDEN}
    ]


@pytest.mark.parametrize(
    ("kind", "object_id", "owner"),
    [
        ("agency", "civil-registry", "civil-registry"),
        ("system", "civil-registry/population-registry", "civil-registry"),
        ("service", "civil-registry.person.v1", "civil-registry"),
        ("grant", "social-security/benefits -> civil-registry.person.v1", None),
        ("user", "alice", None),
    ],
)
def test_an_objects_agency_comes_from_its_natural_key(
    kind: str, object_id: str, owner: str | None
) -> None:
    assert owner_of(kind, object_id) == owner
