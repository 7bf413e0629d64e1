"""The tax administration's inquiries: a citizen's tax file and a legal entity's tax status."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, company_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts, Companies, Company
from panjereh.simulator.facts.company_records import company_tax
from panjereh.simulator.facts.tax import INCOME_SOURCES_FA
from panjereh.simulator.population import Population

AGENCY_CODE = "tax-administration"


def taxpayer_answer(citizen: Citizen) -> Answer:
    profile = citizen.tax
    file = profile.file
    debt = 0 if file is None else file.debt_rials
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "income_sources": [s.value for s in profile.income_sources],
        "income_sources_fa": [INCOME_SOURCES_FA[s] for s in profile.income_sources],
        "has_tax_file": file is not None,
        "file_status": "none" if file is None else ("closed" if file.closed_on else "open"),
        "economic_code": None if file is None else file.economic_code,
        **dated("file_opened_on", None if file is None else file.opened_on),
        "last_declared_year": None if file is None else file.last_declared_year,
        "outstanding_debt_rials": debt,
        "clearance_available": debt == 0,
    }


def legal_entity_answer(seed: int, company: Company) -> Answer:
    tax = company_tax(seed, company)
    return {
        "legal_id": company.legal_id,
        "name": company.name,
        "economic_code": tax.economic_code,
        "file_status": "open" if tax.file_open else "closed",
        "vat_registered": tax.vat_registered,
        "last_declared_year": tax.last_declared_year,
        "outstanding_debt_rials": tax.debt_rials,
        "clearance_available": tax.debt_rials == 0,
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)
    companies = Companies(population)

    def taxpayer_status(body: Body) -> Answer:
        return taxpayer_answer(citizen_of(people, body))

    def legal_entity_tax_status(body: Body) -> Answer:
        return legal_entity_answer(population.seed, company_of(companies, body))

    return Starlette(
        routes=[
            Route("/taxpayer-status", endpoint(taxpayer_status), methods=["POST"]),
            Route("/legal-entity-tax-status", endpoint(legal_entity_tax_status), methods=["POST"]),
        ]
    )
