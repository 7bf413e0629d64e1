"""JSON Schemas of services and JSON Pointers into requests and responses.

Compiling 1,200 schemas takes seconds, so compiled validators are cached by the schema's
canonical hash and survive registry refreshes; a refresh compiles only what changed.
Validators never fetch remote ``$ref``s (offline): a schema must not make the exchange call out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from panjereh.domain.errors import InvalidValue

JsonSchema = Mapping[str, Any]
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def schema_hash(schema: JsonSchema) -> str:
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_schema(schema: object, field: str) -> JsonSchema:
    """Return ``schema`` if it is a valid draft 2020-12 JSON Schema object."""
    if not isinstance(schema, Mapping):
        raise InvalidValue(
            "json-schema.type",
            message_en="A JSON Schema must be an object.",
            message_fa="طرح JSON باید یک شیء باشد.",
            field=field,
        )
    if schema.get("$schema", DRAFT_2020_12) != DRAFT_2020_12:
        raise InvalidValue(
            "json-schema.draft",
            message_en="Service schemas use JSON Schema draft 2020-12 (as OpenAPI 3.1 does).",
            message_fa="طرح‌های خدمت باید JSON Schema نسخه 2020-12 باشند.",
            field=field,
        )
    try:
        jsonschema_rs.Draft202012Validator(dict(schema), offline=True)
    except (jsonschema_rs.ValidationError, ValueError, jsonschema_rs.ReferencingError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid schema"
        raise InvalidValue(
            "json-schema.invalid",
            message_en=f"Not a valid JSON Schema: {first}",
            message_fa="طرح JSON معتبر نیست.",
            field=field,
        ) from None
    return schema


def check_pointer(pointer: object, field: str) -> str:
    """Return ``pointer`` if it is an RFC 6901 JSON Pointer to a member (not the root)."""
    if not isinstance(pointer, str) or not pointer.startswith("/") or len(pointer) > 200:
        raise InvalidValue(
            "json-pointer.format",
            message_en="A JSON Pointer starts with '/', e.g. /national_code.",
            message_fa="اشاره‌گر JSON باید با / شروع شود، مانند ‎/national_code.",
            field=field,
        )
    for token in pointer.split("/")[1:]:
        stripped = token.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            raise InvalidValue(
                "json-pointer.escape",
                message_en="In a JSON Pointer '~' must be written ~0 and '/' inside a name ~1.",
                message_fa="در اشاره‌گر JSON، ~ باید ~0 و / درون نام ~1 نوشته شود.",
                field=field,
            )
    return pointer


class ValidatorCache:
    """Compiled validators by schema hash, shared by every snapshot of one process."""

    def __init__(self) -> None:
        self._by_hash: dict[str, jsonschema_rs.Validator] = {}
        self.compiled = 0

    def get(self, schema: JsonSchema) -> jsonschema_rs.Validator:
        key = schema_hash(schema)
        validator = self._by_hash.get(key)
        if validator is None:
            validator = jsonschema_rs.Draft202012Validator(dict(schema), offline=True)
            self._by_hash[key] = validator
            self.compiled += 1
        return validator

    def retain(self, keep: set[str]) -> None:
        """Forget validators no snapshot uses any more."""
        for key in set(self._by_hash) - keep:
            del self._by_hash[key]

    def __len__(self) -> int:
        return len(self._by_hash)
