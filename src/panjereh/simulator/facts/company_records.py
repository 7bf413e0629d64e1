"""What other agencies hold about a company: its tax file and its tourism permit.

Both follow the companies registry: a dissolved company's tax file is closed and its permit
cancelled; only companies whose registered activity is tourism hold a tourism permit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from panjereh.domain.jalali import to_jalali
from panjereh.simulator.facts.companies import Activity, Company, CompanyStatus
from panjereh.simulator.facts.draw import (
    AS_OF,
    add_years,
    between,
    digits,
    renewed_until,
    rng_for,
)
from panjereh.simulator.facts.licences import PermitStatus
from panjereh.simulator.facts.tax import LAST_TAX_YEAR


class TourismPermitKind(StrEnum):
    TRAVEL_AGENCY_A = "travel-agency-a"
    TRAVEL_AGENCY_B = "travel-agency-b"
    HOTEL = "hotel"
    ECO_LODGE = "eco-lodge"


TOURISM_PERMIT_KINDS_FA: Final = {
    TourismPermitKind.TRAVEL_AGENCY_A: "دفتر خدمات مسافرتی و گردشگری (بند الف)",
    TourismPermitKind.TRAVEL_AGENCY_B: "دفتر خدمات مسافرتی و گردشگری (بند ب)",
    TourismPermitKind.HOTEL: "هتل",
    TourismPermitKind.ECO_LODGE: "اقامتگاه بوم‌گردی",
}


@dataclass(frozen=True, slots=True)
class TourismPermit:
    number: str
    kind: TourismPermitKind
    issued_on: date
    valid_until: date
    status: PermitStatus


@dataclass(frozen=True, slots=True)
class CompanyTax:
    economic_code: str  # for legal entities, the legal id itself
    vat_registered: bool
    file_open: bool
    last_declared_year: int | None
    debt_rials: int


def tourism_permit(seed: int, company: Company) -> TourismPermit | None:
    if company.activity is not Activity.TOURISM:
        return None
    rng = rng_for(seed, "tourism-permit", company.legal_id)
    issued = between(
        rng, company.registered_on, min(company.last_day, add_years(company.registered_on, 1))
    )
    valid_until = renewed_until(rng, issued, 3, 0.8)
    if company.status is not CompanyStatus.ACTIVE:
        status = PermitStatus.CANCELLED
    else:
        status = PermitStatus.VALID if valid_until > AS_OF else PermitStatus.EXPIRED
    return TourismPermit(
        number=digits(rng, 8),
        kind=rng.choice(tuple(TourismPermitKind)),
        issued_on=issued,
        valid_until=valid_until,
        status=status,
    )


def company_tax(seed: int, company: Company) -> CompanyTax:
    rng = rng_for(seed, "company-tax", company.legal_id)
    file_open = company.status is not CompanyStatus.DISSOLVED
    last_year = LAST_TAX_YEAR if file_open else to_jalali(company.last_day).year - 1
    last_year -= rng.choices((0, 1, 2), weights=(80, 15, 5))[0]
    first_year = to_jalali(company.registered_on).year
    return CompanyTax(
        economic_code=company.legal_id,
        vat_registered=file_open and rng.random() < 0.7,
        file_open=file_open,
        last_declared_year=last_year if last_year >= first_year else None,
        debt_rials=rng.randrange(10, 5_000) * 1_000_000 if rng.random() < 0.2 else 0,
    )
