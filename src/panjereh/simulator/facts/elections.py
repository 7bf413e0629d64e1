"""The next election, who may vote in it, and the polling station each voter is assigned.

A voter must be alive, 18 or older on election day and not deprived of social rights on that
day (see :mod:`justice`). Stations are derived from (seed, city, station number), so every
voter assigned the same number in the same city sees the same station.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from panjereh.domain.text import persian_digits
from panjereh.simulator.facts.draw import age_on, digits, rng_for
from panjereh.simulator.facts.justice import CriminalRecord
from panjereh.simulator.facts.places import CITIES, PROVINCES, Residence
from panjereh.simulator.population import Person

VOTING_AGE: Final = 18
STATIONS_PER_CITY: Final = 400
_MOBILE_STATIONS_PER_100: Final = 8


@dataclass(frozen=True, slots=True)
class Election:
    code: str
    name_fa: str
    name_en: str
    held_on: date


NEXT_ELECTION: Final = Election(
    code="presidential-1407",
    name_fa="انتخابات ریاست جمهوری ۱۴۰۷",
    name_en="Presidential election 1407",
    held_on=date(2028, 6, 16),  # 1407/03/27, a Friday
)


class Ineligibility(StrEnum):
    DECEASED = "deceased"
    UNDER_AGE = "under-age"
    DEPRIVED = "deprived-of-social-rights"


INELIGIBILITY_FA: Final = {
    Ineligibility.DECEASED: "فوت شده",
    Ineligibility.UNDER_AGE: "نرسیدن به سن قانونی رأی‌دادن",
    Ineligibility.DEPRIVED: "محرومیت از حقوق اجتماعی",
}


class StationKind(StrEnum):
    FIXED = "fixed"
    MOBILE = "mobile"


STATION_KINDS_FA: Final = {StationKind.FIXED: "ثابت", StationKind.MOBILE: "سیار"}

_VENUES: Final = ("دبستان", "دبیرستان", "مسجد", "حسینیه", "کانون فرهنگی", "سرای محله")
_NAMES: Final = (
    "شهید بهشتی",
    "فردوسی",
    "سعدی",
    "حافظ",
    "شهید رجایی",
    "شهید باهنر",
    "علامه طباطبایی",
    "فجر",
    "انقلاب",
    "نور",
    "ولیعصر",
    "امام رضا",
    "شهید مطهری",
    "خیام",
    "پروین اعتصامی",
)


@dataclass(frozen=True, slots=True)
class PollingStation:
    code: str
    name: str
    kind: StationKind
    province: str
    city: str
    address: str


def ineligibilities(
    person: Person, record: CriminalRecord, election: Election = NEXT_ELECTION
) -> tuple[Ineligibility, ...]:
    """Why the person may not vote in ``election``; empty when they may."""
    reasons: list[Ineligibility] = []
    if not person.alive:
        reasons.append(Ineligibility.DECEASED)
    if age_on(person.birth_date, election.held_on) < VOTING_AGE:
        reasons.append(Ineligibility.UNDER_AGE)
    if record.deprived_on(election.held_on):
        reasons.append(Ineligibility.DEPRIVED)
    return tuple(reasons)


def polling_station(seed: int, residence: Residence, number: int) -> PollingStation:
    """Station ``number`` of the voter's city, the same for every voter assigned to it."""
    province, city = residence.province, residence.city
    rng = rng_for(seed, "polling-station", f"{province}:{city}:{number}")
    code = f"{PROVINCES.index(province) + 1:02d}{CITIES[province].index(city) + 1:02d}{number:04d}"
    if rng.randrange(100) < _MOBILE_STATIONS_PER_100:
        kind, name = StationKind.MOBILE, f"شعبه سیار شماره {persian_digits(str(number))}"
    else:
        kind, name = StationKind.FIXED, f"{rng.choice(_VENUES)} {rng.choice(_NAMES)}"
    street = rng.choice(_NAMES)
    return PollingStation(
        code=code,
        name=name,
        kind=kind,
        province=province,
        city=city,
        address=f"{city}، خیابان {street}، پلاک {persian_digits(digits(rng, 2))}",
    )
