"""What the simulated science ministry serves."""

from __future__ import annotations

from panjereh.simulator.facts.education import DegreeLevel
from panjereh.simulator.schemas import (
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
    one_of,
    service,
)
from panjereh.simulator.science_ministry.app import AGENCY_CODE

_LEVEL = one_of(DegreeLevel)

DEGREES = service(
    AGENCY_CODE,
    "degrees",
    name=("استعلام مدرک تحصیلی دانشگاهی", "University degree inquiry"),
    description=(
        "مدارک تحصیلی دانشگاهی فرد (مقطع، رشته، دانشگاه، تاریخ دانش‌آموختگی و معدل).",
        "A person's university degrees: level, field, university, graduation date and GPA.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "highest_level": nullable(_LEVEL),
        "degrees": array(
            closed(
                {
                    "degree_number": DIGITS,
                    "level": _LEVEL,
                    "level_fa": TEXT,
                    "field": TEXT,
                    "university": TEXT,
                    "gpa": NUMBER,
                    **dated("started_on"),
                    **dated("graduated_on"),
                    "verified": BOOLEAN,
                }
            )
        ),
    },
    purposes=("education-verification", "employment-check", "licensing"),
    consumers=(
        "social-security",
        "judiciary",
        "tax-administration",
        "companies-registry",
        "education-ministry",
        "cultural-heritage-ministry",
    ),
)

SERVICES: tuple[SimulatedService, ...] = (DEGREES,)
