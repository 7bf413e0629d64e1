"""The traffic police's inquiries: vehicles owned, driving licences and traffic fines."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.vehicles import (
    FUELS_FA,
    LICENCE_CATEGORIES_FA,
    LICENCE_STATUSES_FA,
    DrivingLicence,
    Fine,
    LicenceStatus,
    Vehicle,
)
from panjereh.simulator.population import Population

AGENCY_CODE = "traffic-police"


def _person(citizen: Citizen) -> Answer:
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
    }


def vehicle_answer(vehicle: Vehicle) -> Answer:
    return {
        "plate": vehicle.plate.text(),
        "plate_fa": vehicle.plate.text_fa(),
        "vin": vehicle.vin,
        "model": vehicle.model,
        "maker": vehicle.maker,
        "model_year": vehicle.model_year,
        "colour": vehicle.colour,
        "fuel": vehicle.fuel.value,
        "fuel_fa": FUELS_FA[vehicle.fuel],
        **dated("owned_since", vehicle.acquired_on),
    }


def vehicles_answer(citizen: Citizen) -> Answer:
    owner = {
        "owner_first_name": citizen.person.first_name,
        "owner_last_name": citizen.person.last_name,
    }
    return {
        **_person(citizen),
        "vehicles": [{**vehicle_answer(v), **owner} for v in citizen.vehicles],
    }


def _licence(licence: DrivingLicence) -> Answer:
    return {
        "licence_number": licence.number,
        "category": licence.category.value,
        "category_fa": LICENCE_CATEGORIES_FA[licence.category],
        **dated("first_issued_on", licence.first_issued_on),
        **dated("expires_on", licence.expires_on),
        "status": licence.status.value,
        "status_fa": LICENCE_STATUSES_FA[licence.status],
    }


def driving_licence_answer(citizen: Citizen) -> Answer:
    licences = citizen.licences
    return {
        **_person(citizen),
        "has_valid_licence": any(x.status is LicenceStatus.VALID for x in licences),
        "licences": [_licence(x) for x in licences],
    }


def _fine(fine: Fine) -> Answer:
    return {
        "serial": fine.serial,
        "plate": fine.plate.text(),
        "plate_fa": fine.plate.text_fa(),
        "violation_code": fine.violation_code,
        "violation": fine.violation,
        **dated("occurred_on", fine.occurred_on),
        "city": fine.city,
        "amount_rials": fine.amount_rials,
        "paid": fine.paid,
    }


def fines_answer(citizen: Citizen) -> Answer:
    fines = citizen.fines
    unpaid = [f for f in fines if not f.paid]
    return {
        **_person(citizen),
        "unpaid_count": len(unpaid),
        "unpaid_total_rials": sum(f.amount_rials for f in unpaid),
        "fines": [_fine(f) for f in fines],
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def vehicles(body: Body) -> Answer:
        return vehicles_answer(citizen_of(people, body))

    def driving_licence(body: Body) -> Answer:
        return driving_licence_answer(citizen_of(people, body))

    def fines(body: Body) -> Answer:
        return fines_answer(citizen_of(people, body))

    return Starlette(
        routes=[
            Route("/vehicles", endpoint(vehicles), methods=["POST"]),
            Route("/driving-licence", endpoint(driving_licence), methods=["POST"]),
            Route("/fines", endpoint(fines), methods=["POST"]),
        ]
    )
