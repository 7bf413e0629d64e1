"""The Social Security Organization's inquiries: insurance history and employment status."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.work import InsurancePeriod
from panjereh.simulator.population import Population

AGENCY_CODE = "social-security"


def _period(period: InsurancePeriod, until: Citizen) -> Answer:
    return {
        "employer": period.employer,
        "workshop_code": period.workshop_code,
        **dated("started_on", period.started_on),
        **dated("ended_on", period.ended_on),
        "days": period.days(until.horizon),
    }


def _person(citizen: Citizen) -> Answer:
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
    }


def insurance_history_answer(citizen: Citizen) -> Answer:
    work = citizen.work
    periods = [_period(p, citizen) for p in work.periods]
    total = sum(p["days"] for p in periods)
    return {
        **_person(citizen),
        "insurance_number": work.insurance_number,
        "insured_now": work.insured_now,
        "total_insured_days": total,
        "total_insured_years": round(total / 365, 1),
        "periods": periods,
    }


def employment_status_answer(citizen: Citizen) -> Answer:
    work = citizen.work
    current = work.periods[-1] if work.insured_now else None
    return {
        **_person(citizen),
        "employed": work.employed_now,
        "insured_now": work.insured_now,
        "employer": None if current is None else current.employer,
        "workshop_code": None if current is None else current.workshop_code,
        **dated("employed_since", None if current is None else current.started_on),
        "insured_monthly_wage_rials": work.insured_wage_rials,
        "retired": work.retired_on is not None,
        **dated("retired_on", work.retired_on),
        "monthly_pension_rials": work.pension_rials,
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def insurance_history(body: Body) -> Answer:
        return insurance_history_answer(citizen_of(people, body))

    def employment_status(body: Body) -> Answer:
        return employment_status_answer(citizen_of(people, body))

    return Starlette(
        routes=[
            Route("/insurance-history", endpoint(insurance_history), methods=["POST"]),
            Route("/employment-status", endpoint(employment_status), methods=["POST"]),
        ]
    )
