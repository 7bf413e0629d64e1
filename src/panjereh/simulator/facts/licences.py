"""Occupational permits: farmers' operator licences and handicraft production licences.

A permit exists exactly when the person's occupation (see :mod:`work`) is farming or a
handicraft, is issued after the business began, and lapses when the business stops or its
holder dies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from panjereh.simulator.facts.draw import AS_OF, add_years, between, digits, renewed_until
from panjereh.simulator.facts.work import Sector, Work
from panjereh.simulator.population import Person


class PermitStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


PERMIT_STATUSES_FA: Final = {
    PermitStatus.VALID: "معتبر",
    PermitStatus.EXPIRED: "منقضی",
    PermitStatus.CANCELLED: "ابطال‌شده",
}

FARMING_ACTIVITIES: Final = {
    "crops": ("زراعت", ("گندم", "جو", "برنج", "ذرت", "چغندرقند", "زعفران")),
    "orchards": ("باغبانی", ("پسته", "خرما", "سیب", "انگور", "مرکبات", "انار")),
    "livestock": ("دامداری", ("گوسفند", "گاو شیری", "بز")),
    "poultry": ("پرورش طیور", ("مرغ گوشتی", "مرغ تخم‌گذار")),
    "apiculture": ("زنبورداری", ("عسل",)),
    "aquaculture": ("آبزی‌پروری", ("قزل‌آلا", "میگو", "ماهیان گرم‌آبی")),
}

CRAFTS: Final = (
    "قالی‌بافی",
    "گلیم‌بافی",
    "سفالگری",
    "میناکاری",
    "خاتم‌کاری",
    "قلمزنی",
    "منبت‌کاری",
    "معرق‌کاری",
    "ملیله‌کاری",
    "گیوه‌بافی",
)


@dataclass(frozen=True, slots=True)
class Permit:
    number: str
    issued_on: date
    valid_until: date
    status: PermitStatus
    activity: str  # a key of FARMING_ACTIVITIES, or a craft
    product: str | None  # crop or livestock of a farm
    hectares: float | None


def _status(valid_until: date, person: Person, work: Work) -> PermitStatus:
    if not person.alive or not work.business_active:
        return PermitStatus.CANCELLED
    return PermitStatus.VALID if valid_until > AS_OF else PermitStatus.EXPIRED


def _issued(rng: random.Random, work: Work, horizon: date) -> date | None:
    since = work.business_since
    if since is None:
        return None
    return between(rng, since, min(work.business_until or horizon, add_years(since, 2)))


def draw_farm_permit(
    rng: random.Random, person: Person, horizon: date, work: Work
) -> Permit | None:
    issued = _issued(rng, work, horizon) if work.sector is Sector.FARMER else None
    if issued is None:
        return None
    activity = rng.choice(tuple(FARMING_ACTIVITIES))
    valid_until = renewed_until(rng, issued, 5, 0.75)
    return Permit(
        number=digits(rng, 12),
        issued_on=issued,
        valid_until=valid_until,
        status=_status(valid_until, person, work),
        activity=activity,
        product=rng.choice(FARMING_ACTIVITIES[activity][1]),
        hectares=round(rng.uniform(0.5, 40.0), 1) if activity in ("crops", "orchards") else None,
    )


def draw_craft_permit(
    rng: random.Random, person: Person, horizon: date, work: Work
) -> Permit | None:
    issued = _issued(rng, work, horizon) if work.sector is Sector.ARTISAN else None
    if issued is None:
        return None
    valid_until = renewed_until(rng, issued, 3, 0.7)
    return Permit(
        number=digits(rng, 10),
        issued_on=issued,
        valid_until=valid_until,
        status=_status(valid_until, person, work),
        activity=rng.choice(CRAFTS),
        product=None,
        hectares=None,
    )
