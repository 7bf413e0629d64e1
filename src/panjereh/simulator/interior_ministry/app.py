"""The interior ministry's election inquiries: may a citizen vote, and where."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.draw import age_on
from panjereh.simulator.facts.elections import (
    INELIGIBILITY_FA,
    NEXT_ELECTION,
    STATION_KINDS_FA,
)
from panjereh.simulator.population import Population

AGENCY_CODE = "interior-ministry"


def _election() -> Answer:
    return {
        "code": NEXT_ELECTION.code,
        "name_fa": NEXT_ELECTION.name_fa,
        "name_en": NEXT_ELECTION.name_en,
        **dated("held_on", NEXT_ELECTION.held_on),
    }


def _person(citizen: Citizen) -> Answer:
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
    }


def voter_eligibility_answer(citizen: Citizen) -> Answer:
    reasons = citizen.ineligibilities
    return {
        **_person(citizen),
        "election": _election(),
        "eligible": not reasons,
        "age_on_election_day": age_on(citizen.person.birth_date, NEXT_ELECTION.held_on),
        "reasons": [r.value for r in reasons],
        "reasons_fa": [INELIGIBILITY_FA[r] for r in reasons],
    }


def polling_station_answer(citizen: Citizen) -> Answer:
    station = citizen.polling_station
    found = {**_person(citizen), "election": _election(), "assigned": station is not None}
    if station is None:
        return {**found, "station": None}
    return {
        **found,
        "station": {
            "code": station.code,
            "name": station.name,
            "kind": station.kind.value,
            "kind_fa": STATION_KINDS_FA[station.kind],
            "province": station.province,
            "city": station.city,
            "address": station.address,
        },
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def voter_eligibility(body: Body) -> Answer:
        return voter_eligibility_answer(citizen_of(people, body))

    def polling_station(body: Body) -> Answer:
        return polling_station_answer(citizen_of(people, body))

    return Starlette(
        routes=[
            Route("/voter-eligibility", endpoint(voter_eligibility), methods=["POST"]),
            Route("/polling-station", endpoint(polling_station), methods=["POST"]),
        ]
    )
