"""Synthetic legal entities, derived from (seed, legal id) like citizens from national codes.

About 3% of valid legal ids belong to no company. A company's officers are real synthetic
citizens (registered, alive, adult when their term began), so their names are the names the
civil registry gives for their national codes. Tax and tourism permits of a company are drawn
here too, so every agency agrees on whether a company is active.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from panjereh.domain.identifiers import LegalId, issuable_legal_id, issuable_national_code
from panjereh.simulator.facts.draw import AS_OF, add_years, age_on, between, digits, rng_for
from panjereh.simulator.facts.names import BRANDS
from panjereh.simulator.facts.places import CITIES, PROVINCES
from panjereh.simulator.population import Person, Population

_UNREGISTERED_RATE: Final = 8 / 256
_FIRST_REGISTRATION: Final = date(1965, 3, 21)
_TERM_YEARS: Final = 2
_OFFICER_TRIES: Final = 64


class CompanyKind(StrEnum):
    PRIVATE_JOINT_STOCK = "private-joint-stock"
    PUBLIC_JOINT_STOCK = "public-joint-stock"
    LIMITED_LIABILITY = "limited-liability"
    COOPERATIVE = "cooperative"
    NON_COMMERCIAL = "non-commercial-institute"


COMPANY_KINDS_FA: Final = {
    CompanyKind.PRIVATE_JOINT_STOCK: "سهامی خاص",
    CompanyKind.PUBLIC_JOINT_STOCK: "سهامی عام",
    CompanyKind.LIMITED_LIABILITY: "با مسئولیت محدود",
    CompanyKind.COOPERATIVE: "تعاونی",
    CompanyKind.NON_COMMERCIAL: "مؤسسه غیرتجاری",
}
_KIND_WEIGHTS: Final = (55, 3, 30, 7, 5)
_BOARD_SIZES: Final = {
    CompanyKind.PRIVATE_JOINT_STOCK: (3, 5),
    CompanyKind.PUBLIC_JOINT_STOCK: (5, 7),
    CompanyKind.LIMITED_LIABILITY: (2, 3),
    CompanyKind.COOPERATIVE: (3, 5),
    CompanyKind.NON_COMMERCIAL: (3, 3),
}


class CompanyStatus(StrEnum):
    ACTIVE = "active"
    IN_LIQUIDATION = "in-liquidation"
    DISSOLVED = "dissolved"


COMPANY_STATUSES_FA: Final = {
    CompanyStatus.ACTIVE: "فعال",
    CompanyStatus.IN_LIQUIDATION: "در حال تصفیه",
    CompanyStatus.DISSOLVED: "منحل شده",
}


class Activity(StrEnum):
    TRADE = "trade"
    CONSTRUCTION = "construction"
    INFORMATION_TECHNOLOGY = "information-technology"
    MANUFACTURING = "manufacturing"
    TOURISM = "tourism"
    AGRICULTURE = "agriculture"
    TRANSPORT = "transport"
    SERVICES = "services"


ACTIVITIES_FA: Final = {
    Activity.TRADE: "بازرگانی",
    Activity.CONSTRUCTION: "ساختمانی و عمرانی",
    Activity.INFORMATION_TECHNOLOGY: "فناوری اطلاعات",
    Activity.MANUFACTURING: "تولیدی و صنعتی",
    Activity.TOURISM: "گردشگری و خدمات مسافرتی",
    Activity.AGRICULTURE: "کشاورزی",
    Activity.TRANSPORT: "حمل‌ونقل",
    Activity.SERVICES: "خدمات و مشاوره",
}
_ACTIVITY_WORDS: Final = {
    Activity.TRADE: ("بازرگانی", "تجارت"),
    Activity.CONSTRUCTION: ("ساختمانی", "عمران", "سازه"),
    Activity.INFORMATION_TECHNOLOGY: ("داده‌پردازی", "فناوری اطلاعات", "نرم‌افزاری"),
    Activity.MANUFACTURING: ("صنایع", "تولیدی"),
    Activity.TOURISM: ("گردشگری", "سیر و سفر"),
    Activity.AGRICULTURE: ("کشت و صنعت", "کشاورزی"),
    Activity.TRANSPORT: ("حمل‌ونقل", "ترابری"),
    Activity.SERVICES: ("خدمات", "مشاوره"),
}
_ACTIVITY_WEIGHTS: Final = (25, 15, 12, 15, 8, 7, 8, 10)


class Role(StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice-chair"
    BOARD_MEMBER = "board-member"
    CEO = "ceo"


ROLES_FA: Final = {
    Role.CHAIR: "رئیس هیئت مدیره",
    Role.VICE_CHAIR: "نایب رئیس هیئت مدیره",
    Role.BOARD_MEMBER: "عضو هیئت مدیره",
    Role.CEO: "مدیرعامل",
}


@dataclass(frozen=True, slots=True)
class Company:
    legal_id: str
    name: str
    kind: CompanyKind
    registration_number: str
    registered_on: date
    province: str
    city: str
    activity: Activity
    capital_rials: int
    status: CompanyStatus
    dissolved_on: date | None
    postal_code: str

    @property
    def last_day(self) -> date:
        """The simulated today, or the day the company was dissolved."""
        return self.dissolved_on or AS_OF


@dataclass(frozen=True, slots=True)
class Officer:
    person: Person
    role: Role
    term_start: date
    term_end: date
    signatory: bool


def _name(rng: random.Random, kind: CompanyKind, activity: Activity) -> str:
    word = rng.choice(_ACTIVITY_WORDS[activity])
    brand = f"{rng.choice(BRANDS)} {rng.choice(BRANDS)}"
    if kind is CompanyKind.NON_COMMERCIAL:
        return f"مؤسسه {word} {brand}"
    if kind is CompanyKind.COOPERATIVE:
        return f"شرکت تعاونی {word} {brand}"
    return f"شرکت {word} {brand} ({COMPANY_KINDS_FA[kind]})"


def _status(rng: random.Random, registered: date) -> tuple[CompanyStatus, date | None]:
    old_enough = add_years(registered, 2)
    if old_enough >= AS_OF:
        return CompanyStatus.ACTIVE, None
    status = rng.choices(tuple(CompanyStatus), weights=(85, 4, 11))[0]
    dissolved = between(rng, old_enough, AS_OF) if status is CompanyStatus.DISSOLVED else None
    return status, dissolved


class Companies:
    """The companies registry's synthetic register, over the whole legal-id space."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.seed = population.seed

    def company(self, legal_id: LegalId) -> Company | None:
        rng = rng_for(self.seed, "company", legal_id.value)
        if rng.random() < _UNREGISTERED_RATE:
            return None
        kind = rng.choices(tuple(CompanyKind), weights=_KIND_WEIGHTS)[0]
        activity = rng.choices(tuple(Activity), weights=_ACTIVITY_WEIGHTS)[0]
        # Skewed towards recent years: most companies alive today are young.
        span = (AS_OF - _FIRST_REGISTRATION).days - 30
        registered = AS_OF - timedelta(days=int(span * rng.random() ** 2) + 30)
        status, dissolved = _status(rng, registered)
        province = rng.choice(PROVINCES)
        return Company(
            legal_id=legal_id.value,
            name=_name(rng, kind, activity),
            kind=kind,
            registration_number=str(rng.randrange(1000, 700_000)),
            registered_on=registered,
            province=province,
            city=CITIES[province][0],
            activity=activity,
            capital_rials=int(10 ** rng.uniform(7, 12)) // 1_000_000 * 1_000_000,
            status=status,
            dissolved_on=dissolved,
            postal_code=digits(rng, 10),
        )

    def officers(self, company: Company) -> tuple[Officer, ...]:
        """The board and chief executive of the company's current (or last) term."""
        rng = rng_for(self.seed, "officers", company.legal_id)
        terms = age_on(company.registered_on, company.last_day) // _TERM_YEARS
        start = add_years(company.registered_on, _TERM_YEARS * terms)
        end = add_years(start, _TERM_YEARS)
        low, high = _BOARD_SIZES[company.kind]
        people = self._people(rng, rng.randrange(low, high + 1) + 1, start)
        *board, outsider = people
        ceo = rng.choice(board) if rng.random() < 0.6 else outsider
        roles = [Role.CHAIR, Role.VICE_CHAIR] + [Role.BOARD_MEMBER] * (len(board) - 2)
        officers = [
            Officer(person, role, start, end, signatory=role is Role.CHAIR)
            for person, role in zip(board, roles, strict=True)
        ]
        officers.append(Officer(ceo, Role.CEO, start, end, signatory=True))
        return tuple(officers)

    def _people(self, rng: random.Random, count: int, term_start: date) -> list[Person]:
        """``count`` different living citizens who were adults when the term began."""
        chosen: dict[str, Person] = {}
        for _ in range(_OFFICER_TRIES * count):
            code = issuable_national_code(f"{rng.randrange(1, 10**9):09d}")
            person = None if code is None else self.population.person(code)
            if person is None or not person.alive or person.national_code in chosen:
                continue
            if add_years(person.birth_date, 18) <= term_start:
                chosen[person.national_code] = person
                if len(chosen) == count:
                    break
        return list(chosen.values())

    def sample(self, count: int, *, start: int = 0) -> list[Company]:
        """``count`` registered companies, the same ones for the same seed and start."""
        found: list[Company] = []
        index = start
        while len(found) < count:
            rng = rng_for(self.seed, "company-sample", str(index))
            index += 1
            legal_id = issuable_legal_id(rng.choice(("10", "14")) + f"{rng.randrange(10**8):08d}")
            company = None if legal_id is None else self.company(legal_id)
            if company is not None:
                found.append(company)
        return found
