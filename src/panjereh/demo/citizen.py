"""The citizen-service inventory and how each service is delivered today.

Each agency's delivery shares are computed from counts, not drawn at random: of its ``n``
services, ``round(n × electronic share)`` are delivered electronically or smartly and
``round(n × smart share)`` smartly, capped by how many can be smart at all: a smart service
runs with no officer, so every inquiry it needs must be callable now (an active or deprecated
service on an active system).  A seeded shuffle per agency only decides *which* services.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from panjereh.demo.catalogue_data import ACTIONS, TOPICS, Kind, Phrase, Topic
from panjereh.demo.directory import Directory
from panjereh.demo.government_data import DEFAULT_DELIVERY_TARGET, DELIVERY_TARGETS
from panjereh.demo.services import capitalized
from panjereh.interchange.registry_document import CitizenServiceDoc
from panjereh.registry.model import Delivery, SubjectKind

IDENTITY_AGENCY = "civil-registry"
COMPANY_AGENCY = "companies-registry"
LIFE_TOPIC = (IDENTITY_AGENCY, "life")
COMPANY_TOPIC = (COMPANY_AGENCY, "company-registration")


@dataclass(frozen=True, slots=True)
class Inquiries:
    """What citizen services may call: each topic's main inquiry and the shared checks."""

    main: Mapping[tuple[str, str], str]
    available: frozenset[str]  # callable now: active or deprecated, on an active system
    person: str | None  # the identity inquiry, e.g. civil-registry.person.v1

    def needed(self, agency: str, topic: Topic, action: Phrase) -> list[str]:
        needed = [self.main.get((agency, topic.slug))]
        if topic.subject is SubjectKind.NATIONAL_CODE and agency != IDENTITY_AGENCY:
            needed.append(self.person)
            if topic.kind is Kind.DOCUMENT and action.slug == "issue":
                needed.append(self.main.get(LIFE_TOPIC))
        if topic.subject is SubjectKind.LEGAL_ID and agency != COMPANY_AGENCY:
            needed.append(self.main.get(COMPANY_TOPIC))
        return list(dict.fromkeys(i for i in needed if i is not None))


def build_citizen_services(directory: Directory, inquiries: Inquiries) -> list[CitizenServiceDoc]:
    citizen: list[CitizenServiceDoc] = []
    for agency, topics in TOPICS.items():
        if agency in directory.agencies:
            citizen.extend(_agency_services(agency, topics, directory, inquiries))
    return citizen


def _agency_services(
    agency: str, topics: tuple[Topic, ...], directory: Directory, inquiries: Inquiries
) -> list[CitizenServiceDoc]:
    planned = [
        (topic, action, inquiries.needed(agency, topic, action))
        for topic in topics
        for action in ACTIONS[topic.kind]
        if topic.renewable or not action.renewable_only
    ]
    can_be_smart = [all(i in inquiries.available for i in needed) for _, _, needed in planned]
    delivery = _deliveries(agency, can_be_smart)
    category = directory.agencies[agency].category
    return [
        CitizenServiceDoc(
            id=f"{agency}.{topic.slug}-{action.slug}",
            agency=agency,
            title_fa=action.fa.format(x=topic.fa),
            title_en=capitalized(action.en.format(x=topic.en)),
            category=topic.category or category,
            delivery=how,
            inquiries=needed,
        )
        for (topic, action, needed), how in zip(planned, delivery, strict=True)
    ]


def _deliveries(agency: str, can_be_smart: list[bool]) -> list[Delivery]:
    total = len(can_be_smart)
    electronic_share, smart_share = DELIVERY_TARGETS.get(agency, DEFAULT_DELIVERY_TARGET)
    digital = round(total * electronic_share)
    order = list(range(total))
    random.Random(f"delivery:{agency}").shuffle(order)  # noqa: S311 - demo data
    smart = [i for i in order if can_be_smart[i]][: min(round(total * smart_share), digital)]
    chosen = set(smart)
    rest = [i for i in order if i not in chosen]
    electronic = rest[: digital - len(smart)]
    delivery = [Delivery.IN_PERSON] * total
    for i in electronic:
        delivery[i] = Delivery.ELECTRONIC
    for i in smart:
        delivery[i] = Delivery.SMART
    return delivery
