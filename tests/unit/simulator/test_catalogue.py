"""The catalogue is the simulator's contract: complete, unique, well-formed and routed."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import jsonschema_rs
import pytest
from starlette.routing import Mount, Route

from panjereh.domain.errors import InvalidValue
from panjereh.simulator.app import AGENCIES
from panjereh.simulator.catalogue import (
    GENERIC_PATH_TEMPLATE,
    LEGAL_ID_REQUEST,
    NATIONAL_CODE_REQUEST,
    PURPOSES,
    SIMULATED_AGENCIES,
    SIMULATED_SERVICES,
    SimulatedService,
    generic_request_schema,
    generic_response_schema,
)
from tests.unit.simulator.support import simulator

AGENCY_CODES = [a.code for a in SIMULATED_AGENCIES]
SENSITIVE = {
    "judiciary.criminal-record.v1",
    "health-insurance.coverage.v1",
    "welfare-organization.support-status.v1",
    "welfare-organization.disability.v1",
}
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def by_id(service: SimulatedService) -> str:
    return service.service_id


def test_it_lists_at_least_twenty_services_with_unique_ids_and_paths() -> None:
    ids = [s.service_id for s in SIMULATED_SERVICES]
    paths = [s.path for s in SIMULATED_SERVICES]
    assert len(SIMULATED_SERVICES) >= 20
    assert len(set(ids)) == len(ids)
    assert len(set(paths)) == len(paths)


def test_it_lists_exactly_the_agencies_the_demo_registry_expects() -> None:
    assert AGENCY_CODES == [
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
    ]
    assert {s.agency for s in SIMULATED_SERVICES} == set(AGENCY_CODES)


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
def test_every_service_id_and_path_follow_the_agency_and_slug(service: SimulatedService) -> None:
    match = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.v1", service.service_id)
    assert match is not None
    agency, slug = match.groups()
    assert agency == service.agency
    assert service.path == f"/{agency}/{slug}"
    assert slug != "inquiries"  # the generic endpoint's segment


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
def test_every_grant_hint_names_known_purposes_and_other_agencies(
    service: SimulatedService,
) -> None:
    assert service.purposes
    assert set(service.purposes) <= set(PURPOSES)
    assert service.consumers
    assert set(service.consumers) <= set(AGENCY_CODES)
    assert service.agency not in service.consumers
    assert len(set(service.consumers)) == len(service.consumers)


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
def test_every_subject_pointer_matches_its_subject_kind(service: SimulatedService) -> None:
    pointers = {"national_code": "/national_code", "legal_id": "/legal_id"}
    assert service.subject_kind in pointers
    assert service.subject_pointer == pointers[service.subject_kind]
    assert service.subject_pointer[1:] in service.request_schema["required"]
    assert service.personal_data in {"none", "personal", "sensitive"}
    if service.subject_kind == "national_code":
        assert service.personal_data != "none"


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
def test_criminal_health_and_welfare_data_is_marked_sensitive(service: SimulatedService) -> None:
    assert (service.personal_data == "sensitive") == (service.service_id in SENSITIVE)


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
def test_every_schema_is_draft_2020_12_and_compiles(service: SimulatedService) -> None:
    for schema in (service.request_schema, service.response_schema):
        assert schema["$schema"] == DIALECT
        jsonschema_rs.validator_for(dict(schema))
    assert service.response_schema["additionalProperties"] is False


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
def test_single_subject_requests_reuse_the_shared_schemas(service: SimulatedService) -> None:
    if service.request_schema["required"] == ["national_code"]:
        assert service.request_schema is NATIONAL_CODE_REQUEST
    if service.request_schema["required"] == ["legal_id"]:
        assert service.request_schema is LEGAL_ID_REQUEST


def test_every_agency_folder_has_the_same_shape() -> None:
    assert [code for code, _ in AGENCIES] == AGENCY_CODES
    for code in AGENCY_CODES:
        package = f"panjereh.simulator.{code.replace('-', '_')}"
        app = importlib.import_module(f"{package}.app")
        catalogue = importlib.import_module(f"{package}.catalogue")
        assert importlib.import_module(package).__doc__
        assert code == app.AGENCY_CODE
        assert callable(app.create_app)
        assert catalogue.SERVICES
        assert {s.agency for s in catalogue.SERVICES} == {code}


def test_every_catalogued_path_is_routed_and_every_route_is_catalogued() -> None:
    routed = set()
    for mount in simulator().routes:
        if isinstance(mount, Mount):
            routed |= {f"{mount.path}{r.path}" for r in mount.routes if isinstance(r, Route)}
    assert routed == {s.path for s in SIMULATED_SERVICES}


def test_the_generic_route_comes_before_the_agency_mounts() -> None:
    first = simulator().routes[0]
    assert isinstance(first, Route)
    assert first.path == GENERIC_PATH_TEMPLATE == "/{agency}/inquiries/{service}"


@pytest.mark.parametrize("kind", ["national_code", "legal_id", "none"])
def test_generic_request_schemas_exist_for_every_subject_kind(kind: str) -> None:
    schema = generic_request_schema(kind)
    validator = jsonschema_rs.validator_for(schema)
    assert schema["$schema"] == DIALECT
    assert validator.is_valid({} if kind == "none" else {kind: "x" * 11})
    assert not validator.is_valid({"unexpected": 1})


def test_generic_request_schema_refuses_an_unknown_subject_kind() -> None:
    with pytest.raises(InvalidValue) as info:
        generic_request_schema("passport")
    assert info.value.code == "simulator.subject-kind"


def test_generic_schemas_are_fresh_copies_callers_may_change() -> None:
    generic_response_schema()["properties"].clear()
    generic_request_schema("national_code")["required"].clear()
    assert generic_response_schema()["properties"]
    assert NATIONAL_CODE_REQUEST["required"] == ["national_code"]


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
def test_every_service_is_documented(service: SimulatedService) -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "simulator.md").read_text()
    assert f"`{service.service_id}`" in docs
    assert f"POST {service.path}`" in docs
