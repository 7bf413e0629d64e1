"""Who may ask what in the demo: grants on the simulated services, a few requests still pending,
one rejected, one confidential, and a seeded sample of grants between plausible agencies.

Fixed for the demo personas: ``social-security/benefits`` holds an active grant on
``civil-registry.person.v1`` for benefit-eligibility with no projection (it sees every field),
and ``science-ministry/degrees`` holds no grant of any status on it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from panjereh.demo.directory import Directory
from panjereh.demo.government_data import GRANT_CONSUMERS, MINIMISING_CONSUMERS
from panjereh.interchange.registry_document import GrantDoc, ServiceDoc
from panjereh.registry.model import GrantStatus, ServiceStatus
from panjereh.simulator.catalogue import SimulatedService

NOW = datetime(2026, 3, 21, tzinfo=UTC)
TODAY = NOW.date()
PERSON_SERVICE = "civil-registry.person.v1"
BENEFITS_AGENCY = "social-security"  # its consumer system is social-security/benefits
NO_GRANT_AGENCY = "science-ministry"  # its consumer system is science-ministry/degrees
TEMPLATE_GRANT_SEED = 1405
TEMPLATE_GRANT_SHARE = 0.075  # of (template service, plausible consumer) pairs
GENERIC_PROJECTION = ["/subject_found", "/status", "/valid_until"]


@dataclass(frozen=True, slots=True)
class Request:
    """A grant decided (or not) by hand: pending, rejected or confidential."""

    consumer: str  # agency code
    service: str
    purpose: str
    justification: str
    status: GrantStatus
    confidential: bool = False


REQUESTS: tuple[Request, ...] = (
    Request(
        "science-ministry",
        "education-ministry.diploma-status.v1",
        "education-verification",
        "تطبیق مدرک دیپلم داوطلبان پذیرش دانشگاه با سوابق آموزش و پرورش.",
        GrantStatus.PENDING,
    ),
    Request(
        "welfare-organization",
        "tax-administration.property-transfer-tax-balance.v1",
        "benefit-eligibility",
        "سنجش توان مالی متقاضیان مستمری بهزیستی پیش از تصویب.",
        GrantStatus.PENDING,
    ),
    Request(
        "labour-ministry",
        "social-security.insurance-record-summary.v1",
        "employment-check",
        "بررسی سوابق بیمه‌ای کارجویان برای طرح‌های اشتغال.",
        GrantStatus.PENDING,
    ),
    Request(
        "sports-ministry",
        "health-ministry.health-record-summary.v1",
        "licensing",
        "بررسی سلامت ورزشکاران پیش از صدور کارت مربیگری.",
        GrantStatus.REJECTED,
    ),
    Request(
        "judiciary",
        "traffic-police.vehicle-ownership-status.v1",
        "law-enforcement",
        "شناسایی اموال محکومان مالی در اجرای احکام؛ محرمانه تا پایان تحقیقات.",
        GrantStatus.ACTIVE,
        confidential=True,
    ),
)


def build_grants(
    simulated: Sequence[SimulatedService],
    services: Sequence[ServiceDoc],
    directory: Directory,
    purpose_codes: frozenset[str],
) -> list[GrantDoc]:
    known = {s.id: s for s in services}
    simulated_ids = {s.service_id for s in simulated}
    grants = [
        *_simulated_grants(simulated, directory, purpose_codes),
        *_requested(known, directory),
        *_template_grants(services, simulated_ids, directory),
    ]
    return _first_per_pair(grants)


def _first_per_pair(grants: list[GrantDoc]) -> list[GrantDoc]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for grant in grants:
        if (grant.consumer, grant.service) not in seen:
            seen.add((grant.consumer, grant.service))
            unique.append(grant)
    return unique


# --- the simulated services ----------------------------------------------------------------


def _consumers_of(entry: SimulatedService) -> list[str]:
    consumers = list(dict.fromkeys(entry.consumers))
    if entry.service_id == PERSON_SERVICE:
        consumers = [BENEFITS_AGENCY] + [
            c for c in consumers if c not in (BENEFITS_AGENCY, NO_GRANT_AGENCY)
        ]
    return consumers


def _simulated_grants(
    simulated: Sequence[SimulatedService], directory: Directory, purpose_codes: frozenset[str]
) -> Iterator[GrantDoc]:
    for entry in simulated:
        offered = [p for p in entry.purposes if p in purpose_codes]
        for index, agency in enumerate(_consumers_of(entry)):
            consumer = directory.consumer(agency)
            row = directory.agencies.get(agency)
            if consumer is None or row is None:
                continue
            anchor = entry.service_id == PERSON_SERVICE and agency == BENEFITS_AGENCY
            purposes = [p for p in offered if p in row.purposes] or offered[:1]
            if anchor and "benefit-eligibility" not in purposes:
                purposes.append("benefit-eligibility")
            if not purposes:
                continue
            minimise = agency in MINIMISING_CONSUMERS and not anchor
            yield _active(
                consumer,
                entry.service_id,
                purposes,
                projection=_projection(entry) if minimise else None,
                limited=index % 2 == 1,
            )


def _projection(entry: SimulatedService) -> list[str] | None:
    """The answer's required fields except the subject's own identifier, at most three."""
    required = _required(entry.response_schema)
    subject = (entry.subject_pointer or "").removeprefix("/")
    fields = [f for f in required if f != subject][:3]
    return [_pointer(f) for f in fields] or None


def _required(schema: Mapping[str, Any]) -> list[str]:
    required = schema.get("required", [])
    if not isinstance(required, list):
        return []
    return [f for f in required if isinstance(f, str) and f]


def _pointer(name: str) -> str:
    return "/" + name.replace("~", "~0").replace("/", "~1")


def _active(
    consumer: str,
    service: str,
    purposes: list[str],
    *,
    projection: list[str] | None,
    limited: bool,
    valid_until: date | None = None,
) -> GrantDoc:
    return GrantDoc(
        consumer=consumer,
        service=service,
        purposes=purposes,
        projection=projection,
        rate_limit_per_minute=600 if limited else None,
        daily_quota=200_000 if limited else None,
        valid_from=TODAY,
        valid_until=valid_until,
        status=GrantStatus.ACTIVE,
        requested_by=f"admin@{consumer.split('/')[0]}",
        requested_at=NOW,
        decided_by=f"admin@{service.split('.')[0]}",
        decided_at=NOW,
    )


# --- requests decided by hand --------------------------------------------------------------


def _requested(known: Mapping[str, ServiceDoc], directory: Directory) -> Iterator[GrantDoc]:
    for request in REQUESTS:
        consumer = directory.consumer(request.consumer)
        if consumer is None or request.service not in known:
            continue
        decided = request.status is not GrantStatus.PENDING
        yield GrantDoc(
            consumer=consumer,
            service=request.service,
            purposes=[request.purpose],
            status=request.status,
            confidential=request.confidential,
            disclosure_date=date(2027, 3, 21) if request.confidential else None,
            valid_from=TODAY if request.status is GrantStatus.ACTIVE else None,
            justification=request.justification,
            requested_by=f"admin@{request.consumer}",
            requested_at=NOW,
            decided_by=f"admin@{request.service.split('.')[0]}" if decided else None,
            decided_at=NOW if decided else None,
        )


# --- a seeded sample between plausible agencies ---------------------------------------------


def _template_grants(
    services: Sequence[ServiceDoc], simulated_ids: set[str], directory: Directory
) -> Iterator[GrantDoc]:
    rng = random.Random(TEMPLATE_GRANT_SEED)  # noqa: S311 - demo data, not security
    callable_ = (ServiceStatus.ACTIVE, ServiceStatus.DEPRECATED)
    for service in services:
        if service.id in simulated_ids or service.status not in callable_:
            continue
        for agency in GRANT_CONSUMERS.get(service.agency, ()):
            if rng.random() >= TEMPLATE_GRANT_SHARE:
                continue
            consumer = directory.consumer(agency)
            if consumer is None:
                continue
            yield _active(
                consumer,
                service.id,
                list(directory.agencies[agency].purposes),
                projection=list(GENERIC_PROJECTION) if agency in MINIMISING_CONSUMERS else None,
                limited=rng.random() < 0.3,
                valid_until=date(2027, 3, 20) if rng.random() < 0.2 else None,
            )
