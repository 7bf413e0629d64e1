"""What the simulated oil ministry serves."""

from __future__ import annotations

from panjereh.simulator.facts.vehicles import Fuel
from panjereh.simulator.oil_ministry.app import AGENCY_CODE
from panjereh.simulator.schemas import (
    AMOUNT,
    NATIONAL_CODE,
    TEXT,
    SimulatedService,
    array,
    closed,
    dated,
    one_of,
    service,
)
from panjereh.simulator.traffic_police.catalogue import PLATE

FUEL_QUOTA = service(
    AGENCY_CODE,
    "fuel-quota",
    name=("استعلام کارت سوخت و سهمیه بنزین", "Fuel card and petrol quota inquiry"),
    description=(
        "کارت‌های سوخت خودروهای فرد و سهمیه ماهانه بنزین هر کارت.",
        "The fuel cards of a person's vehicles and each card's monthly petrol quota.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "cards": array(
            closed(
                {
                    "card_number_masked": {"type": "string", "pattern": "^[0-9]{6}\\*{6}[0-9]{4}$"},
                    "plate": PLATE,
                    "plate_fa": TEXT,
                    "vehicle": TEXT,
                    "fuel": one_of(Fuel),
                    **dated("issued_on"),
                    "status": one_of(["active", "suspended"]),
                    "monthly_quota_litres": AMOUNT,
                }
            )
        ),
        "total_monthly_quota_litres": AMOUNT,
        "quota_price_rials_per_litre": AMOUNT,
    },
    purposes=("fuel-allocation", "benefit-eligibility"),
    consumers=("traffic-police", "welfare-organization", "agriculture-ministry"),
)

SERVICES: tuple[SimulatedService, ...] = (FUEL_QUOTA,)
