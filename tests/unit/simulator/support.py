"""What the simulator tests share: the seed, sampled subjects, request bodies and validators."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

import httpx
import jsonschema_rs
from starlette.applications import Starlette

from panjereh.domain.identifiers import (
    NationalCode,
    issuable_legal_id,
    national_code_check_digit,
)
from panjereh.simulator.app import create_simulator
from panjereh.simulator.catalogue import SimulatedService
from panjereh.simulator.facts import Companies, Company
from panjereh.simulator.population import Person, Population

SEED = 1405
JSON = dict[str, Any]


@cache
def simulator(seed: int = SEED) -> Starlette:
    return create_simulator(seed)


@asynccontextmanager
async def client(seed: int = SEED) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=simulator(seed))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        yield http


@cache
def citizens(count: int = 400) -> tuple[Person, ...]:
    return tuple(Population(SEED).sample(count))


@cache
def companies(count: int = 60) -> tuple[Company, ...]:
    return tuple(Companies(Population(SEED)).sample(count))


@cache
def unregistered_national_code() -> str:
    population = Population(SEED)
    for n in range(100_000, 200_000):
        nine = f"{n:09d}"
        code = NationalCode(nine + national_code_check_digit(nine))
        if population.person(code) is None:
            return code.value
    raise AssertionError("no unregistered national code")


@cache
def unregistered_legal_id() -> str:
    register = Companies(Population(SEED))
    for n in range(10_000_000, 10_100_000):
        legal = issuable_legal_id(f"14{n:08d}")
        if legal is not None and register.company(legal) is None:
            return legal.value
    raise AssertionError("no unregistered legal id")


def subject_body(service: SimulatedService, subject: str, mobile: str = "09121234567") -> JSON:
    """The smallest valid request for ``service`` about ``subject``."""
    field = "legal_id" if service.subject_kind == "legal_id" else "national_code"
    body: JSON = {field: subject}
    if "mobile" in service.request_schema["properties"]:
        body["mobile"] = mobile
    return body


def subjects_for(service: SimulatedService, count: int) -> list[str]:
    if service.subject_kind == "legal_id":
        return [c.legal_id for c in companies()[:count]]
    return [p.national_code for p in citizens()[:count]]


def validate(schema: Mapping[str, Any], instance: object) -> None:
    """Raise jsonschema_rs.ValidationError unless ``instance`` fits ``schema``."""
    jsonschema_rs.validator_for(dict(schema), validate_formats=True).validate(instance)
