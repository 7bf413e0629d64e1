"""The Civil Registration Organization's inquiry endpoints, as its own system would serve them."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from panjereh.domain.errors import InvalidValue
from panjereh.domain.identifiers import NationalCode
from panjereh.domain.jalali import to_jalali
from panjereh.simulator.population import Population

AGENCY_CODE = "civil-registry"


def _problem(status: int, code: str, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": f"/problems/{code}", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def create_app(population: Population) -> Starlette:
    async def person(request: Request) -> JSONResponse:
        try:
            body: Any = await request.json()
        except ValueError:
            return _problem(400, "invalid-request", "Invalid request", "The body must be JSON.")
        raw = body.get("national_code") if isinstance(body, dict) else None
        try:
            code = NationalCode.parse(raw)
        except InvalidValue as exc:
            return _problem(400, "invalid-request", "Invalid request", exc.message_en)
        found = population.person(code)
        if found is None:
            return _problem(
                404, "not-found", "Not found", "No person is registered with this code."
            )
        return JSONResponse(
            {
                "national_code": found.national_code,
                "first_name": found.first_name,
                "last_name": found.last_name,
                "father_name": found.father_name,
                "gender": found.gender.value,
                "birth_date": found.birth_date.isoformat(),
                "birth_date_jalali": to_jalali(found.birth_date).isoformat(),
                "birth_province": found.birth_province,
                "alive": found.alive,
            }
        )

    return Starlette(routes=[Route("/person", person, methods=["POST"])])
