"""Disability and welfare support, read by the Welfare Organization and by health insurance.

Support goes to people the other agencies see as poor or vulnerable: never to anyone whose
known monthly income (insured wage, pension, declared business income) exceeds twice the
minimum wage, and a support case closes on the day its holder dies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from panjereh.simulator.facts.draw import (
    MINIMUM_WAGE_RIALS,
    add_years,
    age_on,
    between,
    digits,
)
from panjereh.simulator.facts.work import Work
from panjereh.simulator.population import Gender, Person

_WELFARE_RECORDS_SINCE: Final = date(1985, 3, 21)


class DisabilityKind(StrEnum):
    PHYSICAL = "physical"
    VISUAL = "visual"
    HEARING = "hearing"
    INTELLECTUAL = "intellectual"
    PSYCHIATRIC = "psychiatric"


DISABILITY_KINDS_FA: Final = {
    DisabilityKind.PHYSICAL: "جسمی - حرکتی",
    DisabilityKind.VISUAL: "بینایی",
    DisabilityKind.HEARING: "شنوایی",
    DisabilityKind.INTELLECTUAL: "ذهنی",
    DisabilityKind.PSYCHIATRIC: "اعصاب و روان",
}


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"
    PROFOUND = "profound"


SEVERITIES_FA: Final = {
    Severity.MILD: "خفیف",
    Severity.MODERATE: "متوسط",
    Severity.SEVERE: "شدید",
    Severity.PROFOUND: "خیلی شدید",
}


class Programme(StrEnum):
    DISABILITY = "disability-allowance"
    FEMALE_HEADED_HOUSEHOLD = "female-headed-household"
    ELDERLY = "elderly-support"
    LOW_INCOME = "low-income-family"


PROGRAMMES_FA: Final = {
    Programme.DISABILITY: "مستمری معلولان",
    Programme.FEMALE_HEADED_HOUSEHOLD: "حمایت از زنان سرپرست خانوار",
    Programme.ELDERLY: "حمایت از سالمندان نیازمند",
    Programme.LOW_INCOME: "حمایت از خانواده‌های کم‌درآمد",
}


@dataclass(frozen=True, slots=True)
class Disability:
    card_number: str
    kind: DisabilityKind
    severity: Severity
    registered_on: date

    @property
    def severe(self) -> bool:
        return self.severity in (Severity.SEVERE, Severity.PROFOUND)


@dataclass(frozen=True, slots=True)
class Support:
    case_number: str
    programme: Programme
    since: date
    ended_on: date | None  # the day the case closed (its holder died); None: open
    monthly_allowance_rials: int


def draw_disability(rng: random.Random, person: Person, horizon: date) -> Disability | None:
    rate = 0.015 + 0.03 * min(age_on(person.birth_date, horizon), 90) / 90
    if rng.random() >= rate:
        return None
    first = max(person.birth_date, _WELFARE_RECORDS_SINCE)
    if first > horizon:
        return None
    return Disability(
        card_number=digits(rng, 10),
        kind=rng.choice(tuple(DisabilityKind)),
        severity=rng.choices(tuple(Severity), weights=(35, 35, 20, 10))[0],
        registered_on=between(rng, first, horizon),
    )


def _programme(
    rng: random.Random, person: Person, horizon: date, work: Work, disability: Disability | None
) -> tuple[Programme, date] | None:
    """The programme the person is supported by, and the earliest day it could have begun."""
    income = work.monthly_income_rials
    adult = add_years(person.birth_date, 18)
    if disability is not None and rng.random() < (0.7 if disability.severe else 0.3):
        return Programme.DISABILITY, disability.registered_on
    if income == 0 and age_on(person.birth_date, horizon) >= 65 and rng.random() < 0.12:
        return Programme.ELDERLY, add_years(person.birth_date, 65)
    if income == 0 and person.gender is Gender.FEMALE and rng.random() < 0.06:
        return Programme.FEMALE_HEADED_HOUSEHOLD, add_years(adult, 7)
    poor = income == 0 or income <= 1.2 * MINIMUM_WAGE_RIALS
    if poor and rng.random() < (0.04 if income == 0 else 0.02):
        return Programme.LOW_INCOME, adult
    return None


def draw_support(
    rng: random.Random, person: Person, horizon: date, work: Work, disability: Disability | None
) -> Support | None:
    if work.monthly_income_rials > 2 * MINIMUM_WAGE_RIALS:
        return None
    drawn = _programme(rng, person, horizon, work, disability)
    if drawn is None:
        return None
    programme, earliest = drawn
    first = max(earliest, _WELFARE_RECORDS_SINCE)
    if first > horizon:
        return None
    return Support(
        case_number=digits(rng, 9),
        programme=programme,
        since=between(rng, first, horizon),
        ended_on=None if person.alive else horizon,
        monthly_allowance_rials=rng.randrange(20, 90) * 1_000_000,
    )
