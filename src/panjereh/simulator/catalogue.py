"""What the simulator serves: the contract between the simulated agencies and the demo seed.

The demonstration government (panjereh.demo) registers every entry here as an active service
whose endpoint is ``<public_url>/simulator<path>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["national_code"],
    "properties": {"national_code": {"type": "string", "minLength": 10, "maxLength": 32}},
    "additionalProperties": False,
}

SIMULATED_SERVICES: tuple[SimulatedService, ...] = (
    SimulatedService(
        agency="civil-registry",
        service_id="civil-registry.person.v1",
        path="/civil-registry/person",
        name_fa="استعلام مشخصات هویتی فرد",
        name_en="Person identity inquiry",
        description_fa="نام، نام پدر، جنسیت، تاریخ تولد و وضعیت حیات فرد با کد ملی او.",
        description_en=(
            "A person's name, father's name, gender, birth date and whether they are alive, "
            "by national code."
        ),
        request_schema=NATIONAL_CODE_REQUEST,
        response_schema={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["national_code", "first_name", "last_name", "birth_date", "alive"],
            "properties": {
                "national_code": {"type": "string"},
                "first_name": {"type": "string"},
                "last_name": {"type": "string"},
                "father_name": {"type": "string"},
                "gender": {"enum": ["male", "female"]},
                "birth_date": {"type": "string", "format": "date"},
                "birth_date_jalali": {"type": "string"},
                "birth_province": {"type": "string"},
                "alive": {"type": "boolean"},
            },
        },
        subject_pointer="/national_code",
        subject_kind="national_code",
        personal_data="personal",
        purposes=("identity-verification", "benefit-eligibility", "employment-check"),
        consumers=(
            "social-security",
            "health-insurance",
            "tax-administration",
            "welfare-organization",
        ),
    ),
)


GENERIC_PATH_TEMPLATE = "/{agency}/inquiries/{service}"


def generic_request_schema(subject_kind: str) -> dict[str, Any]:
    """Request schema of a template-generated service answered by the generic endpoint."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    if subject_kind == "national_code":
        properties["national_code"] = {"type": "string", "minLength": 10, "maxLength": 32}
        required.append("national_code")
    elif subject_kind == "legal_id":
        properties["legal_id"] = {"type": "string", "minLength": 11, "maxLength": 32}
        required.append("legal_id")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def generic_response_schema() -> dict[str, Any]:
    """Response schema of the generic endpoint."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["service", "subject_found", "status", "reference"],
        "properties": {
            "service": {"type": "string"},
            "subject_found": {"type": "boolean"},
            "status": {"type": "string"},
            "reference": {"type": "string"},
            "valid_until": {"type": ["string", "null"], "format": "date"},
        },
    }
