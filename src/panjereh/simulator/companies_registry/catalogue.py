"""What the simulated companies registry serves."""

from __future__ import annotations

from panjereh.simulator.companies_registry.app import AGENCY_CODE
from panjereh.simulator.facts.companies import Activity, CompanyKind, CompanyStatus, Role
from panjereh.simulator.schemas import (
    AMOUNT,
    BOOLEAN,
    DIGITS,
    LEGAL_ID,
    NATIONAL_CODE,
    TEXT,
    SimulatedService,
    array,
    closed,
    dated,
    one_of,
    service,
)

_STATUS = one_of(CompanyStatus)

COMPANY = service(
    AGENCY_CODE,
    "company",
    name=("استعلام مشخصات شخص حقوقی", "Legal entity inquiry"),
    description=(
        "نام، نوع، شماره و تاریخ ثبت، سرمایه، موضوع فعالیت و وضعیت شخص حقوقی با شناسه ملی.",
        "A legal entity's name, kind, registration number and date, capital, activity and "
        "status, by its national id.",
    ),
    response_properties={
        "legal_id": LEGAL_ID,
        "name": TEXT,
        "kind": one_of(CompanyKind),
        "kind_fa": TEXT,
        "registration_number": DIGITS,
        **dated("registered_on"),
        "registration_office": TEXT,
        "province": TEXT,
        "city": TEXT,
        "postal_code": {"type": "string", "pattern": "^[0-9]{10}$"},
        "activity": one_of(Activity),
        "activity_fa": TEXT,
        "capital_rials": AMOUNT,
        "status": _STATUS,
        "status_fa": TEXT,
        **dated("dissolved_on", optional=True),
    },
    subject_kind="legal_id",
    personal_data="none",
    purposes=("company-verification", "tax-assessment", "licensing"),
    consumers=(
        "tax-administration",
        "social-security",
        "cultural-heritage-ministry",
        "agriculture-ministry",
        "oil-ministry",
        "judiciary",
    ),
)

OFFICERS = service(
    AGENCY_CODE,
    "officers",
    name=("استعلام مدیران و صاحبان امضای مجاز", "Company officers inquiry"),
    description=(
        "اعضای هیئت مدیره، مدیرعامل و صاحبان امضای مجاز شخص حقوقی در دوره جاری.",
        "A legal entity's board members, chief executive and authorised signatories in the "
        "current term.",
    ),
    response_properties={
        "legal_id": LEGAL_ID,
        "name": TEXT,
        "status": _STATUS,
        "officers": array(
            closed(
                {
                    "national_code": NATIONAL_CODE,
                    "first_name": TEXT,
                    "last_name": TEXT,
                    "role": one_of(Role),
                    "role_fa": TEXT,
                    **dated("term_start"),
                    **dated("term_end"),
                    "signatory": BOOLEAN,
                }
            )
        ),
    },
    subject_kind="legal_id",
    personal_data="personal",
    purposes=("company-verification", "judicial-proceedings", "tax-assessment"),
    consumers=("tax-administration", "judiciary", "social-security"),
)

SERVICES: tuple[SimulatedService, ...] = (COMPANY, OFFICERS)
