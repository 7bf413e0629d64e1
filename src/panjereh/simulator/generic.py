"""One endpoint for every template service of the demo registry that has no own implementation.

``POST /{agency}/inquiries/{service}`` answers for any agency and service code made of
lower-case letters, digits and dashes. The answer is drawn from (seed, agency, service,
subject), so it never changes between calls, and it respects the civil registry and the
companies register: an unknown subject is ``no-record``, a dead person's permit is ``revoked``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from panjereh.simulator.endpoints import (
    Answer,
    Body,
    Refusal,
    dated,
    invalid,
    legal_id,
    national_code,
    not_found,
    read_object,
)
from panjereh.simulator.facts import AS_OF, Companies
from panjereh.simulator.facts.draw import digits, rng_for
from panjereh.simulator.population import Population

_CODE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?", re.ASCII)


class GenericStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    NO_RECORD = "no-record"


GENERIC_STATUSES_FA: Final = {
    GenericStatus.VALID: "معتبر",
    GenericStatus.EXPIRED: "منقضی",
    GenericStatus.SUSPENDED: "تعلیق",
    GenericStatus.REVOKED: "ابطال‌شده",
    GenericStatus.NO_RECORD: "سابقه‌ای یافت نشد",
}
_DRAWN: Final = (
    GenericStatus.VALID,
    GenericStatus.EXPIRED,
    GenericStatus.SUSPENDED,
    GenericStatus.NO_RECORD,
)
_WEIGHTS: Final = (70, 12, 5, 13)


@dataclass(frozen=True, slots=True)
class Subject:
    """Who an inquiry is about: kind, identifier, and whether it is known (and alive)."""

    kind: str  # "national_code" | "legal_id" | "none"
    value: str
    found: bool
    alive: bool = True


def _subject(population: Population, companies: Companies, body: Body) -> Subject:
    if "national_code" in body and "legal_id" in body:
        raise invalid("Give either 'national_code' or 'legal_id', not both.")
    if "national_code" in body:
        code = national_code(body)
        person = population.person(code)
        alive = person is not None and person.alive
        return Subject("national_code", code.value, person is not None, alive)
    if "legal_id" in body:
        legal = legal_id(body)
        return Subject("legal_id", legal.value, companies.company(legal) is not None)
    return Subject("none", "-", found=True)


def _status(rng: random.Random, subject: Subject) -> GenericStatus:
    if not subject.found:
        return GenericStatus.NO_RECORD
    status = rng.choices(_DRAWN, weights=_WEIGHTS)[0]
    if status is GenericStatus.VALID and not subject.alive:
        return GenericStatus.REVOKED
    return status


def generic_answer(seed: int, agency: str, service: str, subject: Subject) -> Answer:
    rng = rng_for(seed, f"generic:{agency}:{service}", f"{subject.kind}:{subject.value}")
    status = _status(rng, subject)
    valid_until: date | None = None
    if status is GenericStatus.VALID:
        valid_until = AS_OF + timedelta(days=rng.randrange(30, 1800))
    elif status is GenericStatus.EXPIRED:
        valid_until = AS_OF - timedelta(days=rng.randrange(1, 1500))
    return {
        "agency": agency,
        "service": service,
        "subject_kind": subject.kind,
        "subject_found": subject.found,
        "status": status.value,
        "status_fa": GENERIC_STATUSES_FA[status],
        "reference": digits(rng, 16),
        **dated("valid_until", valid_until),
    }


def generic_endpoint(population: Population) -> Callable[[Request], Awaitable[Response]]:
    companies = Companies(population)

    async def inquiry(request: Request) -> Response:
        agency = request.path_params["agency"]
        service = request.path_params["service"]
        try:
            if not (_CODE.fullmatch(agency) and _CODE.fullmatch(service)):
                raise not_found("Agency and service codes are lower-case letters, digits, dashes.")
            subject = _subject(population, companies, await read_object(request))
            return JSONResponse(generic_answer(population.seed, agency, service, subject))
        except Refusal as refusal:
            return refusal.response()

    return inquiry
