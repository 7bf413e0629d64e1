"""The demo's inquiry services: the simulator's real ones and ~1,200 template-generated ones.

Template services are answered by the simulator's generic endpoint; they share three request
schemas and one response schema (the same dict objects), so 1,200 services cost little.
A few non-main inquiries also exist as v2 (v1 deprecated), a few are draft or retired; a topic's
main inquiry (the first verb) never is, because citizen services and demo grants rely on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from panjereh.demo.catalogue_data import TOPICS, VERBS, Kind, Phrase, Topic
from panjereh.demo.directory import Directory
from panjereh.interchange.registry_document import ServiceDoc, SubjectDoc
from panjereh.registry.model import PersonalData, ServiceStatus, SubjectKind
from panjereh.simulator.catalogue import (
    GENERIC_PATH_TEMPLATE,
    SimulatedService,
    generic_request_schema,
    generic_response_schema,
)

ALLOW_PRIVATE = {"allow_private": True}
DEPRECATED_ON = date(2026, 3, 1)
SIMULATED_TIMEOUT_MS = 3000
TIMEOUT_MS = {Kind.REFERENCE: 2000, Kind.DOCUMENT: 3000, Kind.STATUS: 3000}
DEFAULT_TIMEOUT_MS = 5000
# Among the non-main inquiries, by their running number: which get a v2, a draft, a retirement.
V2_EVERY, V2_AT = 61, 30
DRAFT_EVERY, DRAFT_AT = 97, 50
RETIRED_EVERY, RETIRED_AT = 113, 7


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(slots=True)
class ServiceCatalogue:
    """The services in document order, and each topic's main inquiry for citizen services."""

    services: list[ServiceDoc] = field(default_factory=list)
    main_inquiry: dict[tuple[str, str], str] = field(default_factory=dict)


def build_services(
    base_url: str, simulated: Sequence[SimulatedService], directory: Directory
) -> ServiceCatalogue:
    catalogue = ServiceCatalogue([_simulated(base_url, s, directory) for s in simulated])
    taken = {s.service_id for s in simulated}
    templates = _Templates(base_url, directory)
    for agency, topic, verb, number in _plan():
        # A simulated service with the same id replaces the template one (and is as callable).
        versions = templates.versions(agency, topic, verb, number)
        catalogue.services.extend(v for v in versions if v.id not in taken)
        if verb is VERBS[topic.kind][0]:
            catalogue.main_inquiry[(agency, topic.slug)] = versions[-1].id
    return catalogue


def _plan() -> Iterator[tuple[str, Topic, Phrase, int]]:
    """Every (agency, topic, verb), numbering the non-main verbs (the main one gets -1)."""
    number = 0
    for agency, topics in TOPICS.items():
        for topic in topics:
            for index, verb in enumerate(VERBS[topic.kind]):
                if index == 0:
                    yield agency, topic, verb, -1
                else:
                    yield agency, topic, verb, number
                    number += 1


def _simulated(base_url: str, entry: SimulatedService, directory: Directory) -> ServiceDoc:
    personal = PersonalData(entry.personal_data)
    return _service(
        id=entry.service_id,
        provider=directory.provider(entry.agency),
        name_fa=entry.name_fa,
        name_en=entry.name_en,
        description_fa=entry.description_fa,
        description_en=entry.description_en,
        endpoint_url=base_url + entry.path,
        request_schema=dict(entry.request_schema),
        response_schema=dict(entry.response_schema),
        subject=SubjectDoc(pointer=entry.subject_pointer, kind=SubjectKind(entry.subject_kind)),
        personal_data=personal,
        timeout_ms=SIMULATED_TIMEOUT_MS,
        cache_ttl_s=0 if personal is not PersonalData.NONE else 3600,
        status=ServiceStatus.ACTIVE,
    )


def _service(**fields: Any) -> ServiceDoc:
    """A validated service; its endpoint may be private (the demo runs on 127.0.0.1)."""
    return ServiceDoc.model_validate(fields, context=ALLOW_PRIVATE)


class _Templates:
    """Builds a template service's versions; holds the shared schemas and subjects."""

    def __init__(self, base_url: str, directory: Directory) -> None:
        self._base_url = base_url
        self._directory = directory
        kinds = (SubjectKind.NATIONAL_CODE, SubjectKind.LEGAL_ID, SubjectKind.NONE)
        self._requests: dict[SubjectKind, dict[str, Any]] = {
            kind: generic_request_schema(kind.value) for kind in kinds
        }
        self._response = generic_response_schema()
        self._subjects = {
            SubjectKind.NATIONAL_CODE: SubjectDoc(
                pointer="/national_code", kind=SubjectKind.NATIONAL_CODE
            ),
            SubjectKind.LEGAL_ID: SubjectDoc(pointer="/legal_id", kind=SubjectKind.LEGAL_ID),
            SubjectKind.NONE: SubjectDoc(),
        }

    def versions(self, agency: str, topic: Topic, verb: Phrase, number: int) -> list[ServiceDoc]:
        slug = f"{topic.slug}-{verb.slug}"
        if number >= 0 and number % V2_EVERY == V2_AT:
            return [
                self._one(agency, topic, verb, slug, 1, ServiceStatus.DEPRECATED),
                self._one(agency, topic, verb, slug, 2, ServiceStatus.ACTIVE),
            ]
        return [self._one(agency, topic, verb, slug, 1, _status(number))]

    def _one(
        self,
        agency: str,
        topic: Topic,
        verb: Phrase,
        slug: str,
        version: int,
        status: ServiceStatus,
    ) -> ServiceDoc:
        row = self._directory.agencies[agency]
        name_fa = verb.fa.format(x=topic.fa)
        name_en = capitalized(verb.en.format(x=topic.en))
        if version > 1:
            name_fa, name_en = f"{name_fa} (نسخه {version})", f"{name_en} (version {version})"
        personal = _personal_data(topic)
        return _service(
            id=f"{agency}.{slug}.v{version}",
            provider=self._directory.provider(agency, topic.system),
            name_fa=name_fa,
            name_en=name_en,
            description_fa=(
                f"{name_fa} از {row.name_fa}؛ پاسخ وضعیت، شماره مرجع و تاریخ اعتبار را دارد."
            ),
            description_en=(
                f"{name_en}, answered by the {row.name_en} with a status, "
                "a reference number and a validity date."
            ),
            endpoint_url=self._base_url + GENERIC_PATH_TEMPLATE.format(agency=agency, service=slug),
            request_schema=self._requests[topic.subject],
            response_schema=self._response,
            subject=self._subjects[topic.subject],
            personal_data=personal,
            timeout_ms=TIMEOUT_MS.get(topic.kind, DEFAULT_TIMEOUT_MS),
            cache_ttl_s=_cache_ttl(topic, personal),
            status=status,
            deprecated_on=DEPRECATED_ON if status is ServiceStatus.DEPRECATED else None,
        )


def _status(number: int) -> ServiceStatus:
    if number >= 0 and number % DRAFT_EVERY == DRAFT_AT:
        return ServiceStatus.DRAFT
    if number >= 0 and number % RETIRED_EVERY == RETIRED_AT:
        return ServiceStatus.RETIRED
    return ServiceStatus.ACTIVE


def _personal_data(topic: Topic) -> PersonalData:
    if topic.subject is not SubjectKind.NATIONAL_CODE:
        return PersonalData.NONE
    return PersonalData.SENSITIVE if topic.sensitive else PersonalData.PERSONAL


def _cache_ttl(topic: Topic, personal: PersonalData) -> int:
    if personal is not PersonalData.NONE:
        return 0
    return 86_400 if topic.kind is Kind.REFERENCE else 3600
