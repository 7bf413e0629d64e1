"""Every dedicated endpoint answers within its contract, and refuses what it must."""

from __future__ import annotations

import pytest

from panjereh.domain.text import persian_digits
from panjereh.simulator.catalogue import SIMULATED_SERVICES, SimulatedService
from panjereh.simulator.population import Population
from tests.unit.simulator.support import (
    JSON,
    SEED,
    client,
    subject_body,
    subjects_for,
    unregistered_legal_id,
    unregistered_national_code,
    validate,
)


def by_id(service: SimulatedService) -> str:
    return service.service_id


def wrong_check_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
async def test_it_answers_registered_subjects_within_its_contract(
    service: SimulatedService,
) -> None:
    async with client() as http:
        for subject in subjects_for(service, 12):
            body = subject_body(service, subject)
            validate(service.request_schema, body)
            response = await http.post(service.path, json=body)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            validate(service.response_schema, response.json())


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
async def test_it_answers_not_found_for_a_valid_but_unregistered_subject(
    service: SimulatedService,
) -> None:
    unknown = (
        unregistered_legal_id()
        if service.subject_kind == "legal_id"
        else unregistered_national_code()
    )
    async with client() as http:
        response = await http.post(service.path, json=subject_body(service, unknown))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/not-found"


BAD_BODIES = ["not-json", "not-an-object", "missing-subject", "wrong-check-digit", "number"]


def bad_request(service: SimulatedService, kind: str) -> tuple[str | None, JSON | list[str] | None]:
    """(raw content, JSON body) of a request ``service`` must refuse."""
    good = subject_body(service, subjects_for(service, 1)[0])
    field = service.subject_pointer.lstrip("/") if service.subject_pointer else ""
    if kind == "not-json":
        return "{national_code: 1", None
    if kind == "not-an-object":
        return None, [str(good[field])]
    if kind == "missing-subject":
        return None, {k: v for k, v in good.items() if k != field}
    if kind == "wrong-check-digit":
        return None, {**good, field: wrong_check_digit(str(good[field]))}
    return None, {**good, field: 1234567890}


@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
async def test_it_refuses_a_bad_body_with_a_problem_document(
    service: SimulatedService, kind: str
) -> None:
    content, body = bad_request(service, kind)
    async with client() as http:
        if content is not None:
            response = await http.post(
                service.path, content=content, headers={"content-type": "application/json"}
            )
        else:
            response = await http.post(service.path, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == {"type", "title", "status", "detail"}
    assert problem["type"] == "/problems/invalid-request"
    assert problem["status"] == 400
    assert str(subjects_for(service, 1)[0]) not in problem["detail"]


async def test_the_ownership_inquiry_refuses_a_number_that_is_not_a_mobile() -> None:
    citizen = subjects_for(SIMULATED_SERVICES[0], 1)[0]
    async with client() as http:
        response = await http.post(
            "/telecom-regulator/mobile-ownership",
            json={"national_code": citizen, "mobile": "02188776655"},
        )
    assert response.status_code == 400


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
async def test_it_accepts_persian_digits_and_answers_as_for_ascii(
    service: SimulatedService,
) -> None:
    subject = subjects_for(service, 1)[0]
    async with client() as http:
        ascii_answer = await http.post(service.path, json=subject_body(service, subject))
        persian = subject_body(service, persian_digits(subject), persian_digits("09121234567"))
        persian_answer = await http.post(service.path, json=persian)
    assert persian_answer.status_code == 200
    assert persian_answer.json() == ascii_answer.json()


@pytest.mark.parametrize("service", SIMULATED_SERVICES, ids=by_id)
async def test_it_gives_the_same_answer_every_time(service: SimulatedService) -> None:
    body = subject_body(service, subjects_for(service, 2)[1])
    async with client() as first, client() as second:
        answers = [(await http.post(service.path, json=body)).json() for http in (first, second)]
    assert answers[0] == answers[1]


async def test_a_different_seed_gives_a_different_population() -> None:
    codes = [p.national_code for p in Population(SEED).sample(20)]
    names = {}
    for seed in (SEED, SEED + 1):
        async with client(seed) as http:
            names[seed] = [
                (await http.post("/civil-registry/person", json={"national_code": c})).text
                for c in codes
            ]
    assert names[SEED] != names[SEED + 1]


async def test_the_person_inquiry_keeps_its_original_fields() -> None:
    person = Population(SEED).sample(1)[0]
    async with client() as http:
        response = await http.post(
            "/civil-registry/person", json={"national_code": person.national_code}
        )
    assert response.json() == {
        "national_code": person.national_code,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "father_name": person.father_name,
        "gender": person.gender.value,
        "birth_date": person.birth_date.isoformat(),
        "birth_date_jalali": response.json()["birth_date_jalali"],
        "birth_province": person.birth_province,
        "alive": person.alive,
    }


async def test_it_only_answers_post() -> None:
    async with client() as http:
        response = await http.get("/civil-registry/person")
    assert response.status_code == 405
