"""The national insured-persons database: who covers a citizen's basic health insurance."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.health import FUNDS_FA, INSURERS_FA
from panjereh.simulator.population import Population

AGENCY_CODE = "health-insurance"


def coverage_answer(citizen: Citizen) -> Answer:
    cover = citizen.coverage
    answer = {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "covered": cover is not None and cover.active,
    }
    if cover is None:
        return {**answer, "status": "uninsured", "coverage": None}
    return {
        **answer,
        "status": "active" if cover.active else "ended",
        "coverage": {
            "insurer": cover.insurer.value,
            "insurer_fa": INSURERS_FA[cover.insurer],
            "fund": cover.fund.value,
            "fund_fa": FUNDS_FA[cover.fund],
            "insurance_number": cover.insurance_number,
            **dated("covered_since", cover.covered_since),
            **dated("valid_until", cover.valid_until),
        },
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def coverage(body: Body) -> Answer:
        return coverage_answer(citizen_of(people, body))

    return Starlette(routes=[Route("/coverage", endpoint(coverage), methods=["POST"])])
