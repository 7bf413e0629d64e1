"""The regulator's subscriber registry: does a mobile line belong to a national code (Shahkar)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint, mobile
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.telecom import LINE_KINDS_FA, OPERATORS_FA, MobileLine
from panjereh.simulator.population import Population

AGENCY_CODE = "telecom-regulator"


def _line(line: MobileLine) -> Answer:
    return {
        "mobile": line.number.value,
        "mobile_local": line.number.local(),
        "operator": line.operator.value,
        "operator_fa": OPERATORS_FA[line.operator],
        "kind": line.kind.value,
        "kind_fa": LINE_KINDS_FA[line.kind],
        **dated("activated_on", line.activated_on),
        "status": "active" if line.active else "inactive",
    }


def mobile_lines_answer(citizen: Citizen) -> Answer:
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "lines": [_line(x) for x in citizen.lines],
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def mobile_ownership(body: Body) -> Answer:
        number = mobile(body)
        citizen = citizen_of(people, body)
        return {
            "national_code": citizen.national_code,
            "mobile": number.value,
            "matches": any(line.number == number for line in citizen.lines),
        }

    def mobile_lines(body: Body) -> Answer:
        return mobile_lines_answer(citizen_of(people, body))

    return Starlette(
        routes=[
            Route("/mobile-ownership", endpoint(mobile_ownership), methods=["POST"]),
            Route("/mobile-lines", endpoint(mobile_lines), methods=["POST"]),
        ]
    )
