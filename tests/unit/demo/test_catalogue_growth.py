"""The simulator's catalogue grows on its own; the demo must keep building from whatever it has."""

from __future__ import annotations

from dataclasses import replace

from panjereh.demo.government import compose_government
from panjereh.demo.government_data import AGENCIES
from panjereh.interchange.registry_document import RegistryDocument
from panjereh.registry.model import GrantStatus
from panjereh.simulator.catalogue import (
    NATIONAL_CODE_REQUEST,
    SIMULATED_SERVICES,
    SimulatedService,
    generic_response_schema,
)

URL = "http://127.0.0.1:8000"


def _entry(
    agency: str,
    service: str,
    consumers: tuple[str, ...],
    purposes: tuple[str, ...] = ("identity-verification",),
) -> SimulatedService:
    return SimulatedService(
        agency=agency,
        service_id=f"{agency}.{service}.v1",
        path=f"/{agency}/{service}",
        name_fa=f"استعلام آزمایشی {service}",
        name_en=f"Test inquiry {service}",
        description_fa="",
        description_en="",
        request_schema=NATIONAL_CODE_REQUEST,
        response_schema={
            **generic_response_schema(),
            "required": ["national_code", "a/b", "alive"],
        },
        subject_pointer="/national_code",
        subject_kind="national_code",
        personal_data="personal",
        purposes=purposes,
        consumers=consumers,
    )


GROWN = (
    *SIMULATED_SERVICES,
    _entry("traffic-police", "driving-licence-status", ("judiciary", "tax-administration")),
    _entry("port-authority", "vessel", ("economy-ministry", "customs-office"), ("licensing",)),
    _entry("education-ministry", "diploma", ("science-ministry",), ("no-such-purpose",)),
    _entry(
        "telecom-regulator",
        "sim-owner",
        ("science-ministry", "health-insurance"),
        ("identity-verification",),
    ),
)


def test_a_larger_catalogue_still_gives_a_valid_document() -> None:
    doc = compose_government(URL, GROWN)
    again = RegistryDocument.model_validate(
        doc.model_dump(mode="json"), context={"allow_private": True}
    )
    assert again == doc
    assert doc.problems() == []
    services = {s.id: s for s in doc.services}
    for entry in GROWN:
        assert services[entry.service_id].endpoint_url == f"{URL}/simulator{entry.path}"


def test_a_simulated_service_replaces_the_template_service_of_the_same_id() -> None:
    doc = compose_government(URL, GROWN)
    (licence,) = [s for s in doc.services if s.id == "traffic-police.driving-licence-status.v1"]
    assert licence.endpoint_url == f"{URL}/simulator/traffic-police/driving-licence-status"
    assert licence.name_en == "Test inquiry driving-licence-status"
    assert licence.response_schema["required"] == ["national_code", "a/b", "alive"]


def test_unknown_agencies_get_a_stand_in_and_unknown_purposes_no_grant() -> None:
    doc = compose_government(URL, GROWN)
    codes = {a.code for a in doc.agencies}
    assert {"port-authority", "customs-office"} <= codes
    on_diploma = [g for g in doc.grants if g.service == "education-ministry.diploma.v1"]
    assert on_diploma == []


def test_projections_skip_the_subject_and_escape_field_names() -> None:
    doc = compose_government(URL, GROWN)
    (grant,) = [
        g
        for g in doc.grants
        if (g.consumer, g.service)
        == ("health-insurance/coverage", "telecom-regulator.sim-owner.v1")
    ]
    assert grant.projection == ["/a~1b", "/alive"]


def test_the_degrees_persona_stays_without_the_person_grant_whatever_the_catalogue_says() -> None:
    (person,) = [s for s in SIMULATED_SERVICES if s.service_id == "civil-registry.person.v1"]
    listed = replace(person, consumers=("science-ministry", "health-insurance"))
    doc = compose_government(URL, (listed,))
    on_person = {g.consumer: g for g in doc.grants if g.service == "civil-registry.person.v1"}
    assert "science-ministry/degrees" not in on_person
    assert on_person["social-security/benefits"].status is GrantStatus.ACTIVE
    assert on_person["social-security/benefits"].projection is None


def test_every_agency_the_simulator_names_has_a_curated_row() -> None:
    """A stand-in keeps the demo building; this asks for a real row in government_data."""
    curated = {row.code for row in AGENCIES}
    named = {s.agency for s in SIMULATED_SERVICES} | {
        c for s in SIMULATED_SERVICES for c in s.consumers
    }
    assert named <= curated, f"add {sorted(named - curated)} to government_data.AGENCIES"
