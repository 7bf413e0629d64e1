"""One error envelope for the management API too: RFC 9457 problem+json.

Bounded like the exchange's (`panjereh.domain.echo`): field names and values a request sent
are repeated as short excerpts, and every string and list of the document is bounded.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from panjereh.domain.echo import ECHO_LIMIT, ITEMS_LIMIT, bounded, clip
from panjereh.domain.errors import InvalidValue
from panjereh.interchange.yaml_io import format_path
from panjereh.registry.access import Conflict, Forbidden, NotFound, Refused
from panjereh.web.error_pages import PROBLEMS, allowed_methods, log_server_error

PROBLEM = "application/problem+json"
log = logging.getLogger(__name__)


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(bounded(body | extra), status_code=status, media_type=PROBLEM)


class Unauthenticated(Exception):
    """No valid bearer token."""


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    reference = log_server_error(request, exc)
    return problem(
        500,
        "server-error",
        "Internal server error",
        "An error on the server stopped the request; quote the reference to support.",
        reference=reference,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    # Starlette's detail is the status phrase in title case ("Method Not Allowed"): the title
    # is the one every API writes for the code (error_pages.PROBLEMS), the detail a sentence.
    code, title = PROBLEMS.get(exc.status_code, ("error", "Error"))
    detail = str(exc.detail)
    if detail == HTTPStatus(exc.status_code).phrase:  # no detail of its own
        detail = f"{title}."
    response = problem(exc.status_code, code, title, detail)
    if exc.status_code == 405:
        allow = allowed_methods(request, (exc.headers or {}).get("Allow"))
        if allow is not None:
            response.headers["Allow"] = allow
    return response


def install(app: FastAPI) -> None:
    async def not_found(_r: Request, exc: Exception) -> JSONResponse:
        return problem(404, "not-found", "Not found", str(exc) or "Not found.")

    async def forbidden(_r: Request, exc: Exception) -> JSONResponse:
        return problem(403, "forbidden", "Forbidden", str(exc))

    async def refused(_r: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refused)  # noqa: S101
        return problem(403, exc.code, "Forbidden", exc.message_en, detail_fa=exc.message_fa)

    async def conflict(_r: Request, exc: Exception) -> JSONResponse:
        return problem(409, "conflict", "Conflict", str(exc))

    async def invalid(_r: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InvalidValue)  # noqa: S101
        return problem(
            422,
            "invalid-request",
            "Invalid request",
            exc.message_en,
            detail_fa=exc.message_fa,
            field=exc.field,
            error=exc.code,
        )

    async def unauthenticated(_r: Request, _exc: Exception) -> JSONResponse:
        response = problem(
            401,
            "unauthenticated",
            "Authentication required",
            "Send 'Authorization: Bearer <token>'.",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="panjereh"'
        return response

    async def validation(_r: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        found = exc.errors()
        errors = [
            {
                "field": clip(format_path(tuple(e["loc"][1:])) or str(e["loc"][0])),
                "message": clip(str(e["msg"]).removeprefix("Value error, "), 2 * ECHO_LIMIT),
            }
            for e in found[:ITEMS_LIMIT]
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if len(found) > len(errors):
            detail += f"; and {len(found) - len(errors)} more"
        return problem(422, "invalid-request", "Invalid request", detail, errors=errors)

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(Exception, _server_error)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(Conflict, conflict)
    app.add_exception_handler(InvalidValue, invalid)
    app.add_exception_handler(Unauthenticated, unauthenticated)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
