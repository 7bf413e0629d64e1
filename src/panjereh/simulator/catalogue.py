"""What the simulator serves: the contract between the simulated agencies and the demo seed.

The demonstration government (panjereh.demo) registers every entry here as an active service
whose endpoint is ``<public_url>/simulator<path>``, and may register any number of template
services on the generic endpoint (:data:`GENERIC_PATH_TEMPLATE`), whose request and answer
are described by :func:`generic_request_schema` and :func:`generic_response_schema`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from panjereh.domain.errors import InvalidValue
from panjereh.simulator.agriculture_ministry import catalogue as agriculture
from panjereh.simulator.civil_registry import catalogue as civil
from panjereh.simulator.companies_registry import catalogue as companies
from panjereh.simulator.cultural_heritage_ministry import catalogue as heritage
from panjereh.simulator.education_ministry import catalogue as education
from panjereh.simulator.generic import GenericStatus
from panjereh.simulator.health_insurance import catalogue as health
from panjereh.simulator.interior_ministry import catalogue as interior
from panjereh.simulator.judiciary import catalogue as justice
from panjereh.simulator.oil_ministry import catalogue as oil
from panjereh.simulator.schemas import (
    BOOLEAN,
    DIGITS,
    LEGAL_ID_REQUEST,
    NATIONAL_CODE_REQUEST,
    NO_SUBJECT_REQUEST,
    PURPOSES,
    TEXT,
    SimulatedService,
    dated,
    one_of,
    response,
)
from panjereh.simulator.science_ministry import catalogue as science
from panjereh.simulator.social_security import catalogue as security
from panjereh.simulator.tax_administration import catalogue as tax
from panjereh.simulator.telecom_regulator import catalogue as telecom
from panjereh.simulator.traffic_police import catalogue as traffic
from panjereh.simulator.welfare_organization import catalogue as welfare

__all__ = [
    "GENERIC_PATH_TEMPLATE",
    "LEGAL_ID_REQUEST",
    "NATIONAL_CODE_REQUEST",
    "PURPOSES",
    "SIMULATED_AGENCIES",
    "SIMULATED_SERVICES",
    "SimulatedAgency",
    "SimulatedService",
    "generic_request_schema",
    "generic_response_schema",
]


@dataclass(frozen=True, slots=True)
class SimulatedAgency:
    code: str  # the path prefix below /simulator, e.g. "civil-registry"
    name_fa: str
    name_en: str


SIMULATED_AGENCIES: tuple[SimulatedAgency, ...] = (
    SimulatedAgency(
        "civil-registry", "سازمان ثبت احوال کشور", "National Organization for Civil Registration"
    ),
    SimulatedAgency(
        "science-ministry",
        "وزارت علوم، تحقیقات و فناوری",
        "Ministry of Science, Research and Technology",
    ),
    SimulatedAgency("education-ministry", "وزارت آموزش و پرورش", "Ministry of Education"),
    SimulatedAgency("social-security", "سازمان تأمین اجتماعی", "Social Security Organization"),
    SimulatedAgency(
        "health-insurance", "سازمان بیمه سلامت ایران", "Iran Health Insurance Organization"
    ),
    SimulatedAgency("judiciary", "قوه قضاییه", "Judiciary"),
    SimulatedAgency("traffic-police", "پلیس راهور فراجا", "Traffic Police"),
    SimulatedAgency(
        "telecom-regulator",
        "سازمان تنظیم مقررات و ارتباطات رادیویی",
        "Communications Regulatory Authority",
    ),
    SimulatedAgency(
        "tax-administration", "سازمان امور مالیاتی کشور", "Iranian National Tax Administration"
    ),
    SimulatedAgency("welfare-organization", "سازمان بهزیستی کشور", "State Welfare Organization"),
    SimulatedAgency("agriculture-ministry", "وزارت جهاد کشاورزی", "Ministry of Agriculture Jihad"),
    SimulatedAgency(
        "cultural-heritage-ministry",
        "وزارت میراث فرهنگی، گردشگری و صنایع دستی",
        "Ministry of Cultural Heritage, Tourism and Handicrafts",
    ),
    SimulatedAgency("oil-ministry", "وزارت نفت", "Ministry of Petroleum"),
    SimulatedAgency("interior-ministry", "وزارت کشور", "Ministry of Interior"),
    SimulatedAgency(
        "companies-registry",
        "سازمان ثبت اسناد و املاک کشور",
        "Registration Organization of Deeds and Properties",
    ),
)

SIMULATED_SERVICES: tuple[SimulatedService, ...] = (
    *civil.SERVICES,
    *science.SERVICES,
    *education.SERVICES,
    *security.SERVICES,
    *health.SERVICES,
    *justice.SERVICES,
    *traffic.SERVICES,
    *telecom.SERVICES,
    *tax.SERVICES,
    *welfare.SERVICES,
    *agriculture.SERVICES,
    *heritage.SERVICES,
    *oil.SERVICES,
    *interior.SERVICES,
    *companies.SERVICES,
)

#: The generic endpoint below /simulator, for template services without an implementation.
GENERIC_PATH_TEMPLATE = "/{agency}/inquiries/{service}"

_GENERIC_REQUESTS = {
    "national_code": NATIONAL_CODE_REQUEST,
    "legal_id": LEGAL_ID_REQUEST,
    "none": NO_SUBJECT_REQUEST,
}
_CODE = {"type": "string", "pattern": "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"}


def generic_request_schema(subject_kind: str) -> dict[str, Any]:
    """The request of a generic service whose subject is ``subject_kind``."""
    if subject_kind not in _GENERIC_REQUESTS:
        raise InvalidValue(
            "simulator.subject-kind",
            message_en="The subject kind must be national_code, legal_id or none.",
            message_fa="نوع موضوع استعلام باید national_code، legal_id یا none باشد.",
        )
    return copy.deepcopy(dict(_GENERIC_REQUESTS[subject_kind]))


def generic_response_schema() -> dict[str, Any]:
    """The answer of every generic service."""
    return copy.deepcopy(
        dict(
            response(
                {
                    "agency": _CODE,
                    "service": _CODE,
                    "subject_kind": one_of(["national_code", "legal_id", "none"]),
                    "subject_found": BOOLEAN,
                    "status": one_of(GenericStatus),
                    "status_fa": TEXT,
                    "reference": DIGITS,
                    **dated("valid_until", optional=True),
                }
            )
        )
    )
