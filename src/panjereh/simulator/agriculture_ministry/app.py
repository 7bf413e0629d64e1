"""The agriculture ministry's register of farmers' operator licences (کارت بهره‌برداری)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.licences import FARMING_ACTIVITIES, PERMIT_STATUSES_FA
from panjereh.simulator.population import Population

AGENCY_CODE = "agriculture-ministry"


def farmer_licence_answer(citizen: Citizen) -> Answer:
    permit = citizen.farm_permit
    found = {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "has_licence": permit is not None,
    }
    if permit is None:
        return {**found, "licence": None}
    return {
        **found,
        "licence": {
            "licence_number": permit.number,
            "activity": permit.activity,
            "activity_fa": FARMING_ACTIVITIES[permit.activity][0],
            "product": permit.product,
            "hectares": permit.hectares,
            "province": citizen.residence.province,
            "city": citizen.residence.city,
            **dated("issued_on", permit.issued_on),
            **dated("valid_until", permit.valid_until),
            "status": permit.status.value,
            "status_fa": PERMIT_STATUSES_FA[permit.status],
        },
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def farmer_licence(body: Body) -> Answer:
        return farmer_licence_answer(citizen_of(people, body))

    return Starlette(routes=[Route("/farmer-licence", endpoint(farmer_licence), methods=["POST"])])
