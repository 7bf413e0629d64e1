"""What the simulated Welfare Organization serves."""

from __future__ import annotations

from panjereh.simulator.facts.welfare import DisabilityKind, Programme, Severity
from panjereh.simulator.schemas import (
    AMOUNT,
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
from panjereh.simulator.welfare_organization.app import AGENCY_CODE

_PERSON = {"national_code": NATIONAL_CODE, "first_name": TEXT, "last_name": TEXT}

SUPPORT_STATUS = service(
    AGENCY_CODE,
    "support-status",
    name=("استعلام وضعیت تحت پوشش بهزیستی", "Welfare support status inquiry"),
    description=(
        "آیا فرد تحت حمایت سازمان بهزیستی است، برنامه حمایتی، تاریخ شروع و مستمری ماهانه.",
        "Whether a person is supported by the Welfare Organization, under which programme, "
        "since when and with what monthly allowance.",
    ),
    response_properties={
        **_PERSON,
        "under_support": BOOLEAN,
        "case": nullable(
            closed(
                {
                    "case_number": DIGITS,
                    "programme": one_of(Programme),
                    "programme_fa": TEXT,
                    **dated("since"),
                    **dated("ended_on", optional=True),
                    "monthly_allowance_rials": AMOUNT,
                }
            )
        ),
    },
    personal_data="sensitive",
    purposes=("benefit-eligibility", "healthcare-coverage"),
    consumers=("health-insurance", "social-security", "tax-administration", "oil-ministry"),
)

DISABILITY = service(
    AGENCY_CODE,
    "disability",
    name=("استعلام معلولیت", "Disability inquiry"),
    description=(
        "آیا فرد معلولیت ثبت‌شده دارد، نوع و شدت آن و شماره کارت معلولیت.",
        "Whether a person has a registered disability, its kind and severity, and the "
        "disability card number.",
    ),
    response_properties={
        **_PERSON,
        "registered_disability": BOOLEAN,
        "disability": nullable(
            closed(
                {
                    "card_number": DIGITS,
                    "kind": one_of(DisabilityKind),
                    "kind_fa": TEXT,
                    "severity": one_of(Severity),
                    "severity_fa": TEXT,
                    **dated("registered_on"),
                }
            )
        ),
    },
    personal_data="sensitive",
    purposes=("benefit-eligibility", "healthcare-coverage", "licensing"),
    consumers=("health-insurance", "social-security", "traffic-police", "tax-administration"),
)

SERVICES: tuple[SimulatedService, ...] = (SUPPORT_STATUS, DISABILITY)
