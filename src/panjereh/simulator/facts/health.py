"""Basic health insurance: who insures the citizen, read from work and welfare.

Workers, the insured self-employed and social-security pensioners are covered by the Social
Security Organization; welfare clients, farmers and everyone else who signed up by the Iran
Health Insurance Organization (special-groups, rural or universal fund). Cover ends at death.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from panjereh.simulator.facts.draw import AS_OF, add_years, between, digits
from panjereh.simulator.facts.welfare import Support
from panjereh.simulator.facts.work import Sector, Work
from panjereh.simulator.population import Person


class Insurer(StrEnum):
    SOCIAL_SECURITY = "social-security"
    IRAN_HEALTH = "iran-health-insurance"


INSURERS_FA: Final = {
    Insurer.SOCIAL_SECURITY: "سازمان تأمین اجتماعی",
    Insurer.IRAN_HEALTH: "سازمان بیمه سلامت ایران",
}


class Fund(StrEnum):
    WORKERS = "workers"
    PENSIONERS = "pensioners"
    SELF_EMPLOYED = "self-employed"
    SPECIAL_GROUPS = "special-groups"
    RURAL = "rural"
    UNIVERSAL = "universal"


FUNDS_FA: Final = {
    Fund.WORKERS: "بیمه‌شدگان اجباری",
    Fund.PENSIONERS: "مستمری‌بگیران",
    Fund.SELF_EMPLOYED: "مشاغل آزاد",
    Fund.SPECIAL_GROUPS: "اقشار خاص",
    Fund.RURAL: "روستاییان و عشایر",
    Fund.UNIVERSAL: "بیمه همگانی",
}


@dataclass(frozen=True, slots=True)
class Coverage:
    insurer: Insurer
    fund: Fund
    insurance_number: str
    covered_since: date
    valid_until: date
    active: bool


def _fund(rng: random.Random, work: Work, support: Support | None) -> tuple[Fund, date] | None:
    """The fund covering the person and the earliest day that cover could have begun."""
    if work.insured_now:
        fund = Fund.WORKERS if work.sector is Sector.EMPLOYEE else Fund.SELF_EMPLOYED
        return fund, work.periods[-1].started_on
    if work.retired_on is not None:
        return Fund.PENSIONERS, work.retired_on
    if support is not None:
        return Fund.SPECIAL_GROUPS, support.since
    if work.sector is Sector.FARMER and work.business_since is not None:
        return Fund.RURAL, work.business_since
    if rng.random() < 0.88:
        return Fund.UNIVERSAL, date(2014, 5, 5)  # universal health cover began in 1393
    return None


def draw_coverage(
    rng: random.Random, person: Person, horizon: date, work: Work, support: Support | None
) -> Coverage | None:
    drawn = _fund(rng, work, support)
    if drawn is None:
        return None
    fund, earliest = drawn
    first = max(earliest, add_years(person.birth_date, 18))
    if first > horizon:
        return None
    insurer = (
        Insurer.SOCIAL_SECURITY
        if fund in (Fund.WORKERS, Fund.PENSIONERS, Fund.SELF_EMPLOYED)
        else Insurer.IRAN_HEALTH
    )
    return Coverage(
        insurer=insurer,
        fund=fund,
        insurance_number=digits(rng, 10),
        covered_since=between(rng, first, min(horizon, first + timedelta(days=90))),
        valid_until=AS_OF + timedelta(days=rng.randrange(30, 366)) if person.alive else horizon,
        active=person.alive,
    )
