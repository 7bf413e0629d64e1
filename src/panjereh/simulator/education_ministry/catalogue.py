"""What the simulated education ministry serves."""

from __future__ import annotations

from panjereh.simulator.education_ministry.app import AGENCY_CODE
from panjereh.simulator.facts.education import DiplomaField
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

DIPLOMA = service(
    AGENCY_CODE,
    "high-school-diploma",
    name=("استعلام مدرک دیپلم", "High-school diploma inquiry"),
    description=(
        "دیپلم متوسطه فرد: رشته، معدل، استان محل تحصیل و تاریخ اخذ.",
        "A person's high-school diploma: field, grade average, province and date.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "has_diploma": BOOLEAN,
        "diploma": nullable(
            closed(
                {
                    "diploma_number": DIGITS,
                    "field": one_of(DiplomaField),
                    "field_fa": TEXT,
                    "gpa": NUMBER,
                    "school_province": TEXT,
                    **dated("graduated_on"),
                }
            )
        ),
    },
    purposes=("education-verification", "employment-check"),
    consumers=("science-ministry", "social-security", "judiciary", "interior-ministry"),
)

SERVICES: tuple[SimulatedService, ...] = (DIPLOMA,)
