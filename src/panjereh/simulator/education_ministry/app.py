"""The education ministry's register of high-school diplomas."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.education import DIPLOMA_FIELDS_FA
from panjereh.simulator.population import Population

AGENCY_CODE = "education-ministry"


def diploma_answer(citizen: Citizen) -> Answer:
    diploma = citizen.education.diploma
    found = {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "has_diploma": diploma is not None,
    }
    if diploma is None:
        return {**found, "diploma": None}
    return {
        **found,
        "diploma": {
            "diploma_number": diploma.number,
            "field": diploma.field.value,
            "field_fa": DIPLOMA_FIELDS_FA[diploma.field],
            "gpa": diploma.gpa,
            "school_province": diploma.school_province,
            **dated("graduated_on", diploma.graduated_on),
        },
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def diploma(body: Body) -> Answer:
        return diploma_answer(citizen_of(people, body))

    return Starlette(routes=[Route("/high-school-diploma", endpoint(diploma), methods=["POST"])])
