"""The cultural heritage ministry's permits: handicraft production and tourism businesses."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import (
    Answer,
    Body,
    citizen_of,
    company_of,
    dated,
    endpoint,
)
from panjereh.simulator.facts import Citizen, CitizenFacts, Companies, Company
from panjereh.simulator.facts.company_records import TOURISM_PERMIT_KINDS_FA, tourism_permit
from panjereh.simulator.facts.licences import PERMIT_STATUSES_FA
from panjereh.simulator.population import Population

AGENCY_CODE = "cultural-heritage-ministry"


def handicraft_licence_answer(citizen: Citizen) -> Answer:
    permit = citizen.craft_permit
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
            "craft": permit.activity,
            "province": citizen.residence.province,
            **dated("issued_on", permit.issued_on),
            **dated("valid_until", permit.valid_until),
            "status": permit.status.value,
            "status_fa": PERMIT_STATUSES_FA[permit.status],
        },
    }


def tourism_licence_answer(seed: int, company: Company) -> Answer:
    permit = tourism_permit(seed, company)
    found = {"legal_id": company.legal_id, "name": company.name, "has_licence": permit is not None}
    if permit is None:
        return {**found, "licence": None}
    return {
        **found,
        "licence": {
            "licence_number": permit.number,
            "kind": permit.kind.value,
            "kind_fa": TOURISM_PERMIT_KINDS_FA[permit.kind],
            "province": company.province,
            **dated("issued_on", permit.issued_on),
            **dated("valid_until", permit.valid_until),
            "status": permit.status.value,
            "status_fa": PERMIT_STATUSES_FA[permit.status],
        },
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)
    companies = Companies(population)

    def handicraft_licence(body: Body) -> Answer:
        return handicraft_licence_answer(citizen_of(people, body))

    def tourism_licence(body: Body) -> Answer:
        return tourism_licence_answer(population.seed, company_of(companies, body))

    return Starlette(
        routes=[
            Route("/handicraft-licence", endpoint(handicraft_licence), methods=["POST"]),
            Route("/tourism-licence", endpoint(tourism_licence), methods=["POST"]),
        ]
    )
