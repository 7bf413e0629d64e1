"""Mobile lines registered to a national code: none to three per person.

Lines are registered to adults only (a child's SIM card is in a parent's name), never before
the operator existed, and never after the holder died.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from panjereh.domain.identifiers import MobileNumber
from panjereh.simulator.facts.draw import add_years, between, digits
from panjereh.simulator.population import Person


class Operator(StrEnum):
    MCI = "mci"
    IRANCELL = "irancell"
    RIGHTEL = "rightel"


OPERATORS_FA: Final = {
    Operator.MCI: "همراه اول",
    Operator.IRANCELL: "ایرانسل",
    Operator.RIGHTEL: "رایتل",
}

# Operator, its prefixes, the day it began service, its share of new lines.
_OPERATORS: Final = (
    (Operator.MCI, ("910", "911", "912", "913", "914", "915", "916", "917", "918", "919", "990",
                    "991", "992", "993"), date(1994, 3, 21), 55),
    (Operator.IRANCELL, ("901", "902", "903", "905", "930", "933", "935", "936", "937", "938",
                         "939", "941"), date(2006, 10, 21), 38),
    (Operator.RIGHTEL, ("920", "921", "922"), date(2011, 12, 4), 7),
)  # fmt: skip


class LineKind(StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"


LINE_KINDS_FA: Final = {LineKind.PREPAID: "اعتباری", LineKind.POSTPAID: "دائمی"}


@dataclass(frozen=True, slots=True)
class MobileLine:
    number: MobileNumber
    operator: Operator
    kind: LineKind
    activated_on: date
    active: bool


def _line(rng: random.Random, first: date, horizon: date, alive: bool) -> MobileLine | None:
    operator, prefixes, opened, _share = rng.choices(
        _OPERATORS, weights=[o[3] for o in _OPERATORS]
    )[0]
    start = max(first, opened)
    if start > horizon:
        return None
    return MobileLine(
        number=MobileNumber(f"+98{rng.choice(prefixes)}{digits(rng, 7)}"),
        operator=operator,
        kind=LineKind.POSTPAID if rng.random() < 0.3 else LineKind.PREPAID,
        activated_on=between(rng, start, horizon),
        active=alive,
    )


def draw_lines(rng: random.Random, person: Person, horizon: date) -> tuple[MobileLine, ...]:
    first = add_years(person.birth_date, 18)
    weights = (25, 55, 15, 5) if person.birth_date.year < 1950 else (6, 50, 30, 14)
    count = rng.choices((0, 1, 2, 3), weights=weights)[0]
    lines = (_line(rng, first, horizon, person.alive) for _ in range(count))
    return tuple(sorted((x for x in lines if x is not None), key=lambda x: x.activated_on))
