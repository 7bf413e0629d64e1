"""What the simulated agriculture ministry serves."""

from __future__ import annotations

from panjereh.simulator.agriculture_ministry.app import AGENCY_CODE
from panjereh.simulator.facts.licences import FARMING_ACTIVITIES, PermitStatus
from panjereh.simulator.schemas import (
    BOOLEAN,
    DIGITS,
    NATIONAL_CODE,
    NUMBER,
    TEXT,
    SimulatedService,
    closed,
    dated,
    nullable,
    one_of,
    service,
)

FARMER_LICENCE = service(
    AGENCY_CODE,
    "farmer-licence",
    name=("استعلام کارت بهره‌برداری کشاورزی", "Farmer operator licence inquiry"),
    description=(
        "پروانه یا کارت بهره‌برداری کشاورزی فرد: نوع فعالیت، محصول، مساحت و اعتبار.",
        "A person's agricultural operator licence: activity, product, area and validity.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "has_licence": BOOLEAN,
        "licence": nullable(
            closed(
                {
                    "licence_number": DIGITS,
                    "activity": one_of(FARMING_ACTIVITIES),
                    "activity_fa": TEXT,
                    "product": nullable(TEXT),
                    "hectares": nullable(NUMBER),
                    "province": TEXT,
                    "city": TEXT,
                    **dated("issued_on"),
                    **dated("valid_until"),
                    "status": one_of(PermitStatus),
                    "status_fa": TEXT,
                }
            )
        ),
    },
    purposes=("licensing", "benefit-eligibility", "fuel-allocation", "tax-assessment"),
    consumers=("oil-ministry", "tax-administration", "social-security", "health-insurance"),
)

SERVICES: tuple[SimulatedService, ...] = (FARMER_LICENCE,)
