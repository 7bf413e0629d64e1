"""The generic endpoint answers any template service deterministically, within its schema."""

from __future__ import annotations

import pytest

from panjereh.domain.text import persian_digits
from panjereh.simulator.catalogue import generic_request_schema, generic_response_schema
from tests.unit.simulator.support import (
    JSON,
    citizens,
    client,
    companies,
    unregistered_legal_id,
    unregistered_national_code,
    validate,
)

PATH = "/welfare-organization/inquiries/housing-support-status"


def bodies() -> list[tuple[str, JSON]]:
    return [
        *(("national_code", {"national_code": p.national_code}) for p in citizens()[:20]),
        *(("legal_id", {"legal_id": c.legal_id}) for c in companies()[:10]),
        ("none", {}),
    ]


async def test_it_answers_every_subject_kind_within_the_generic_contract() -> None:
    async with client() as http:
        for kind, body in bodies():
            validate(generic_request_schema(kind), body)
            response = await http.post(PATH, json=body)
            assert response.status_code == 200
            answer = response.json()
            validate(generic_response_schema(), answer)
            assert answer["service"] == "housing-support-status"
            assert answer["agency"] == "welfare-organization"
            assert answer["subject_kind"] == kind
            assert answer["subject_found"] is True


@pytest.mark.parametrize("agency", ["sports-ministry", "civil-registry", "companies-registry"])
async def test_it_serves_any_agency_code_simulated_or_not(agency: str) -> None:
    async with client() as http:
        response = await http.post(f"/{agency}/inquiries/permit-1", json={})
    assert response.status_code == 200
    assert response.json()["agency"] == agency


async def test_it_reports_an_unknown_subject_as_no_record() -> None:
    async with client() as http:
        for body in (
            {"national_code": unregistered_national_code()},
            {"legal_id": unregistered_legal_id()},
        ):
            answer = (await http.post(PATH, json=body)).json()
            assert answer["subject_found"] is False
            assert answer["status"] == "no-record"
            assert answer["valid_until"] is None


async def test_it_answers_the_same_twice_and_differently_per_service() -> None:
    body = {"national_code": citizens()[0].national_code}
    async with client() as http:
        first = (await http.post(PATH, json=body)).json()
        again = (await http.post(PATH, json=body)).json()
        other = (await http.post("/welfare-organization/inquiries/other", json=body)).json()
    assert first == again
    assert first["reference"] != other["reference"]


async def test_it_never_calls_a_dead_persons_record_valid() -> None:
    dead = [p for p in citizens(3000) if not p.alive][:20]
    async with client() as http:
        for person in dead:
            for service in ("a", "b", "c"):
                path = f"/judiciary/inquiries/{service}"
                answer = (
                    await http.post(path, json={"national_code": person.national_code})
                ).json()
                assert answer["status"] != "valid"


async def test_it_accepts_persian_digits() -> None:
    code = citizens()[0].national_code
    async with client() as http:
        ascii_answer = (await http.post(PATH, json={"national_code": code})).json()
        persian = (await http.post(PATH, json={"national_code": persian_digits(code)})).json()
    assert persian == ascii_answer


@pytest.mark.parametrize(
    "body",
    [
        {"national_code": "0012345678"},
        {"legal_id": "123"},
        {"national_code": 1234567890},
        {"national_code": citizens()[0].national_code, "legal_id": companies()[0].legal_id},
        ["not", "an", "object"],
    ],
)
async def test_it_refuses_a_bad_subject(body: object) -> None:
    async with client() as http:
        response = await http.post(PATH, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid-request"


async def test_it_refuses_a_body_that_is_not_json() -> None:
    async with client() as http:
        response = await http.post(
            PATH, content=b"\xff", headers={"content-type": "application/json"}
        )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path", ["/Civil/inquiries/x", "/civil-registry/inquiries/X_1", "/a/inquiries/-x"]
)
async def test_it_does_not_know_codes_outside_lower_case_letters_digits_and_dashes(
    path: str,
) -> None:
    async with client() as http:
        response = await http.post(path, json={})
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"
