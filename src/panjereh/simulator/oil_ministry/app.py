"""The oil ministry's fuel-card system: one card and monthly petrol quota per vehicle."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from panjereh.simulator.endpoints import Answer, Body, citizen_of, dated, endpoint
from panjereh.simulator.facts import Citizen, CitizenFacts
from panjereh.simulator.facts.vehicles import QUOTA_PRICE_RIALS, FuelCard
from panjereh.simulator.population import Population

AGENCY_CODE = "oil-ministry"


def _card(card: FuelCard) -> Answer:
    vehicle = card.vehicle
    return {
        "card_number_masked": f"{card.number[:6]}******{card.number[-4:]}",
        "plate": vehicle.plate.text(),
        "plate_fa": vehicle.plate.text_fa(),
        "vehicle": f"{vehicle.maker} {vehicle.model}",
        "fuel": vehicle.fuel.value,
        **dated("issued_on", card.issued_on),
        "status": "active" if card.active else "suspended",
        "monthly_quota_litres": card.monthly_quota_litres if card.active else 0,
    }


def fuel_quota_answer(citizen: Citizen) -> Answer:
    cards = [_card(c) for c in citizen.fuel_cards]
    return {
        "national_code": citizen.national_code,
        "first_name": citizen.person.first_name,
        "last_name": citizen.person.last_name,
        "cards": cards,
        "total_monthly_quota_litres": sum(c["monthly_quota_litres"] for c in cards),
        "quota_price_rials_per_litre": QUOTA_PRICE_RIALS,
    }


def create_app(population: Population) -> Starlette:
    people = CitizenFacts(population)

    def fuel_quota(body: Body) -> Answer:
        return fuel_quota_answer(citizen_of(people, body))

    return Starlette(routes=[Route("/fuel-quota", endpoint(fuel_quota), methods=["POST"])])
