"""The judiciary's inquiries: criminal-record status and SANA registration."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import (
    Answer,
    Body,
    citizen_of,
    dated,
    endpoint,
    masked_mobile,
)
from panjereh.simulator.facts import AS_OF, Citizen, CitizenFacts
from panjereh.simulator.facts.draw import digits, rng_for
from panjereh.simulator.population import Population

AGENCY_CODE = "judiciary"


def _person(citizen: Citizen) -> Answer:
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "father_name": citizen.person.father_name,
    }


def criminal_record_answer(citizen: Citizen) -> Answer:
    record = citizen.criminal_record
    effective = record.effective_now
    deprived = record.deprived_on(AS_OF)
    tracking = digits(rng_for(citizen.seed, "criminal-certificate", citizen.national_code), 16)
    return {
        **_person(citizen),
        "record_status": "effective-conviction" if effective else "no-effective-conviction",
        "record_status_fa": "دارای محکومیت کیفری مؤثر" if effective else "فاقد محکومیت کیفری مؤثر",
        "deprived_of_social_rights": deprived,
        **dated("deprived_until", record.deprived_until if deprived else None),
        "certificate_tracking_code": tracking,
    }


def sana_answer(citizen: Citizen) -> Answer:
    account = citizen.sana
    if account is None:
        return {
            **_person(citizen),
            "registered": False,
            "account_status": None,
            "sana_id": None,
            **dated("registered_on", None),
            "mobile_masked": None,
        }
    return {
        **_person(citizen),
        "registered": True,
        "account_status": "active" if account.active else "inactive",
        "sana_id": account.sana_id,
        **dated("registered_on", account.registered_on),
        "mobile_masked": masked_mobile(account.line.number),
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def criminal_record(body: Body) -> Answer:
        return criminal_record_answer(citizen_of(people, body))

    def sana_registration(body: Body) -> Answer:
        return sana_answer(citizen_of(people, body))

    return Starlette(
        routes=[
            Route("/criminal-record", endpoint(criminal_record), methods=["POST"]),
            Route("/sana-registration", endpoint(sana_registration), methods=["POST"]),
        ]
    )
