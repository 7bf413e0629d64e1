"""What the simulated judiciary serves."""

from __future__ import annotations

from panjereh.simulator.judiciary.app import AGENCY_CODE
from panjereh.simulator.schemas import (
    BOOLEAN,
    DIGITS,
    NATIONAL_CODE,
    STRING,
    TEXT,
    SimulatedService,
    dated,
    nullable,
    one_of,
    service,
)

_PERSON = {
    "national_code": NATIONAL_CODE,
    "first_name": TEXT,
    "last_name": TEXT,
    "father_name": TEXT,
}

CRIMINAL_RECORD = service(
    AGENCY_CODE,
    "criminal-record",
    name=("استعلام سوء پیشینه کیفری", "Criminal record inquiry"),
    description=(
        "وضعیت محکومیت کیفری مؤثر و محرومیت از حقوق اجتماعی فرد (گواهی عدم سوء پیشینه).",
        "Whether a person has an effective criminal conviction or is deprived of social "
        "rights (the certificate of no criminal record).",
    ),
    response_properties={
        **_PERSON,
        "record_status": one_of(["effective-conviction", "no-effective-conviction"]),
        "record_status_fa": TEXT,
        "deprived_of_social_rights": BOOLEAN,
        **dated("deprived_until", optional=True),
        "certificate_tracking_code": DIGITS,
    },
    personal_data="sensitive",
    purposes=("law-enforcement", "judicial-proceedings", "licensing", "election-administration"),
    consumers=(
        "interior-ministry",
        "traffic-police",
        "companies-registry",
        "cultural-heritage-ministry",
        "social-security",
    ),
)

SANA_REGISTRATION = service(
    AGENCY_CODE,
    "sana-registration",
    name=("استعلام ثبت‌نام در سامانه ثنا", "SANA registration inquiry"),
    description=(
        "آیا فرد در سامانه ثبت‌نام الکترونیک قضایی (ثنا) ثبت‌نام کرده است، با شماره همراه نیمه‌پنهان.",
        "Whether a person is registered with SANA, the judiciary's electronic service "
        "registry, with the registered mobile number partly hidden.",
    ),
    response_properties={
        **_PERSON,
        "registered": BOOLEAN,
        "account_status": nullable(one_of(["active", "inactive"])),
        "sana_id": nullable(DIGITS),
        **dated("registered_on", optional=True),
        "mobile_masked": nullable(STRING),
    },
    purposes=("judicial-proceedings", "identity-verification"),
    consumers=("interior-ministry", "tax-administration", "companies-registry"),
)

SERVICES: tuple[SimulatedService, ...] = (CRIMINAL_RECORD, SANA_REGISTRATION)
