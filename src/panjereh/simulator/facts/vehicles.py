"""Driving licences, vehicles, traffic fines and fuel cards: one garage per citizen.

Licences are issued no sooner than nine months after the 18th birthday (training and exams),
vehicles are bought by adults, fines fall on the person's own plates while they own them, and
every vehicle has exactly one fuel card. The traffic police and the oil ministry read the same
vehicles, so a fuel card's plate is always a plate the police know.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from panjereh.domain.text import persian_digits
from panjereh.simulator.facts.draw import AS_OF, add_years, between, digits, renewed_until
from panjereh.simulator.population import Gender, Person

_TRAINING: Final = timedelta(days=270)
_LICENCE_YEARS: Final = 10
_PLATE_LETTERS: Final = ("ب", "ج", "د", "س", "ص", "ط", "ق", "ل", "م", "ن", "و", "ه", "ی")
_VIN_CHARACTERS: Final = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_COLOURS: Final = ("سفید", "مشکی", "نقره‌ای", "خاکستری", "نوک‌مدادی", "آبی", "قرمز", "بژ")


class LicenceCategory(StrEnum):
    CAR_THIRD = "car-grade-3"
    CAR_SECOND = "car-grade-2"
    CAR_FIRST = "car-grade-1"
    MOTORCYCLE = "motorcycle"


LICENCE_CATEGORIES_FA: Final = {
    LicenceCategory.CAR_THIRD: "پایه سوم",
    LicenceCategory.CAR_SECOND: "پایه دوم",
    LicenceCategory.CAR_FIRST: "پایه یکم",
    LicenceCategory.MOTORCYCLE: "موتورسیکلت",
}


class LicenceStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


LICENCE_STATUSES_FA: Final = {
    LicenceStatus.VALID: "معتبر",
    LicenceStatus.EXPIRED: "منقضی",
    LicenceStatus.SUSPENDED: "توقیف",
    LicenceStatus.CANCELLED: "باطل (فوت دارنده)",
}


class Fuel(StrEnum):
    PETROL = "petrol"
    DUAL = "petrol-cng"


FUELS_FA: Final = {Fuel.PETROL: "بنزین", Fuel.DUAL: "دوگانه‌سوز (بنزین و گاز)"}

# Model, maker, VIN maker code, first and last model year, can it run on CNG.
_MODELS: Final = (
    ("پژو ۴۰۵", "ایران‌خودرو", "NAA", 1992, 2021, True),
    ("پژو پارس", "ایران‌خودرو", "NAA", 2001, 2025, True),
    ("سمند", "ایران‌خودرو", "NAA", 2002, 2025, True),
    ("پژو ۲۰۶", "ایران‌خودرو", "NAA", 2001, 2025, False),
    ("دنا", "ایران‌خودرو", "NAA", 2015, 2025, False),
    ("رانا", "ایران‌خودرو", "NAA", 2012, 2025, False),
    ("تارا", "ایران‌خودرو", "NAA", 2022, 2025, False),
    ("پراید", "سایپا", "NAS", 1993, 2020, True),
    ("تیبا", "سایپا", "NAS", 2009, 2023, True),
    ("ساینا", "سایپا", "NAS", 2015, 2025, False),
    ("کوییک", "سایپا", "NAS", 2017, 2025, False),
    ("شاهین", "سایپا", "NAS", 2021, 2025, False),
    ("تندر ۹۰", "پارس‌خودرو", "NAP", 2007, 2021, True),
    ("وانت نیسان", "زامیاد", "NAZ", 1975, 2025, True),
)

# Violation code, description, fine in rials (the traffic police's 1403 tariff, rounded).
VIOLATIONS: Final = (
    ("2002", "تجاوز از سرعت مجاز (بیش از ۳۰ تا ۵۰ کیلومتر)", 10_000_000),
    ("2003", "تجاوز از سرعت مجاز (تا ۳۰ کیلومتر)", 5_000_000),
    ("2004", "عبور از چراغ قرمز", 10_000_000),
    ("2056", "توقف در محل ممنوع", 1_500_000),
    ("2039", "عدم استفاده از کمربند ایمنی", 2_000_000),
    ("2060", "استفاده از تلفن همراه هنگام رانندگی", 2_000_000),
    ("2008", "سبقت غیرمجاز", 5_000_000),
    ("2074", "عدم رعایت حق تقدم عبور", 3_000_000),
)

QUOTA_LITRES: Final = {Fuel.PETROL: 60, Fuel.DUAL: 30}
QUOTA_PRICE_RIALS: Final = 15_000  # per litre of the monthly quota


@dataclass(frozen=True, slots=True)
class DrivingLicence:
    number: str
    category: LicenceCategory
    first_issued_on: date
    expires_on: date
    status: LicenceStatus


@dataclass(frozen=True, slots=True)
class Plate:
    two: str
    letter: str
    three: str
    region: str

    def text(self) -> str:
        """``12ب345-67``: the form systems exchange."""
        return f"{self.two}{self.letter}{self.three}-{self.region}"

    def text_fa(self) -> str:
        """``۱۲ ب ۳۴۵ ایران ۶۷``: as written on the plate."""
        return persian_digits(f"{self.two} {self.letter} {self.three} ایران {self.region}")


@dataclass(frozen=True, slots=True)
class Vehicle:
    vin: str
    plate: Plate
    model: str
    maker: str
    model_year: int
    colour: str
    fuel: Fuel
    acquired_on: date


@dataclass(frozen=True, slots=True)
class Fine:
    serial: str
    plate: Plate
    violation_code: str
    violation: str
    occurred_on: date
    city: str
    amount_rials: int
    paid: bool


@dataclass(frozen=True, slots=True)
class FuelCard:
    number: str
    vehicle: Vehicle
    issued_on: date
    active: bool
    monthly_quota_litres: int


def _licence_rate(person: Person) -> float:
    if person.gender is Gender.MALE:
        return 0.78
    return 0.5 if person.birth_date.year >= 1965 else 0.2


def _licence(
    rng: random.Random, person: Person, horizon: date, category: LicenceCategory
) -> DrivingLicence | None:
    earliest = add_years(person.birth_date, 18) + _TRAINING
    if earliest > horizon:
        return None
    issued = between(rng, earliest, min(horizon, add_years(earliest, 20)))
    expires = renewed_until(rng, issued, _LICENCE_YEARS, 0.8)
    if not person.alive:
        status = LicenceStatus.CANCELLED
    elif expires <= AS_OF:
        status = LicenceStatus.EXPIRED
    else:
        status = LicenceStatus.SUSPENDED if rng.random() < 0.02 else LicenceStatus.VALID
    return DrivingLicence(digits(rng, 10), category, issued, expires, status)


def draw_licences(rng: random.Random, person: Person, horizon: date) -> tuple[DrivingLicence, ...]:
    licences: list[DrivingLicence] = []
    if rng.random() < _licence_rate(person):
        category = rng.choices(
            (LicenceCategory.CAR_THIRD, LicenceCategory.CAR_SECOND, LicenceCategory.CAR_FIRST),
            weights=(75, 20, 5),
        )[0]
        car = _licence(rng, person, horizon, category)
        licences.extend([car] if car is not None else [])
    if person.gender is Gender.MALE and rng.random() < 0.15:
        motorcycle = _licence(rng, person, horizon, LicenceCategory.MOTORCYCLE)
        licences.extend([motorcycle] if motorcycle is not None else [])
    return tuple(licences)


def _plate(rng: random.Random) -> Plate:
    return Plate(
        two=str(rng.randrange(11, 100)),
        letter=rng.choice(_PLATE_LETTERS),
        three=str(rng.randrange(111, 1000)),
        region=str(rng.randrange(10, 100)),
    )


def _vehicle(rng: random.Random, acquired: date) -> Vehicle:
    year = acquired.year
    models = [m for m in _MODELS if m[3] <= year and m[4] >= year - 15]
    model, maker, wmi, first, last, cng = rng.choice(models)
    model_year = rng.randrange(max(first, year - 15), min(last, year) + 1)
    return Vehicle(
        vin=wmi + "".join(rng.choices(_VIN_CHARACTERS, k=14)),
        plate=_plate(rng),
        model=model,
        maker=maker,
        model_year=model_year,
        colour=rng.choice(_COLOURS),
        fuel=Fuel.DUAL if cng and rng.random() < 0.3 else Fuel.PETROL,
        acquired_on=acquired,
    )


def draw_vehicles(
    rng: random.Random, person: Person, horizon: date, *, drives: bool
) -> tuple[Vehicle, ...]:
    first = max(add_years(person.birth_date, 18), add_years(AS_OF, -25))
    if first > horizon:
        return ()
    weights = (35, 45, 15, 5) if drives else (95, 5, 0, 0)
    count = rng.choices((0, 1, 2, 3), weights=weights)[0]
    bought = sorted(between(rng, first, horizon) for _ in range(count))
    return tuple(_vehicle(rng, day) for day in bought)


def draw_fines(
    rng: random.Random, vehicles: tuple[Vehicle, ...], horizon: date, city: str
) -> tuple[Fine, ...]:
    fines: list[Fine] = []
    for vehicle in vehicles:
        first = max(vehicle.acquired_on, add_years(AS_OF, -3))
        if first > horizon:
            continue
        for _ in range(rng.choices((0, 1, 2, 3, 5), weights=(45, 25, 15, 10, 5))[0]):
            code, violation, amount = rng.choice(VIOLATIONS)
            occurred = between(rng, first, horizon)
            old = (AS_OF - occurred).days > 90
            fines.append(
                Fine(
                    serial=digits(rng, 12),
                    plate=vehicle.plate,
                    violation_code=code,
                    violation=violation,
                    occurred_on=occurred,
                    city=city,
                    amount_rials=amount,
                    paid=rng.random() < (0.85 if old else 0.4),
                )
            )
    return tuple(sorted(fines, key=lambda f: f.occurred_on))


def draw_fuel_cards(
    rng: random.Random, person: Person, vehicles: tuple[Vehicle, ...], horizon: date
) -> tuple[FuelCard, ...]:
    return tuple(
        FuelCard(
            number="6362" + digits(rng, 12),
            vehicle=vehicle,
            issued_on=min(horizon, vehicle.acquired_on + timedelta(days=rng.randrange(7, 60))),
            active=person.alive,
            monthly_quota_litres=QUOTA_LITRES[vehicle.fuel],
        )
        for vehicle in vehicles
    )
