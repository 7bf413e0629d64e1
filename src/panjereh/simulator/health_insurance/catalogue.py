"""What the simulated health insurer serves."""

from __future__ import annotations

from panjereh.simulator.facts.health import Fund, Insurer
from panjereh.simulator.health_insurance.app import AGENCY_CODE
from panjereh.simulator.schemas import (
    BOOLEAN,
    DIGITS,
    NATIONAL_CODE,
    TEXT,
    SimulatedService,
    closed,
    dated,
    nullable,
    one_of,
    service,
)

COVERAGE = service(
    AGENCY_CODE,
    "coverage",
    name=("استعلام پوشش بیمه پایه سلامت", "Basic health insurance coverage inquiry"),
    description=(
        "بیمه‌گر پایه، صندوق و اعتبار بیمه سلامت فرد از پایگاه ملی بیمه‌شدگان.",
        "The basic health insurer, fund and validity of a person's cover, from the national "
        "insured-persons database.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "covered": BOOLEAN,
        "status": one_of(["active", "ended", "uninsured"]),
        "coverage": nullable(
            closed(
                {
                    "insurer": one_of(Insurer),
                    "insurer_fa": TEXT,
                    "fund": one_of(Fund),
                    "fund_fa": TEXT,
                    "insurance_number": DIGITS,
                    **dated("covered_since"),
                    **dated("valid_until"),
                }
            )
        ),
    },
    personal_data="sensitive",
    purposes=("healthcare-coverage", "benefit-eligibility"),
    consumers=("social-security", "welfare-organization"),
)

SERVICES: tuple[SimulatedService, ...] = (COVERAGE,)
