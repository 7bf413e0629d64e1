"""The Civil Registration Organization's inquiry endpoints, as its own system would serve them."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.domain.jalali import to_jalali
from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.population import Population

AGENCY_CODE = "civil-registry"


def person_answer(citizen: Citizen) -> Answer:
    found = citizen.person
    return {
        "national_code": found.national_code,
        "first_name": found.first_name,
        "last_name": found.last_name,
        "father_name": found.father_name,
        "gender": found.gender.value,
        "birth_date": found.birth_date.isoformat(),
        "birth_date_jalali": to_jalali(found.birth_date).isoformat(),
        "birth_province": found.birth_province,
        "alive": found.alive,
    }


def life_status_answer(citizen: Citizen) -> Answer:
    alive = citizen.person.alive
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "alive": alive,
        "status": "alive" if alive else "deceased",
        "status_fa": "در قید حیات" if alive else "فوت شده",
        **dated("died_on", citizen.died_on),
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def person(body: Body) -> Answer:
        return person_answer(citizen_of(people, body))

    def life_status(body: Body) -> Answer:
        return life_status_answer(citizen_of(people, body))

    return Starlette(
        routes=[
            Route("/person", endpoint(person), methods=["POST"]),
            Route("/life-status", endpoint(life_status), methods=["POST"]),
        ]
    )
