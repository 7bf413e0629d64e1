"""What the simulated tax administration serves."""

from __future__ import annotations

from panjereh.simulator.facts.tax import IncomeSource
from panjereh.simulator.schemas import (
    AMOUNT,
    BOOLEAN,
    DIGITS,
    INTEGER,
    LEGAL_ID,
    NATIONAL_CODE,
    TEXT,
    SimulatedService,
    array,
    dated,
    nullable,
    one_of,
    service,
)
from panjereh.simulator.tax_administration.app import AGENCY_CODE

TAXPAYER_STATUS = service(
    AGENCY_CODE,
    "taxpayer-status",
    name=("استعلام وضعیت مالیاتی اشخاص حقیقی", "Taxpayer status inquiry"),
    description=(
        "منابع درآمد، پرونده مالیاتی، کد اقتصادی، آخرین اظهارنامه و بدهی مالیاتی فرد.",
        "A person's sources of income, tax file, economic code, last declaration and tax debt.",
    ),
    response_properties={
        "national_code": NATIONAL_CODE,
        "first_name": TEXT,
        "last_name": TEXT,
        "income_sources": array(one_of(IncomeSource)),
        "income_sources_fa": array(TEXT),
        "has_tax_file": BOOLEAN,
        "file_status": one_of(["none", "open", "closed"]),
        "economic_code": nullable(DIGITS),
        **dated("file_opened_on", optional=True),
        "last_declared_year": nullable(INTEGER),
        "outstanding_debt_rials": AMOUNT,
        "clearance_available": BOOLEAN,
    },
    purposes=("tax-assessment", "benefit-eligibility", "licensing"),
    consumers=(
        "welfare-organization",
        "companies-registry",
        "cultural-heritage-ministry",
        "agriculture-ministry",
        "judiciary",
    ),
)

LEGAL_ENTITY_TAX_STATUS = service(
    AGENCY_CODE,
    "legal-entity-tax-status",
    name=("استعلام وضعیت مالیاتی اشخاص حقوقی", "Legal entity tax status inquiry"),
    description=(
        "پرونده مالیاتی، ثبت‌نام ارزش افزوده، آخرین اظهارنامه و بدهی مالیاتی شخص حقوقی.",
        "A legal entity's tax file, VAT registration, last declaration and tax debt.",
    ),
    response_properties={
        "legal_id": LEGAL_ID,
        "name": TEXT,
        "economic_code": LEGAL_ID,
        "file_status": one_of(["open", "closed"]),
        "vat_registered": BOOLEAN,
        "last_declared_year": nullable(INTEGER),
        "outstanding_debt_rials": AMOUNT,
        "clearance_available": BOOLEAN,
    },
    subject_kind="legal_id",
    personal_data="none",
    purposes=("tax-assessment", "company-verification", "licensing"),
    consumers=(
        "companies-registry",
        "cultural-heritage-ministry",
        "social-security",
        "oil-ministry",
        "judiciary",
    ),
)

SERVICES: tuple[SimulatedService, ...] = (TAXPAYER_STATUS, LEGAL_ENTITY_TAX_STATUS)
