"""The simulator never makes up an identifier the platform refuses: a drawn prefix whose
serial (digits 4-9) is all zero is skipped, for citizens, companies and officers alike.

Such prefixes come once in a million draws, so the tests hand the generators a random stream
whose first identifier draws are exactly those prefixes."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from panjereh.domain.identifiers import LegalId, NationalCode
from panjereh.simulator.facts import companies as companies_module
from panjereh.simulator.facts.companies import Companies
from panjereh.simulator.facts.draw import rng_for as rng_for_original
from panjereh.simulator.population import Population
from tests.unit.simulator.support import SEED

# First nine digits with serial 000000 (offices 001-009): each completes to a code that passes
# the checksum, and most belong to someone in the synthetic population.
ZERO_SERIAL_PEOPLE = [n * 1_000_000 for n in range(1, 10)]
ZERO_SERIAL_COMPANIES = [0] * 5  # "10"/"14" + "00000000": digits 4-9 all zero


Queue = dict[tuple[int, int | None], list[int]]


class Queued(random.Random):
    """A random stream that answers identifier draws from a queue first."""

    def __init__(self, seed: int | bytes | None, queue: Queue) -> None:
        super().__init__(seed)
        self.queue = queue

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        waiting = self.queue.get((start, stop))
        if waiting:
            return waiting.pop(0)
        return super().randrange(start, stop, step)


def queued(queue: Queue) -> Callable[..., random.Random]:
    """A stand-in for `random.Random`."""
    return lambda seed=None: Queued(seed, queue)


def queued_rng_for(queue: Queue) -> Callable[[int, str, str], random.Random]:
    """A stand-in for `rng_for`: the same stream, with the queue in front."""
    draw = rng_for_original

    def rng_for(seed: int, topic: str, key: str) -> random.Random:
        stream = Queued(None, queue)
        stream.setstate(draw(seed, topic, key).getstate())
        return stream

    return rng_for


def test_the_population_sample_skips_national_codes_with_a_zero_serial(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue: Queue = {(1, 10**9): list(ZERO_SERIAL_PEOPLE)}
    monkeypatch.setattr(random, "Random", queued(queue))
    people = Population(SEED).sample(20)
    assert queue[(1, 10**9)] == []  # every zero-serial prefix was drawn
    assert [p.national_code[3:9] for p in people if p.national_code[3:9] == "000000"] == []
    for person in people:
        NationalCode.parse(person.national_code)


def test_the_company_sample_skips_legal_ids_with_a_zero_serial(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue: Queue = {(10**8, None): list(ZERO_SERIAL_COMPANIES)}
    monkeypatch.setattr(companies_module, "rng_for", queued_rng_for(queue))
    found = Companies(Population(SEED)).sample(10)
    assert queue[(10**8, None)] == []
    assert [c.legal_id for c in found if c.legal_id[3:9] == "000000"] == []
    for company in found:
        LegalId.parse(company.legal_id)


def test_officers_are_never_drawn_with_a_zero_serial_national_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register = Companies(Population(SEED))
    company = max(register.sample(20), key=lambda c: len(register.officers(c)))
    queue: Queue = {(1, 10**9): list(ZERO_SERIAL_PEOPLE)}
    monkeypatch.setattr(companies_module, "rng_for", queued_rng_for(queue))
    officers = register.officers(company)
    assert len(queue[(1, 10**9)]) < len(ZERO_SERIAL_PEOPLE) - 3  # drawn, and would have served
    codes = [o.person.national_code for o in officers]
    assert [c for c in codes if c[3:9] == "000000"] == []
    for officer in officers:
        NationalCode.parse(officer.person.national_code)
