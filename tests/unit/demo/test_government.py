"""The demonstration government: a valid registry document shaped like the seed's figures."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from panjereh.demo import DEMO_CONSUMERS, build_government
from panjereh.domain.identifiers import LegalId
from panjereh.interchange.registry_document import RegistryDocument, ServiceDoc
from panjereh.registry.model import (
    Delivery,
    GrantStatus,
    ServiceStatus,
    Status,
    SubjectKind,
    SystemRole,
)
from panjereh.simulator.catalogue import (
    GENERIC_PATH_TEMPLATE,
    SIMULATED_SERVICES,
    generic_request_schema,
    generic_response_schema,
)

URL = "http://127.0.0.1:8000"
PERSON = "civil-registry.person.v1"
BENEFITS = "social-security/benefits"
DEGREES = "science-ministry/degrees"
REQUIRED_AGENCIES = {
    "civil-registry",
    "science-ministry",
    "education-ministry",
    "social-security",
    "health-insurance",
    "judiciary",
    "traffic-police",
    "telecom-regulator",
    "tax-administration",
    "welfare-organization",
    "agriculture-ministry",
    "cultural-heritage-ministry",
    "oil-ministry",
    "interior-ministry",
    "companies-registry",
    "labour-ministry",
    "health-ministry",
    "economy-ministry",
    "ict-ministry",
    "energy-ministry",
    "justice-ministry",
    "sports-ministry",
}
HIGH_COVERAGE = (
    "justice-ministry",
    "energy-ministry",
    "ict-ministry",
    "education-ministry",
    "sports-ministry",
)
LOW_COVERAGE = ("agriculture-ministry", "cultural-heritage-ministry", "oil-ministry")


@pytest.fixture(scope="module")
def doc() -> RegistryDocument:
    return build_government(URL)


def _template_services(doc: RegistryDocument) -> list[ServiceDoc]:
    simulated = {s.service_id for s in SIMULATED_SERVICES}
    return [s for s in doc.services if s.id not in simulated]


def _digital_share(doc: RegistryDocument, agency: str) -> float:
    deliveries = [c.delivery for c in doc.citizen_services if c.agency == agency]
    digital = sum(d in (Delivery.ELECTRONIC, Delivery.SMART) for d in deliveries)
    return digital / len(deliveries)


# --- a valid document -----------------------------------------------------------------------


def test_the_document_survives_a_json_round_trip_and_has_no_problems(
    doc: RegistryDocument,
) -> None:
    again = RegistryDocument.model_validate(
        doc.model_dump(mode="json"), context={"allow_private": True}
    )
    assert again == doc
    assert doc.problems() == []


def test_every_datetime_in_it_is_timezone_aware(doc: RegistryDocument) -> None:
    def datetimes(value: Any) -> list[datetime]:
        if isinstance(value, datetime):
            return [value]
        if isinstance(value, dict):
            return [d for v in value.values() for d in datetimes(v)]
        if isinstance(value, list):
            return [d for v in value for d in datetimes(v)]
        return []

    found = datetimes(doc.model_dump())
    assert found
    assert all(d.tzinfo is not None for d in found)


def test_systems_carry_no_keys(doc: RegistryDocument) -> None:
    assert all(not s.api_keys and not s.signing_keys for s in doc.systems)


# --- agencies and systems -------------------------------------------------------------------


def test_it_has_every_required_agency_and_their_parents(doc: RegistryDocument) -> None:
    codes = {a.code for a in doc.agencies}
    assert len(codes) >= 13
    assert codes >= REQUIRED_AGENCIES
    assert all(a.parent is None or a.parent in codes for a in doc.agencies)
    parents = {a.code: a.parent for a in doc.agencies}
    assert parents["civil-registry"] == "interior-ministry"
    assert parents["social-security"] == "labour-ministry"
    assert parents["companies-registry"] == "judiciary"
    assert parents["telecom-regulator"] == "ict-ministry"


def test_agencies_keep_their_legal_ids_and_example_addresses(doc: RegistryDocument) -> None:
    legal = {a.code: a.legal_id for a in doc.agencies}
    assert legal["civil-registry"].startswith("1400026754")
    assert legal["science-ministry"].startswith("1400123456")
    assert legal["social-security"].startswith("1400039845")
    assert len({a.legal_id[:10] for a in doc.agencies}) == len(doc.agencies)
    assert all(
        a.contact.email is not None and a.contact.email.endswith(".example") for a in doc.agencies
    )


def test_every_demo_legal_id_passes_todays_rules(doc: RegistryDocument) -> None:
    """Digits 4-9 never all zero included (docs/domain.md): the demo imports on a fresh
    install, and `panjereh registry check` finds nothing in it."""
    for agency in doc.agencies:
        assert LegalId.parse(agency.legal_id).value == agency.legal_id
    assert doc.problems_today(allow_private=True) == []


def test_every_agency_that_provides_or_consumes_has_a_system_for_it(
    doc: RegistryDocument,
) -> None:
    systems = {s.ref: s for s in doc.systems}
    assert SystemRole.PROVIDER in systems["civil-registry/population-registry"].roles
    for service in doc.services:
        assert SystemRole.PROVIDER in systems[service.provider].roles
    for grant in doc.grants:
        assert SystemRole.CONSUMER in systems[grant.consumer].roles


def test_units_that_dropped_off_have_a_suspended_provider_system(doc: RegistryDocument) -> None:
    for agency in ("agriculture-ministry", "welfare-organization"):
        own = [s for s in doc.systems if s.agency == agency]
        assert any(s.status is Status.SUSPENDED and SystemRole.PROVIDER in s.roles for s in own)
        assert any(s.status is Status.ACTIVE for s in own)


def test_the_demo_consumers_are_consumer_systems_in_the_promised_order(
    doc: RegistryDocument,
) -> None:
    assert DEMO_CONSUMERS[:2] == (BENEFITS, DEGREES)
    systems = {s.ref: s for s in doc.systems}
    assert all(SystemRole.CONSUMER in systems[ref].roles for ref in DEMO_CONSUMERS)


# --- services -------------------------------------------------------------------------------


def test_it_registers_over_1200_services_with_unique_ids(doc: RegistryDocument) -> None:
    ids = [s.id for s in doc.services]
    assert len(ids) >= 1200
    assert len(set(ids)) == len(ids)


def test_every_simulated_service_is_registered_at_its_simulator_endpoint(
    doc: RegistryDocument,
) -> None:
    services = {s.id: s for s in doc.services}
    for entry in SIMULATED_SERVICES:
        service = services[entry.service_id]
        assert service.endpoint_url == f"{URL}/simulator{entry.path}"
        assert service.status is ServiceStatus.ACTIVE
        assert service.provider.split("/")[0] == entry.agency
        assert (service.name_fa, service.name_en) == (entry.name_fa, entry.name_en)
        assert service.request_schema == entry.request_schema
        assert service.response_schema == entry.response_schema
        assert service.subject.pointer == entry.subject_pointer
        assert service.personal_data.value == entry.personal_data


def test_every_template_service_is_answered_by_the_generic_endpoint(
    doc: RegistryDocument,
) -> None:
    response = generic_response_schema()
    for service in _template_services(doc):
        slug = service.id.split(".")[1]
        path = GENERIC_PATH_TEMPLATE.format(agency=service.agency, service=slug)
        assert service.endpoint_url == f"{URL}/simulator{path}"
        assert service.request_schema == generic_request_schema(service.subject.kind.value)
        assert service.response_schema == response


def test_personal_template_services_are_never_cached(doc: RegistryDocument) -> None:
    for service in _template_services(doc):
        personal = service.subject.kind is SubjectKind.NATIONAL_CODE
        assert (service.cache_ttl_s == 0) is personal


def test_no_two_services_of_an_agency_share_a_name(doc: RegistryDocument) -> None:
    for field in ("name_fa", "name_en"):
        names = Counter((s.agency, getattr(s, field)) for s in doc.services)
        assert [key for key, count in names.items() if count > 1] == []


def test_a_second_version_replaces_a_deprecated_first_one(doc: RegistryDocument) -> None:
    services = {s.id: s for s in doc.services}
    second = [s for s in doc.services if s.id.endswith(".v2")]
    assert second
    for service in second:
        first = services[service.id.removesuffix("2") + "1"]
        assert first.status is ServiceStatus.DEPRECATED
        assert first.deprecated_on is not None
        assert service.status is ServiceStatus.ACTIVE
    statuses = Counter(s.status for s in doc.services)
    assert statuses[ServiceStatus.DRAFT] > 0
    assert statuses[ServiceStatus.RETIRED] > 0


def test_big_registries_offer_more_inquiries_than_small_agencies(doc: RegistryDocument) -> None:
    per_agency = Counter(s.agency for s in doc.services)
    assert min(per_agency[a] for a in ("civil-registry", "judiciary", "tax-administration")) > (
        max(per_agency[a] for a in ("sports-ministry", "oil-ministry", "justice-ministry"))
    )


# --- grants: personas -----------------------------------------------------------------------


def test_the_benefits_system_may_ask_for_a_person_with_every_field(
    doc: RegistryDocument,
) -> None:
    grant = next(g for g in doc.grants if (g.consumer, g.service) == (BENEFITS, PERSON))
    assert grant.status is GrantStatus.ACTIVE
    assert "benefit-eligibility" in grant.purposes
    assert grant.projection is None


def test_the_degrees_system_holds_no_grant_on_the_person_service(doc: RegistryDocument) -> None:
    assert [g for g in doc.grants if (g.consumer, g.service) == (DEGREES, PERSON)] == []
    assert any(g.consumer == DEGREES for g in doc.grants)  # it does hold others


def test_grants_on_simulated_services_stay_within_their_purposes(doc: RegistryDocument) -> None:
    offered = {s.service_id: set(s.purposes) for s in SIMULATED_SERVICES}
    for grant in doc.grants:
        if grant.service in offered and (grant.consumer, grant.service) != (BENEFITS, PERSON):
            assert set(grant.purposes) <= offered[grant.service]


def test_some_requests_are_pending_one_rejected_and_one_confidential(
    doc: RegistryDocument,
) -> None:
    statuses = Counter(g.status for g in doc.grants)
    assert statuses[GrantStatus.PENDING] >= 2
    assert statuses[GrantStatus.REJECTED] == 1
    pending = [g for g in doc.grants if g.status is GrantStatus.PENDING]
    assert all(g.justification and g.requested_by and g.decided_at is None for g in pending)
    (confidential,) = [g for g in doc.grants if g.confidential]
    assert confidential.status is GrantStatus.ACTIVE
    assert confidential.consumer.startswith("judiciary/")
    assert confidential.service.startswith("traffic-police.")
    assert confidential.purposes == ["law-enforcement"]


def test_there_are_a_few_hundred_grants_some_projected_or_limited(
    doc: RegistryDocument,
) -> None:
    assert 200 <= len(doc.grants) <= 800
    assert any(g.projection for g in doc.grants)
    assert any(g.rate_limit_per_minute and g.daily_quota for g in doc.grants)


# --- citizen services and delivery ----------------------------------------------------------


def test_each_agency_offers_15_to_60_citizen_services(doc: RegistryDocument) -> None:
    per_agency = Counter(c.agency for c in doc.citizen_services)
    assert set(per_agency) == {a.code for a in doc.agencies}
    assert all(15 <= n <= 60 for n in per_agency.values())
    assert all(0 <= len(c.inquiries) <= 3 for c in doc.citizen_services)


@pytest.mark.parametrize("agency", HIGH_COVERAGE)
def test_the_high_coverage_ministries_deliver_over_70_percent_electronically(
    doc: RegistryDocument, agency: str
) -> None:
    assert _digital_share(doc, agency) > 0.70


@pytest.mark.parametrize("agency", LOW_COVERAGE)
def test_agriculture_heritage_and_oil_deliver_under_30_percent_electronically(
    doc: RegistryDocument, agency: str
) -> None:
    assert _digital_share(doc, agency) < 0.30


def test_the_smart_share_stays_below_the_20_percent_target(doc: RegistryDocument) -> None:
    smart = sum(c.delivery is Delivery.SMART for c in doc.citizen_services)
    assert 0.10 <= smart / len(doc.citizen_services) <= 0.20


def test_smart_services_need_only_inquiries_that_can_be_called_now(
    doc: RegistryDocument,
) -> None:
    active_systems = {s.ref for s in doc.systems if s.status is Status.ACTIVE}
    callable_ = {
        s.id
        for s in doc.services
        if s.status in (ServiceStatus.ACTIVE, ServiceStatus.DEPRECATED)
        and s.provider in active_systems
    }
    smart = [c for c in doc.citizen_services if c.delivery is Delivery.SMART]
    assert smart
    assert all(set(c.inquiries) <= callable_ for c in smart)
    assert any(not set(c.inquiries) <= callable_ for c in doc.citizen_services)


# --- determinism and text -------------------------------------------------------------------


def test_two_builds_are_identical(doc: RegistryDocument) -> None:
    assert build_government(URL) == doc
    assert build_government(URL).model_dump_json() == doc.model_dump_json()


def test_the_public_url_changes_only_the_endpoints(doc: RegistryDocument) -> None:
    other = build_government("https://panjereh.gov.example/")
    mine, theirs = doc.model_dump(mode="json"), other.model_dump(mode="json")
    for here, there in zip(mine["services"], theirs["services"], strict=True):
        assert here.pop("endpoint_url").startswith(f"{URL}/simulator/")
        assert there.pop("endpoint_url").startswith("https://panjereh.gov.example/simulator/")
    assert mine == theirs


def test_persian_text_uses_persian_yeh_and_kaf(doc: RegistryDocument) -> None:
    texts = [
        *(t for p in doc.purposes for t in (p.name_fa,)),
        *(a.name_fa for a in doc.agencies),
        *(t for s in doc.services for t in (s.name_fa, s.description_fa)),
        *(c.title_fa for c in doc.citizen_services),
    ]
    assert all("ي" not in t and "ك" not in t for t in texts)
    assert "استعلام خلاصه سوابق بیمه‌ای" in {s.name_fa for s in doc.services}
