"""Which fields of which object a person may see: one policy for the management API and the
operator area (docs/registry.md, "Field policy").

`access` decides whether a person may see an *object* at all; this module decides, for an
object they may see, which of its *fields* they may see. It is applied on output only: stored
objects, and the chained control-plane events that hold them in document form, stay byte for
byte as they are; a view leaves a hidden field out (or blanks it, in an event's before/after).

Audiences, from the widest:
- everyone who may see the object (every field not listed in `RULES`);
- the object's own agency: its administrators — also while the agency is suspended, which
  stops its inquiries and its new credentials, not its reading of its own configuration —
  auditors and operators;
- nobody: credential material (hashes of API keys, passwords, tokens) never leaves the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from panjereh.registry.access import Principal

HIDDEN = "(not shown)"  # how a hidden field reads inside an event's before/after


class Audience(StrEnum):
    OWNER = "owner"  # the object's agency's administrators, auditors, operators
    NOBODY = "nobody"


@dataclass(frozen=True, slots=True)
class FieldRule:
    kind: str  # the object type, as in the control-plane events: "service", "system", ...
    field: str  # a top-level field, or "list[].field" for a field of each item of a list
    audience: Audience
    why: str


RULES: tuple[FieldRule, ...] = (
    FieldRule(
        "service",
        "endpoint_url",
        Audience.OWNER,
        "the provider's address behind the exchange: a target, and nobody else's business",
    ),
    FieldRule(
        "service",
        "provider",
        Audience.OWNER,
        "which of the agency's systems serves it (an agency's systems are private to it)",
    ),
    FieldRule("agency", "contact", Audience.OWNER, "people's e-mail addresses and phones"),
    FieldRule(
        "agency",
        "network",
        Audience.OWNER,
        "its internal address blocks and whether it serves plain http: a map for an attacker",
    ),
    FieldRule("system", "api_keys[].key_hash", Audience.NOBODY, "an API key's peppered hash"),
    FieldRule("user", "password_hash", Audience.NOBODY, "an argon2id password hash"),
    FieldRule("user", "token_hash", Audience.NOBODY, "an API token's hash"),
)

_BY_FIELD: Mapping[tuple[str, str], FieldRule] = {(r.kind, r.field): r for r in RULES}
# Credential material is hidden wherever it appears in a document, whatever its kind.
SECRET_NAMES = frozenset(r.field.rsplit(".", 1)[-1] for r in RULES if r.audience is Audience.NOBODY)


def may_see(principal: Principal, audience: Audience, owner: str | None) -> bool:
    """Whether ``principal`` is in ``audience`` for an object of agency ``owner``."""
    if audience is Audience.NOBODY:
        return False
    return principal.reads_everything or (owner is not None and principal.owns(owner))


def visible(principal: Principal, kind: str, field: str, *, owner: str | None) -> bool:
    """Whether ``principal`` may see ``field`` of a ``kind`` object of agency ``owner`` (a
    field without a rule: whoever may see the object)."""
    rule = _BY_FIELD.get((kind, field))
    return rule is None or may_see(principal, rule.audience, owner)


def hidden_fields(principal: Principal, kind: str, *, owner: str | None) -> frozenset[str]:
    """The top-level fields of a ``kind`` object that ``principal`` may not see."""
    return frozenset(
        r.field
        for r in RULES
        if r.kind == kind and "[]" not in r.field and not may_see(principal, r.audience, owner)
    )


def shown_document(value: Any, principal: Principal, kind: str, *, owner: str | None) -> Any:
    """An object in document form (an event's before/after) as ``principal`` may see it:
    credential material blanked at any depth, the kind's hidden fields blanked on top."""
    shown = _without_secrets(value)
    if not isinstance(shown, dict):
        return shown
    hidden = hidden_fields(principal, kind, owner=owner)
    return {k: HIDDEN if k in hidden else v for k, v in shown.items()}


def _without_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: HIDDEN if k in SECRET_NAMES else _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def owner_of(kind: str, object_id: str) -> str | None:
    """The agency an object of ``kind`` belongs to, from its natural key (events name
    objects by it): ``civil-registry``, ``civil-registry/population-registry``,
    ``civil-registry.person.v1``; None for objects of no agency."""
    if kind == "agency":
        return object_id
    if kind == "system":
        return object_id.split("/", 1)[0]
    if kind == "service":
        return object_id.split(".", 1)[0]
    return None
