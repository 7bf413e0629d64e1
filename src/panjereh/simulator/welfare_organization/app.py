"""The Welfare Organization's inquiries: support status and disability."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.welfare import DISABILITY_KINDS_FA, PROGRAMMES_FA, SEVERITIES_FA
from panjereh.simulator.population import Population

AGENCY_CODE = "welfare-organization"


def _person(citizen: Citizen) -> Answer:
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
    }


def support_answer(citizen: Citizen) -> Answer:
    support = citizen.support
    if support is None:
        return {**_person(citizen), "under_support": False, "case": None}
    return {
        **_person(citizen),
        "under_support": support.ended_on is None,
        "case": {
            "case_number": support.case_number,
            "programme": support.programme.value,
            "programme_fa": PROGRAMMES_FA[support.programme],
            **dated("since", support.since),
            **dated("ended_on", support.ended_on),
            "monthly_allowance_rials": support.monthly_allowance_rials,
        },
    }


def disability_answer(citizen: Citizen) -> Answer:
    disability = citizen.disability
    if disability is None:
        return {**_person(citizen), "registered_disability": False, "disability": None}
    return {
        **_person(citizen),
        "registered_disability": True,
        "disability": {
            "card_number": disability.card_number,
            "kind": disability.kind.value,
            "kind_fa": DISABILITY_KINDS_FA[disability.kind],
            "severity": disability.severity.value,
            "severity_fa": SEVERITIES_FA[disability.severity],
            **dated("registered_on", disability.registered_on),
        },
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def support_status(body: Body) -> Answer:
        return support_answer(citizen_of(people, body))

    def disability(body: Body) -> Answer:
        return disability_answer(citizen_of(people, body))

    return Starlette(
        routes=[
            Route("/support-status", endpoint(support_status), methods=["POST"]),
            Route("/disability", endpoint(disability), methods=["POST"]),
        ]
    )
