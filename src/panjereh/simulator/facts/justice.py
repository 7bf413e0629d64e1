"""The judiciary's view of a citizen: effective convictions, loss of social rights, SANA.

A conviction comes after the 18th birthday; some carry a deprivation of social rights
(محرومیت از حقوق اجتماعی) that bars the person from voting until it ends, which the interior
ministry reads from here. A SANA account (the judiciary's e-service registration) is opened
with one of the person's own mobile lines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Final

from panjereh.simulator.facts.draw import AS_OF, add_years, between, digits
from panjereh.simulator.facts.telecom import MobileLine
from panjereh.simulator.population import Gender, Person

SANA_OPENED: Final = date(2016, 5, 21)  # 1395/03/01


@dataclass(frozen=True, slots=True)
class CriminalRecord:
    convicted_on: date | None
    effective_until: date | None  # a conviction stops counting (اعاده حیثیت) after this day
    deprived_until: date | None  # loss of social rights, including the vote, until this day

    @property
    def effective_now(self) -> bool:
        return self.effective_until is not None and self.effective_until > AS_OF

    def deprived_on(self, day: date) -> bool:
        return self.deprived_until is not None and self.deprived_until >= day


CLEAN: Final = CriminalRecord(None, None, None)


@dataclass(frozen=True, slots=True)
class SanaAccount:
    sana_id: str
    registered_on: date
    line: MobileLine
    active: bool


def draw_criminal_record(rng: random.Random, person: Person, horizon: date) -> CriminalRecord:
    rate = 0.05 if person.gender is Gender.MALE else 0.012
    adult = add_years(person.birth_date, 18)
    if rng.random() >= rate or adult > horizon:
        return CLEAN
    convicted = between(rng, max(adult, add_years(AS_OF, -30)), horizon)
    deprived = None
    if rng.random() < 0.5:
        deprived = add_years(convicted, rng.randrange(2, 11))
    return CriminalRecord(
        convicted_on=convicted,
        effective_until=add_years(convicted, rng.randrange(2, 16)),
        deprived_until=deprived,
    )


def draw_sana(
    rng: random.Random,
    person: Person,
    horizon: date,
    lines: tuple[MobileLine, ...],
    record: CriminalRecord,
) -> SanaAccount | None:
    if not lines or rng.random() >= (0.85 if record.convicted_on else 0.6):
        return None
    line = rng.choice(lines)
    first = max(SANA_OPENED, line.activated_on)
    if first > horizon:
        return None
    return SanaAccount(
        sana_id=digits(rng, 16),
        registered_on=between(rng, first, horizon),
        line=line,
        active=person.alive,
    )
