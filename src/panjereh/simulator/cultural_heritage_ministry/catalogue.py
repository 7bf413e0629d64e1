"""What the simulated cultural heritage ministry serves."""

from __future__ import annotations

from panjereh.simulator.cultural_heritage_ministry.app import AGENCY_CODE
from panjereh.simulator.facts.company_records import TourismPermitKind
from panjereh.simulator.facts.licences import PermitStatus
from panjereh.simulator.schemas import (
    BOOLEAN,
    DIGITS,
    LEGAL_ID,
    NATIONAL_CODE,
    TEXT,
    SimulatedService,
    closed,
    dated,
    nullable,
    one_of,
    service,
)

_VALIDITY = {
    **dated("issued_on"),
    **dated("valid_until"),
    "status": one_of(PermitStatus),
    "status_fa": TEXT,
}

HANDICRAFT_LICENCE = service(
    AGENCY_CODE,
    "handicraft-licence",
    name=("استعلام پروانه تولید صنایع دستی", "Handicraft production licence inquiry"),
    description=(
        "پروانه تولید انفرادی صنایع دستی فرد: رشته، استان و اعتبار.",
        "A person's individual handicraft production licence: craft, province and validity.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "has_licence": BOOLEAN,
        "licence": nullable(
            closed({"licence_number": DIGITS, "craft": TEXT, "province": TEXT, **_VALIDITY})
        ),
    },
    purposes=("licensing", "benefit-eligibility", "tax-assessment"),
    consumers=("social-security", "tax-administration", "welfare-organization"),
)

TOURISM_LICENCE = service(
    AGENCY_CODE,
    "tourism-licence",
    name=("استعلام مجوز تأسیسات و دفاتر گردشگری", "Tourism business licence inquiry"),
    description=(
        "مجوز بهره‌برداری گردشگری شخص حقوقی (دفتر خدمات مسافرتی، هتل، بوم‌گردی) و اعتبار آن.",
        "A legal entity's tourism operating licence (travel agency, hotel, eco-lodge) and "
        "its validity.",
    ),
    response_properties={
        "legal_id": LEGAL_ID,
        "name": TEXT,
        "has_licence": BOOLEAN,
        "licence": nullable(
            closed(
                {
                    "licence_number": DIGITS,
                    "kind": one_of(TourismPermitKind),
                    "kind_fa": TEXT,
                    "province": TEXT,
                    **_VALIDITY,
                }
            )
        ),
    },
    subject_kind="legal_id",
    personal_data="none",
    purposes=("licensing", "company-verification", "tax-assessment"),
    consumers=("tax-administration", "companies-registry", "interior-ministry"),
)

SERVICES: tuple[SimulatedService, ...] = (HANDICRAFT_LICENCE, TOURISM_LICENCE)
