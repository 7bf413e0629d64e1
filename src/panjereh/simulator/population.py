"""Synthetic citizens, derived deterministically from (seed, national code).

Nothing is stored: any valid national code maps to the same person every time, so every
simulated agency agrees on a citizen's name and birth date without sharing a database, and the
population is as large as the code space (the benchmarks draw from millions of codes).
About 3% of valid codes belong to nobody, so "not found" answers are realistic.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from faker.providers.address.fa_IR import Provider as AddressProvider
from faker.providers.person.fa_IR import Provider as PersonProvider

from panjereh.domain.identifiers import NationalCode, issuable_national_code
from panjereh.domain.text import normalize

# Faker's fa_IR lists mix Arabic and Persian letters (e.g. «ك»): normalize once, as the real
# registries are expected to.
_MALE = tuple(sorted({normalize(n) for n in PersonProvider.first_names_male}))
_FEMALE = tuple(sorted({normalize(n) for n in PersonProvider.first_names_female}))
_LAST = tuple(sorted({normalize(n) for n in PersonProvider.last_names}))
_PROVINCES = tuple(sorted({normalize(s) for s in AddressProvider.states}))

_OLDEST = date(1930, 3, 21)
_YOUNGEST = date(2008, 3, 20)
_UNREGISTERED_PER_256 = 8  # ~3% of valid codes belong to nobody


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class Person:
    national_code: str
    first_name: str
    last_name: str
    father_name: str
    gender: Gender
    birth_date: date
    birth_province: str
    alive: bool


class Population:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def _digest(self, label: str) -> bytes:
        return hashlib.sha256(f"{self.seed}:{label}".encode()).digest()

    def person(self, national_code: NationalCode) -> Person | None:
        """The citizen with this code, or None when the code belongs to nobody."""
        digest = self._digest(f"person:{national_code.value}")
        if digest[0] < _UNREGISTERED_PER_256:
            return None
        rng = random.Random(digest)  # noqa: S311 - synthetic data, not security
        gender = Gender.MALE if rng.random() < 0.5 else Gender.FEMALE
        span = (_YOUNGEST - _OLDEST).days
        return Person(
            national_code=national_code.value,
            first_name=rng.choice(_MALE if gender is Gender.MALE else _FEMALE),
            last_name=rng.choice(_LAST),
            father_name=rng.choice(_MALE),
            gender=gender,
            birth_date=_OLDEST + timedelta(days=rng.randrange(span)),
            birth_province=rng.choice(_PROVINCES),
            alive=rng.random() >= 0.02,
        )

    def sample(self, count: int, *, start: int = 0) -> list[Person]:
        """``count`` registered citizens, the same ones for the same seed and start."""
        people: list[Person] = []
        index = start
        while len(people) < count:
            rng = random.Random(self._digest(f"sample:{index}"))  # noqa: S311
            index += 1
            code = issuable_national_code(f"{rng.randrange(1, 10**9):09d}")
            person = None if code is None else self.person(code)
            if person is not None:
                people.append(person)
        return people
