"""The companies register: a legal entity by its national id, and its officers."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, company_of, dated, endpoint
from panjereh.simulator.facts import Companies, Company
from panjereh.simulator.facts.companies import (
    ACTIVITIES_FA,
    COMPANY_KINDS_FA,
    COMPANY_STATUSES_FA,
    ROLES_FA,
    Officer,
)
from panjereh.simulator.population import Population

AGENCY_CODE = "companies-registry"


def company_answer(company: Company) -> Answer:
    return {
        "legal_id": company.legal_id,
        "name": company.name,
        "kind": company.kind.value,
        "kind_fa": COMPANY_KINDS_FA[company.kind],
        "registration_number": company.registration_number,
        **dated("registered_on", company.registered_on),
        "registration_office": f"اداره ثبت شرکت‌ها و مؤسسات غیرتجاری {company.city}",
        "province": company.province,
        "city": company.city,
        "postal_code": company.postal_code,
        "activity": company.activity.value,
        "activity_fa": ACTIVITIES_FA[company.activity],
        "capital_rials": company.capital_rials,
        "status": company.status.value,
        "status_fa": COMPANY_STATUSES_FA[company.status],
        **dated("dissolved_on", company.dissolved_on),
    }


def _officer(officer: Officer) -> Answer:
    return {
        "national_code": officer.person.national_code,
        "first_name": officer.person.first_name,
        "last_name": officer.person.last_name,
        "role": officer.role.value,
        "role_fa": ROLES_FA[officer.role],
        **dated("term_start", officer.term_start),
        **dated("term_end", officer.term_end),
        "signatory": officer.signatory,
    }


def create_app(population: Population) -> Starlette:
    companies = Companies(population)

    def company(body: Body) -> Answer:
        return company_answer(company_of(companies, body))

    def officers(body: Body) -> Answer:
        found = company_of(companies, body)
        return {
            "legal_id": found.legal_id,
            "name": found.name,
            "status": found.status.value,
            "officers": [_officer(o) for o in companies.officers(found)],
        }

    return Starlette(
        routes=[
            Route("/company", endpoint(company), methods=["POST"]),
            Route("/officers", endpoint(officers), methods=["POST"]),
        ]
    )
