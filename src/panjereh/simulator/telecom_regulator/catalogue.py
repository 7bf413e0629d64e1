"""What the simulated telecom regulator serves."""

from __future__ import annotations

from panjereh.simulator.facts.telecom import LineKind, Operator
from panjereh.simulator.schemas import (
    BOOLEAN,
    DIALECT,
    MOBILE,
    NATIONAL_CODE,
    TEXT,
    Schema,
    SimulatedService,
    array,
    closed,
    dated,
    one_of,
    service,
)
from panjereh.simulator.telecom_regulator.app import AGENCY_CODE

MOBILE_OWNERSHIP_REQUEST: Schema = {
    "$schema": DIALECT,
    "type": "object",
    "required": ["national_code", "mobile"],
    "properties": {
        "national_code": {"type": "string", "minLength": 10, "maxLength": 32},
        "mobile": {"type": "string", "minLength": 10, "maxLength": 32},
    },
    "additionalProperties": False,
}

MOBILE_OWNERSHIP = service(
    AGENCY_CODE,
    "mobile-ownership",
    name=("استعلام تطابق شماره همراه و کد ملی (شاهکار)", "Mobile number ownership (Shahkar)"),
    description=(
        "آیا خط تلفن همراه داده‌شده به نام صاحب کد ملی ثبت شده است؟",
        "Whether the given mobile line is registered to the holder of the national code.",
    ),
    request_schema=MOBILE_OWNERSHIP_REQUEST,
    response_properties={"national_code": NATIONAL_CODE, "mobile": MOBILE, "matches": BOOLEAN},
    purposes=("identity-verification", "judicial-proceedings"),
    consumers=(
        "judiciary",
        "tax-administration",
        "social-security",
        "health-insurance",
        "welfare-organization",
        "interior-ministry",
        "traffic-police",
        "oil-ministry",
    ),
)

MOBILE_LINES = service(
    AGENCY_CODE,
    "mobile-lines",
    name=("استعلام خطوط تلفن همراه به نام شخص", "Mobile lines registered to a person"),
    description=(
        "خطوط تلفن همراه ثبت‌شده به نام فرد با اپراتور، نوع و تاریخ واگذاری.",
        "The mobile lines registered to a person, with operator, kind and activation date.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "lines": array(
            closed(
                {
                    "mobile": MOBILE,
                    "mobile_local": {"type": "string", "pattern": "^09[0-9]{9}$"},
                    "operator": one_of(Operator),
                    "operator_fa": TEXT,
                    "kind": one_of(LineKind),
                    "kind_fa": TEXT,
                    **dated("activated_on"),
                    "status": one_of(["active", "inactive"]),
                }
            )
        ),
    },
    purposes=("identity-verification", "law-enforcement", "judicial-proceedings"),
    consumers=("judiciary", "interior-ministry"),
)

SERVICES: tuple[SimulatedService, ...] = (MOBILE_OWNERSHIP, MOBILE_LINES)
