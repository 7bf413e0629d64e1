"""School diplomas and university degrees: a diploma first, degrees only after it.

The diploma is taken on the first 21 June after the 18th birthday (a year or two later for
some), so nobody holds a diploma, and therefore a degree, before they are 18; each degree
starts after the previous one ended, and only degrees finished by the horizon (the simulated
today, or the day of death) exist.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from panjereh.simulator.facts.draw import add_years, digits
from panjereh.simulator.population import Person


class DiplomaField(StrEnum):
    MATHEMATICS = "mathematics-physics"
    SCIENCES = "experimental-sciences"
    HUMANITIES = "humanities"
    ISLAMIC_STUDIES = "islamic-studies"
    TECHNICAL = "technical-vocational"


DIPLOMA_FIELDS_FA: Final = {
    DiplomaField.MATHEMATICS: "ریاضی و فیزیک",
    DiplomaField.SCIENCES: "علوم تجربی",
    DiplomaField.HUMANITIES: "ادبیات و علوم انسانی",
    DiplomaField.ISLAMIC_STUDIES: "علوم و معارف اسلامی",
    DiplomaField.TECHNICAL: "فنی و حرفه‌ای",
}


class DegreeLevel(StrEnum):
    ASSOCIATE = "associate"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"


DEGREE_LEVELS_FA: Final = {
    DegreeLevel.ASSOCIATE: "کاردانی",
    DegreeLevel.BACHELOR: "کارشناسی",
    DegreeLevel.MASTER: "کارشناسی ارشد",
    DegreeLevel.DOCTORATE: "دکتری",
}

_STUDIES: Final = {
    DiplomaField.MATHEMATICS: (
        "مهندسی کامپیوتر",
        "مهندسی برق",
        "مهندسی مکانیک",
        "مهندسی عمران",
        "مهندسی صنایع",
        "ریاضیات و کاربردها",
        "فیزیک",
    ),
    DiplomaField.SCIENCES: (
        "زیست‌شناسی",
        "شیمی",
        "زمین‌شناسی",
        "مهندسی کشاورزی",
        "روان‌شناسی",
        "مهندسی منابع طبیعی",
    ),
    DiplomaField.HUMANITIES: (
        "حقوق",
        "حسابداری",
        "مدیریت بازرگانی",
        "اقتصاد",
        "علوم سیاسی",
        "زبان و ادبیات فارسی",
        "جامعه‌شناسی",
        "علوم تربیتی",
    ),
    DiplomaField.ISLAMIC_STUDIES: (
        "الهیات و معارف اسلامی",
        "فقه و مبانی حقوق اسلامی",
        "علوم قرآن و حدیث",
    ),
    DiplomaField.TECHNICAL: (
        "مهندسی تکنولوژی برق",
        "مهندسی تکنولوژی نرم‌افزار",
        "حسابداری",
        "معماری",
    ),
}

UNIVERSITIES: Final = (
    "دانشگاه تهران",
    "دانشگاه صنعتی شریف",
    "دانشگاه صنعتی امیرکبیر",
    "دانشگاه علم و صنعت ایران",
    "دانشگاه شهید بهشتی",
    "دانشگاه علامه طباطبائی",
    "دانشگاه فردوسی مشهد",
    "دانشگاه شیراز",
    "دانشگاه اصفهان",
    "دانشگاه صنعتی اصفهان",
    "دانشگاه تبریز",
    "دانشگاه گیلان",
    "دانشگاه رازی",
    "دانشگاه یزد",
    "دانشگاه پیام نور",
    "دانشگاه آزاد اسلامی",
)


@dataclass(frozen=True, slots=True)
class Diploma:
    number: str
    field: DiplomaField
    gpa: float
    graduated_on: date
    school_province: str


@dataclass(frozen=True, slots=True)
class Degree:
    number: str
    level: DegreeLevel
    field: str
    university: str
    gpa: float
    started_on: date
    graduated_on: date


@dataclass(frozen=True, slots=True)
class Education:
    diploma: Diploma | None
    degrees: tuple[Degree, ...]

    @property
    def finished_on(self) -> date | None:
        """The day the last diploma or degree was received, if any."""
        if self.degrees:
            return self.degrees[-1].graduated_on
        return None if self.diploma is None else self.diploma.graduated_on

    @property
    def highest(self) -> DegreeLevel | None:
        return self.degrees[-1].level if self.degrees else None


def _diploma_rate(birth_year: int) -> float:
    if birth_year < 1945:
        return 0.15
    if birth_year < 1960:
        return 0.35
    if birth_year < 1975:
        return 0.6
    return 0.8 if birth_year < 1990 else 0.88


def _first_21_june_after(day: date) -> date:
    candidate = date(day.year, 6, 21)
    return candidate if candidate > day else date(day.year + 1, 6, 21)


def _gpa(rng: random.Random, low: float) -> float:
    return round(rng.uniform(low, 19.9), 2)


def draw_education(rng: random.Random, person: Person, horizon: date) -> Education:
    if rng.random() >= _diploma_rate(person.birth_date.year):
        return Education(diploma=None, degrees=())
    delay = rng.choices((0, 1, 2), weights=(85, 10, 5))[0]
    graduated = add_years(_first_21_june_after(add_years(person.birth_date, 18)), delay)
    if graduated > horizon:
        return Education(diploma=None, degrees=())
    diploma = Diploma(
        number=digits(rng, 10),
        field=rng.choice(tuple(DiplomaField)),
        gpa=_gpa(rng, 12.0),
        graduated_on=graduated,
        school_province=person.birth_province,
    )
    university_rate = 0.25 if person.birth_date.year < 1960 else 0.55
    if rng.random() >= university_rate:
        return Education(diploma=diploma, degrees=())
    return Education(diploma=diploma, degrees=_draw_degrees(rng, diploma, horizon))


# Level, years of study, the chance of going on to the next level.
_Rung = tuple[DegreeLevel, int, float]
_ASSOCIATE_ONLY: Final[tuple[_Rung, ...]] = ((DegreeLevel.ASSOCIATE, 2, 0.0),)
_LADDER: Final[tuple[_Rung, ...]] = (
    (DegreeLevel.BACHELOR, 4, 0.35),
    (DegreeLevel.MASTER, 2, 0.2),
    (DegreeLevel.DOCTORATE, 5, 0.0),
)


def _draw_degrees(rng: random.Random, diploma: Diploma, horizon: date) -> tuple[Degree, ...]:
    field = rng.choice(_STUDIES[diploma.field])
    gap = rng.choices((0, 1, 2), weights=(70, 20, 10))[0]
    start = date(diploma.graduated_on.year + gap, 9, 23)  # 1 Mehr, the academic year
    ladder = _ASSOCIATE_ONLY if rng.random() < 0.15 else _LADDER
    degrees: list[Degree] = []
    for level, years, go_on in ladder:
        graduated = date(start.year + years + rng.choice((0, 0, 1)), 7, 1)
        if graduated > horizon:
            break
        degrees.append(
            Degree(
                number=digits(rng, 12),
                level=level,
                field=field,
                university=rng.choice(UNIVERSITIES),
                gpa=_gpa(rng, 14.0),
                started_on=start,
                graduated_on=graduated,
            )
        )
        if rng.random() >= go_on:
            break
        start = date(graduated.year + rng.choices((0, 1, 3), weights=(60, 25, 15))[0], 9, 23)
    return tuple(degrees)
