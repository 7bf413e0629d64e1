"""How a citizen earns a living: social-security periods, retirement, a business or a farm.

Work starts once the person is 18 and out of school (after the last diploma or degree),
ends at the horizon (death, or the simulated today), and retirement follows the social
security rule of thumb: 30 insured years, or 20 years and the pension age (60 for men, 55 for
women). Every agency that cares about income (tax, welfare, health insurance) reads this one
record, so they cannot disagree about whether someone is employed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from panjereh.simulator.facts.draw import MINIMUM_WAGE_RIALS, add_years, between, digits
from panjereh.simulator.facts.education import DegreeLevel, Education
from panjereh.simulator.facts.names import employer_name
from panjereh.simulator.population import Gender, Person


class Sector(StrEnum):
    EMPLOYEE = "employee"
    SELF_EMPLOYED = "self-employed"
    FARMER = "farmer"
    ARTISAN = "artisan"
    NONE = "none"


SELF_EMPLOYMENT_CONTRACT: Final = "قرارداد بیمه مشاغل آزاد (خویش‌فرما)"
ARTISAN_CONTRACT: Final = "بیمه قالیبافان و هنرمندان صنایع دستی"
_YEAR: Final = 365
_LAST_HIRING_AGE: Final = 65

# Weights of employee, self-employed, farmer, artisan, none.
_SECTOR_WEIGHTS: Final = {
    "male": (55, 17, 7, 1, 20),
    "female": (25, 5, 2, 4, 64),
    "female-before-1970": (10, 3, 3, 5, 79),
}
_WAGE_FACTORS: Final = {
    None: (1.0, 1.8),
    DegreeLevel.ASSOCIATE: (1.2, 2.5),
    DegreeLevel.BACHELOR: (1.3, 3.5),
    DegreeLevel.MASTER: (1.8, 5.0),
    DegreeLevel.DOCTORATE: (2.5, 7.0),
}


@dataclass(frozen=True, slots=True)
class InsurancePeriod:
    employer: str
    workshop_code: str
    started_on: date
    ended_on: date | None  # None: still insured there

    def days(self, until: date) -> int:
        """Insured days, counting an open period up to ``until``."""
        return ((self.ended_on or until) - self.started_on).days + 1


@dataclass(frozen=True, slots=True)
class Work:
    sector: Sector  # the current (or, after death or retirement, the last) occupation
    insurance_number: str | None  # None: never insured with social security
    periods: tuple[InsurancePeriod, ...]
    insured_wage_rials: int | None  # monthly, while insured as an employee
    retired_on: date | None
    pension_rials: int | None  # monthly
    business_since: date | None  # self-employed, farmer, artisan
    business_until: date | None  # None: still active (or never had one)
    business_income_rials: int | None  # monthly, as declared

    @property
    def insured_now(self) -> bool:
        return bool(self.periods) and self.periods[-1].ended_on is None

    @property
    def employed_now(self) -> bool:
        return self.insured_now and self.sector is Sector.EMPLOYEE

    @property
    def business_active(self) -> bool:
        return self.business_since is not None and self.business_until is None

    @property
    def monthly_income_rials(self) -> int:
        """What the person earns a month as far as any agency can tell (0: nothing known)."""
        income = (self.insured_wage_rials or 0) + (self.pension_rials or 0)
        if self.business_active:
            income += self.business_income_rials or 0
        return income


NO_WORK: Final = Work(Sector.NONE, None, (), None, None, None, None, None, None)


def _round_rials(amount: float) -> int:
    return round(amount / 10_000) * 10_000


def _sector(rng: random.Random, person: Person, severely_disabled: bool) -> Sector:
    if severely_disabled and rng.random() < 0.7:
        return Sector.NONE
    key = person.gender.value
    if person.gender is Gender.FEMALE and person.birth_date.year < 1970:
        key = "female-before-1970"
    return rng.choices(tuple(Sector), weights=_SECTOR_WEIGHTS[key])[0]


def draw_work(
    rng: random.Random,
    person: Person,
    horizon: date,
    education: Education,
    *,
    severely_disabled: bool,
) -> Work:
    adult = add_years(person.birth_date, 18)
    ready = max(adult, education.finished_on or adult)
    sector = _sector(rng, person, severely_disabled)
    if ready > horizon or sector is Sector.NONE:
        return NO_WORK
    if sector is Sector.EMPLOYEE:
        return _employee(rng, person, horizon, ready, education)
    return _business(rng, person, horizon, ready, sector)


def _retirement_day(period_start: date, insured_before: int, pension_age: date) -> date:
    """The first day of a period on which the person may retire."""
    twenty = period_start + timedelta(days=max(0, 20 * _YEAR - insured_before))
    thirty = period_start + timedelta(days=max(0, 30 * _YEAR - insured_before))
    return min(thirty, max(twenty, pension_age))


def _employee(
    rng: random.Random, person: Person, horizon: date, ready: date, education: Education
) -> Work:
    pension_age = add_years(person.birth_date, 60 if person.gender is Gender.MALE else 55)
    last_hiring = add_years(person.birth_date, _LAST_HIRING_AGE)
    start = between(rng, ready, min(horizon, add_years(ready, 4)))
    periods: list[InsurancePeriod] = []
    insured = 0
    retired_on: date | None = None
    while start <= min(horizon, last_hiring):
        retire = _retirement_day(start, insured, pension_age)
        if periods and retire == start:
            # Entitled to a pension before finding the next job: retired when the last one ended.
            retired_on = periods[-1].ended_on
            break
        drawn_end = start + timedelta(days=rng.randrange(_YEAR, 15 * _YEAR))
        end: date | None = drawn_end
        if retire <= min(drawn_end, horizon):
            end = retired_on = retire
        elif drawn_end >= horizon:
            end = None if person.alive else horizon
        periods.append(InsurancePeriod(employer_name(rng), digits(rng, 10), start, end))
        if end is None or end >= horizon or retired_on is not None:
            break
        insured += (end - start).days + 1
        start = end + timedelta(days=rng.randrange(1, 3 * _YEAR))
    ongoing = bool(periods) and periods[-1].ended_on is None
    low, high = _WAGE_FACTORS[education.highest]
    return Work(
        sector=Sector.EMPLOYEE,
        insurance_number=digits(rng, 10),
        periods=tuple(periods),
        insured_wage_rials=_round_rials(MINIMUM_WAGE_RIALS * rng.uniform(low, high))
        if ongoing
        else None,
        retired_on=retired_on,
        pension_rials=_round_rials(MINIMUM_WAGE_RIALS * rng.uniform(1.0, 3.5))
        if retired_on is not None
        else None,
        business_since=None,
        business_until=None,
        business_income_rials=None,
    )


def _business(
    rng: random.Random, person: Person, horizon: date, ready: date, sector: Sector
) -> Work:
    since = between(rng, ready, min(horizon, add_years(ready, 10)))
    stops = add_years(person.birth_date, 70 + rng.randrange(6))
    until = None if stops > horizon and person.alive else max(since, min(stops, horizon))
    contract = {Sector.SELF_EMPLOYED: SELF_EMPLOYMENT_CONTRACT, Sector.ARTISAN: ARTISAN_CONTRACT}
    periods: tuple[InsurancePeriod, ...] = ()
    if sector in contract and rng.random() < 0.45:
        insured_from = between(rng, since, min(until or horizon, add_years(since, 3)))
        periods = (InsurancePeriod(contract[sector], digits(rng, 10), insured_from, until),)
    income_factor = {Sector.SELF_EMPLOYED: (0.8, 8.0), Sector.FARMER: (0.5, 3.0)}
    low, high = income_factor.get(sector, (0.5, 2.0))
    return Work(
        sector=sector,
        insurance_number=digits(rng, 10) if periods else None,
        periods=periods,
        insured_wage_rials=None,
        retired_on=None,
        pension_rials=None,
        business_since=since,
        business_until=until,
        business_income_rials=_round_rials(MINIMUM_WAGE_RIALS * rng.uniform(low, high)),
    )
