"""What the simulated Social Security Organization serves."""

from __future__ import annotations

from panjereh.simulator.schemas import (
    AMOUNT,
    BOOLEAN,
    DIGITS,
    NATIONAL_CODE,
    NUMBER,
    TEXT,
    SimulatedService,
    array,
    closed,
    dated,
    nullable,
    service,
)
from panjereh.simulator.social_security.app import AGENCY_CODE

_PERSON = {"national_code": NATIONAL_CODE, "first_name": TEXT, "last_name": TEXT}

INSURANCE_HISTORY = service(
    AGENCY_CODE,
    "insurance-history",
    name=("استعلام سوابق بیمه", "Insurance history inquiry"),
    description=(
        "سوابق پرداخت حق بیمه فرد به تفکیک کارگاه، با جمع روزها و سال‌های بیمه‌شده.",
        "A person's social-security contribution periods by workshop, with insured days "
        "and years in total.",
    ),
    response_properties={
        **_PERSON,
        "insurance_number": nullable(DIGITS),
        "insured_now": BOOLEAN,
        "total_insured_days": AMOUNT,
        "total_insured_years": NUMBER,
        "periods": array(
            closed(
                {
                    "employer": TEXT,
                    "workshop_code": DIGITS,
                    **dated("started_on"),
                    **dated("ended_on", optional=True),
                    "days": AMOUNT,
                }
            )
        ),
    },
    purposes=("employment-check", "benefit-eligibility"),
    consumers=("welfare-organization", "tax-administration", "health-insurance", "judiciary"),
)

EMPLOYMENT_STATUS = service(
    AGENCY_CODE,
    "employment-status",
    name=("استعلام وضعیت اشتغال و بازنشستگی", "Employment and pension status inquiry"),
    description=(
        "آیا فرد اکنون بیمه‌پرداز است، کارفرما و دستمزد مشمول بیمه، و وضعیت بازنشستگی.",
        "Whether a person is insured now, their employer and insured wage, and whether "
        "they draw a pension.",
    ),
    response_properties={
        **_PERSON,
        "employed": BOOLEAN,
        "insured_now": BOOLEAN,
        "employer": nullable(TEXT),
        "workshop_code": nullable(DIGITS),
        **dated("employed_since", optional=True),
        "insured_monthly_wage_rials": nullable(AMOUNT),
        "retired": BOOLEAN,
        **dated("retired_on", optional=True),
        "monthly_pension_rials": nullable(AMOUNT),
    },
    purposes=("employment-check", "benefit-eligibility", "tax-assessment"),
    consumers=(
        "welfare-organization",
        "tax-administration",
        "health-insurance",
        "judiciary",
        "oil-ministry",
    ),
)

SERVICES: tuple[SimulatedService, ...] = (INSURANCE_HISTORY, EMPLOYMENT_STATUS)
