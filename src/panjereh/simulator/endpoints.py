"""What every simulated endpoint shares: reading the body, finding the subject, errors, dates.

An endpoint is a plain function from the request's JSON object to the answer's JSON object;
:func:`endpoint` turns it into a Starlette endpoint that answers 400 (``invalid-request``) or
404 (``not-found``) as RFC 9457 problem documents when the function refuses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from panjereh.domain.errors import InvalidValue, PanjerehError
from panjereh.domain.identifiers import LegalId, MobileNumber, NationalCode
from panjereh.domain.jalali import to_jalali
from panjereh.simulator.facts import Citizen, CitizenFacts, Companies, Company

Body = dict[str, Any]
Answer = dict[str, Any]
Handler = Callable[[Body], Answer]

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Refusal(PanjerehError):
    """The endpoint cannot answer this request; carries the problem document to send."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail

    def response(self) -> Response:
        return JSONResponse(
            {
                "type": f"/problems/{self.code}",
                "title": self.title,
                "status": self.status,
                "detail": self.detail,
            },
            status_code=self.status,
            media_type=PROBLEM_MEDIA_TYPE,
        )


def invalid(detail: str) -> Refusal:
    return Refusal(400, "invalid-request", "Invalid request", detail)


def not_found(detail: str) -> Refusal:
    return Refusal(404, "not-found", "Not found", detail)


async def read_object(request: Request) -> Body:
    try:
        body: Any = await request.json()
    except ValueError:
        raise invalid("The body must be JSON.") from None
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object.")
    return body


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint that answers ``handler(body)``, or the problem it raised."""

    async def run(request: Request) -> Response:
        try:
            return JSONResponse(handler(await read_object(request)))
        except Refusal as refusal:
            return refusal.response()

    return run


def _field(body: Body, name: str) -> object:
    if name not in body:
        raise invalid(f"The field {name!r} is required.")
    return body[name]


def national_code(body: Body, name: str = "national_code") -> NationalCode:
    try:
        return NationalCode.parse(_field(body, name))
    except InvalidValue as exc:
        raise invalid(exc.message_en) from None


def legal_id(body: Body, name: str = "legal_id") -> LegalId:
    try:
        return LegalId.parse(_field(body, name))
    except InvalidValue as exc:
        raise invalid(exc.message_en) from None


def mobile(body: Body, name: str = "mobile") -> MobileNumber:
    try:
        return MobileNumber.parse(_field(body, name))
    except InvalidValue as exc:
        raise invalid(exc.message_en) from None


def citizen_of(facts: CitizenFacts, body: Body) -> Citizen:
    """The citizen the body's ``national_code`` names; 400 or 404 otherwise."""
    found = facts.citizen(national_code(body))
    if found is None:
        raise not_found("No person is registered with this code.")
    return found


def company_of(companies: Companies, body: Body) -> Company:
    """The company the body's ``legal_id`` names; 400 or 404 otherwise."""
    found = companies.company(legal_id(body))
    if found is None:
        raise not_found("No legal entity is registered with this id.")
    return found


def dated(name: str, day: date | None) -> dict[str, str | None]:
    """``{name: "2026-11-28", name_jalali: "1405/09/07"}``; both null without a day."""
    if day is None:
        return {name: None, f"{name}_jalali": None}
    return {name: day.isoformat(), f"{name}_jalali": to_jalali(day).isoformat()}


def masked_mobile(number: MobileNumber) -> str:
    """``0912***4567``: enough for the holder to recognise their line."""
    local = number.local()
    return f"{local[:4]}***{local[-4:]}"
