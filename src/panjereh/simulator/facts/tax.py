"""A citizen's tax file, opened for business or rental income and read from :mod:`work`.

Salaries and pensions are taxed at source by the employer or fund, so they need no file of
their own; agricultural income is exempt. A file therefore exists for the self-employed, for
artisans and for landlords, and closes when the business stops or its holder dies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from panjereh.domain.jalali import to_jalali
from panjereh.simulator.facts.draw import add_years, between, digits
from panjereh.simulator.facts.work import Sector, Work
from panjereh.simulator.population import Person


class IncomeSource(StrEnum):
    SALARY = "salary"
    PENSION = "pension"
    BUSINESS = "business"
    AGRICULTURE = "agriculture"
    RENT = "rent"


INCOME_SOURCES_FA: Final = {
    IncomeSource.SALARY: "حقوق",
    IncomeSource.PENSION: "مستمری بازنشستگی",
    IncomeSource.BUSINESS: "مشاغل",
    IncomeSource.AGRICULTURE: "کشاورزی (معاف)",
    IncomeSource.RENT: "اجاره املاک",
}

#: The last tax year whose declarations were due by the simulated today (Jalali).
LAST_TAX_YEAR: Final = 1404


@dataclass(frozen=True, slots=True)
class TaxFile:
    economic_code: str  # 14 digits, the new-style code of a natural person
    opened_on: date
    closed_on: date | None  # None: the file is open
    last_declared_year: int | None  # Jalali tax year; None: nothing declared yet
    debt_rials: int


@dataclass(frozen=True, slots=True)
class TaxProfile:
    income_sources: tuple[IncomeSource, ...]
    file: TaxFile | None


def _sources(work: Work, rents: bool) -> tuple[IncomeSource, ...]:
    sources: list[IncomeSource] = []
    if work.employed_now:
        sources.append(IncomeSource.SALARY)
    if work.pension_rials is not None:
        sources.append(IncomeSource.PENSION)
    if work.business_active and work.sector is Sector.FARMER:
        sources.append(IncomeSource.AGRICULTURE)
    elif work.business_active:
        sources.append(IncomeSource.BUSINESS)
    if rents:
        sources.append(IncomeSource.RENT)
    return tuple(sources)


def draw_tax(rng: random.Random, person: Person, horizon: date, work: Work) -> TaxProfile:
    landlord_age = add_years(person.birth_date, 25)
    rents = landlord_age <= horizon and rng.random() < 0.08
    sources = _sources(work, rents and person.alive)
    taxable_business = work.business_since is not None and work.sector is not Sector.FARMER
    if not (taxable_business or rents):
        return TaxProfile(sources, None)
    opened = work.business_since if taxable_business else None
    opened = opened or between(rng, landlord_age, horizon)
    active = person.alive and (rents or work.business_active)
    closed_on = None if active else (work.business_until or horizon)
    # Declarations for a year are due the following spring; late filers are a year or two behind.
    last_year = LAST_TAX_YEAR if closed_on is None else to_jalali(closed_on).year - 1
    last_year -= rng.choices((0, 1, 2), weights=(85, 10, 5))[0]
    file = TaxFile(
        economic_code=digits(rng, 14),
        opened_on=opened,
        closed_on=closed_on,
        last_declared_year=last_year if last_year >= to_jalali(opened).year else None,
        debt_rials=rng.randrange(5, 500) * 1_000_000 if rng.random() < 0.15 else 0,
    )
    return TaxProfile(sources, file)
