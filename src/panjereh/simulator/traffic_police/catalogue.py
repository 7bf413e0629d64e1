"""What the simulated traffic police serve."""

from __future__ import annotations

from panjereh.simulator.facts.vehicles import Fuel, LicenceCategory, LicenceStatus
from panjereh.simulator.schemas import (
    AMOUNT,
    BOOLEAN,
    DIGITS,
    INTEGER,
    NATIONAL_CODE,
    STRING,
    TEXT,
    Schema,
    SimulatedService,
    array,
    closed,
    dated,
    one_of,
    service,
)
from panjereh.simulator.traffic_police.app import AGENCY_CODE

_PERSON = {"national_code": NATIONAL_CODE, "first_name": TEXT, "last_name": TEXT}
#: A plate as systems exchange it, ``12ب345-67`` (the oil ministry reuses it).
PLATE: Schema = {"type": "string", "pattern": "^[0-9]{2}\\S[0-9]{3}-[0-9]{2}$"}

#: One vehicle as the traffic police describe it.
VEHICLE_PROPERTIES: dict[str, Schema] = {
    "plate": PLATE,
    "plate_fa": TEXT,
    "vin": {"type": "string", "pattern": "^[A-HJ-NPR-Z0-9]{17}$"},
    "model": TEXT,
    "maker": TEXT,
    "model_year": INTEGER,
    "colour": TEXT,
    "fuel": one_of(Fuel),
    "fuel_fa": TEXT,
    **dated("owned_since"),
}

VEHICLES = service(
    AGENCY_CODE,
    "vehicles",
    name=("استعلام خودروهای به نام شخص", "Vehicles owned inquiry"),
    description=(
        "خودروهایی که به نام فرد شماره‌گذاری شده‌اند: پلاک، شماره شاسی، سازنده، مدل و رنگ.",
        "The vehicles registered in a person's name: plate, VIN, maker, model and colour.",
    ),
    response_properties={
        **_PERSON,
        "vehicles": array(
            closed({**VEHICLE_PROPERTIES, "owner_first_name": TEXT, "owner_last_name": TEXT})
        ),
    },
    purposes=("vehicle-registration", "tax-assessment", "benefit-eligibility", "fuel-allocation"),
    consumers=("oil-ministry", "tax-administration", "welfare-organization", "judiciary"),
)

DRIVING_LICENCE = service(
    AGENCY_CODE,
    "driving-licence",
    name=("استعلام گواهینامه رانندگی", "Driving licence inquiry"),
    description=(
        "گواهینامه‌های رانندگی فرد با پایه، تاریخ صدور، اعتبار و وضعیت.",
        "A person's driving licences with category, issue and expiry dates and status.",
    ),
    response_properties={
        **_PERSON,
        "has_valid_licence": BOOLEAN,
        "licences": array(
            closed(
                {
                    "licence_number": DIGITS,
                    "category": one_of(LicenceCategory),
                    "category_fa": TEXT,
                    **dated("first_issued_on"),
                    **dated("expires_on"),
                    "status": one_of(LicenceStatus),
                    "status_fa": TEXT,
                }
            )
        ),
    },
    purposes=("licensing", "identity-verification", "employment-check"),
    consumers=("interior-ministry", "social-security", "judiciary", "cultural-heritage-ministry"),
)

FINES = service(
    AGENCY_CODE,
    "fines",
    name=("استعلام خلافی خودرو", "Traffic fines inquiry"),
    description=(
        "جریمه‌های رانندگی ثبت‌شده برای خودروهای فرد با مبلغ و وضعیت پرداخت.",
        "The traffic fines on a person's vehicles, with amounts and whether they were paid.",
    ),
    response_properties={
        **_PERSON,
        "unpaid_count": AMOUNT,
        "unpaid_total_rials": AMOUNT,
        "fines": array(
            closed(
                {
                    "serial": DIGITS,
                    "plate": PLATE,
                    "plate_fa": TEXT,
                    "violation_code": DIGITS,
                    "violation": TEXT,
                    **dated("occurred_on"),
                    "city": STRING,
                    "amount_rials": AMOUNT,
                    "paid": BOOLEAN,
                }
            )
        ),
    },
    purposes=("vehicle-registration", "law-enforcement", "tax-assessment"),
    consumers=("judiciary", "tax-administration", "interior-ministry"),
)

SERVICES: tuple[SimulatedService, ...] = (VEHICLES, DRIVING_LICENCE, FINES)
