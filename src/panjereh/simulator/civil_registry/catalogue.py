"""What the simulated Civil Registration Organization serves."""

from __future__ import annotations

from panjereh.simulator.civil_registry.app import AGENCY_CODE
from panjereh.simulator.schemas import (
    BOOLEAN,
    NATIONAL_CODE,
    NATIONAL_CODE_REQUEST,
    TEXT,
    SimulatedService,
    dated,
    one_of,
    response,
    service,
)

PERSON = SimulatedService(
    agency=AGENCY_CODE,
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
    response_schema=response(
        {
            "national_code": NATIONAL_CODE,
            "first_name": TEXT,
            "last_name": TEXT,
            "father_name": TEXT,
            "gender": one_of(["male", "female"]),
            **dated("birth_date"),
            "birth_province": TEXT,
            "alive": BOOLEAN,
        }
    ),
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
)

LIFE_STATUS = service(
    AGENCY_CODE,
    "life-status",
    name=("استعلام وضعیت حیات", "Life status inquiry"),
    description=(
        "در قید حیات بودن فرد و در صورت فوت، تاریخ فوت او.",
        "Whether a person is alive and, if they died, the date of death.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "alive": BOOLEAN,
        "status": one_of(["alive", "deceased"]),
        "status_fa": TEXT,
        **dated("died_on", optional=True),
    },
    purposes=("identity-verification", "benefit-eligibility", "election-administration"),
    consumers=(
        "social-security",
        "health-insurance",
        "welfare-organization",
        "interior-ministry",
        "oil-ministry",
        "judiciary",
    ),
)

SERVICES: tuple[SimulatedService, ...] = (PERSON, LIFE_STATUS)
