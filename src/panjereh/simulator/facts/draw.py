"""The machinery under every synthetic fact: the day the world is seen on, and seeded draws.

Each fact about a subject is drawn from its own stream, keyed by (seed, topic, subject), so
adding a topic never changes the answers of another, and the same seed always gives the same
world. Nothing reads the wall clock: the simulated world is observed on :data:`AS_OF`.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta
from typing import Final

#: The simulated "today" (1405/09/07, the FixedClock default): answers never depend on the
#: wall clock, so a benchmark run and a test run see the same world.
AS_OF: Final = date(2026, 11, 28)

#: About the minimum monthly wage of 1404 in rials, the unit insured salaries are counted in.
MINIMUM_WAGE_RIALS: Final = 104_000_000


def rng_for(seed: int, topic: str, key: str) -> random.Random:
    """A random stream for one topic of one subject, the same for the same seed."""
    digest = hashlib.sha256(f"{seed}:{topic}:{key}".encode()).digest()
    return random.Random(digest)  # noqa: S311 - synthetic data, not security


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def between(rng: random.Random, first: date, last: date) -> date:
    """A day drawn uniformly from ``first`` to ``last`` inclusive (``first`` <= ``last``)."""
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def digits(rng: random.Random, count: int) -> str:
    """``count`` decimal digits, not starting with zero: a stable reference number."""
    return str(rng.randrange(10 ** (count - 1), 10**count))


def age_on(birth_date: date, day: date) -> int:
    """Whole years lived on ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def renewed_until(rng: random.Random, issued: date, years: int, renewal_rate: float) -> date:
    """The end of a permit's current term, renewed every ``years`` from ``issued``.

    Most holders renew in time, so their permit runs past :data:`AS_OF`; the others' permit
    expired at the end of the last term that began before it.
    """
    terms = 1
    while add_years(issued, years * terms) <= AS_OF:
        terms += 1
    if rng.random() >= renewal_rate:
        terms = max(1, terms - 1)
    return add_years(issued, years * terms)
