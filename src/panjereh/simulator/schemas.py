"""The record of one simulated service and the JSON Schema pieces its contract is built from.

Every schema is JSON Schema draft 2020-12. Response objects are closed
(``additionalProperties: false``) and list every field as required, nullable where the value
may be absent, so a test that validates real answers against them proves the contract exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

Schema = Mapping[str, Any]

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

#: The purposes a grant on a simulated service may name (the demo registry's purpose codes).
PURPOSES: Final = (
    "identity-verification",
    "benefit-eligibility",
    "employment-check",
    "education-verification",
    "licensing",
    "tax-assessment",
    "law-enforcement",
    "judicial-proceedings",
    "election-administration",
    "healthcare-coverage",
    "vehicle-registration",
    "company-verification",
    "fuel-allocation",
)


@dataclass(frozen=True, slots=True)
class SimulatedService:
    agency: str  # agency code, e.g. "civil-registry"
    service_id: str  # "{agency}.{service}.v{N}", e.g. "civil-registry.person.v1"
    path: str  # below /simulator, e.g. "/civil-registry/person"
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    request_schema: Mapping[str, Any]  # JSON Schema draft 2020-12
    response_schema: Mapping[str, Any]
    subject_pointer: str | None  # JSON Pointer into the request, e.g. "/national_code"
    subject_kind: str  # "national_code" | "legal_id" | "none"
    personal_data: str  # "none" | "personal" | "sensitive"
    purposes: tuple[str, ...]  # purpose codes a grant on it would typically allow
    consumers: tuple[str, ...]  # agency codes that plausibly hold a grant on it


NATIONAL_CODE_REQUEST: Mapping[str, Any] = {
    "$schema": DIALECT,
    "type": "object",
    "required": ["national_code"],
    "properties": {"national_code": {"type": "string", "minLength": 10, "maxLength": 32}},
    "additionalProperties": False,
}

LEGAL_ID_REQUEST: Mapping[str, Any] = {
    "$schema": DIALECT,
    "type": "object",
    "required": ["legal_id"],
    "properties": {"legal_id": {"type": "string", "minLength": 11, "maxLength": 32}},
    "additionalProperties": False,
}

NO_SUBJECT_REQUEST: Mapping[str, Any] = {
    "$schema": DIALECT,
    "type": "object",
    "properties": {},
    "additionalProperties": False,
}

# --- building blocks of response schemas -------------------------------------------

STRING: Final[Schema] = {"type": "string"}
TEXT: Final[Schema] = {"type": "string", "minLength": 1}
BOOLEAN: Final[Schema] = {"type": "boolean"}
INTEGER: Final[Schema] = {"type": "integer"}
AMOUNT: Final[Schema] = {"type": "integer", "minimum": 0}
NUMBER: Final[Schema] = {"type": "number"}
DATE: Final[Schema] = {"type": "string", "format": "date"}
JALALI_DATE: Final[Schema] = {"type": "string", "pattern": "^[0-9]{4}/[0-9]{2}/[0-9]{2}$"}
NATIONAL_CODE: Final[Schema] = {"type": "string", "pattern": "^[0-9]{10}$"}
LEGAL_ID: Final[Schema] = {"type": "string", "pattern": "^[0-9]{11}$"}
DIGITS: Final[Schema] = {"type": "string", "pattern": "^[0-9]+$"}
MOBILE: Final[Schema] = {"type": "string", "pattern": "^\\+989[0-9]{9}$"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def one_of(values: Iterable[str]) -> Schema:
    return {"enum": [str(v) for v in values]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def dated(name: str, *, optional: bool = False) -> dict[str, Schema]:
    """The schema of the pair ``endpoints.dated`` writes: an ISO date and its Jalali form."""
    if optional:
        return {name: nullable(DATE), f"{name}_jalali": nullable(JALALI_DATE)}
    return {name: DATE, f"{name}_jalali": JALALI_DATE}


def closed(properties: Mapping[str, Schema]) -> dict[str, Any]:
    """An object with exactly these properties, all of them required."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": dict(properties),
        "additionalProperties": False,
    }


def response(properties: Mapping[str, Schema]) -> Mapping[str, Any]:
    return {"$schema": DIALECT, **closed(properties)}


_REQUESTS: Final = {
    "national_code": (NATIONAL_CODE_REQUEST, "/national_code"),
    "legal_id": (LEGAL_ID_REQUEST, "/legal_id"),
}


def service(
    agency: str,
    slug: str,
    *,
    name: tuple[str, str],
    description: tuple[str, str],
    response_properties: Mapping[str, Schema],
    purposes: tuple[str, ...],
    consumers: tuple[str, ...],
    personal_data: str = "personal",
    subject_kind: str = "national_code",
    request_schema: Schema | None = None,
) -> SimulatedService:
    """A catalogue entry for ``POST /{agency}/{slug}``: names and descriptions as (fa, en)."""
    default_request, pointer = _REQUESTS[subject_kind]
    return SimulatedService(
        agency=agency,
        service_id=f"{agency}.{slug}.v1",
        path=f"/{agency}/{slug}",
        name_fa=name[0],
        name_en=name[1],
        description_fa=description[0],
        description_en=description[1],
        request_schema=request_schema or default_request,
        response_schema=response(response_properties),
        subject_pointer=pointer,
        subject_kind=subject_kind,
        personal_data=personal_data,
        purposes=purposes,
        consumers=consumers,
    )
