"""The science ministry's register of university degrees (استعلام مدرک تحصیلی)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.education import DEGREE_LEVELS_FA, Degree
from panjereh.simulator.population import Population

AGENCY_CODE = "science-ministry"


def _degree(degree: Degree) -> Answer:
    return {
        "degree_number": degree.number,
        "level": degree.level.value,
        "level_fa": DEGREE_LEVELS_FA[degree.level],
        "field": degree.field,
        "university": degree.university,
        "gpa": degree.gpa,
        **dated("started_on", degree.started_on),
        **dated("graduated_on", degree.graduated_on),
        "verified": True,
    }


def degrees_answer(citizen: Citizen) -> Answer:
    degrees = citizen.education.degrees
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "highest_level": None if not degrees else degrees[-1].level.value,
        "degrees": [_degree(d) for d in degrees],
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def degrees(body: Body) -> Answer:
        return degrees_answer(citizen_of(people, body))

    return Starlette(routes=[Route("/degrees", endpoint(degrees), methods=["POST"])])
