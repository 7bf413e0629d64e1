"""Unknown pages and errors: a friendly page for a browser, problem+json for everyone else.

A request gets the HTML page when its path is not an API's (`API_PREFIXES`) and its
``Accept`` prefers ``text/html`` to JSON (a browser's does; ``*/*``, curl's, does not).  The
page is Persian (right to left, Persian digits) unless the path is under ``/en/``; it says
what happened and links home.  For 429 it says when to try again (``Retry-After``); for 500 it
shows a reference that is also in the server's log, never a trace.

The areas that render their own error pages (operator, citizen) keep doing so; these answers
are for what reaches no page: an unknown address, a method a route does not take, an
``HTTPException`` raised without a page of its own, and an unexpected error.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.routing import iter_route_contexts
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Match

from panjereh.domain.clock import Clock
from panjereh.domain.jalali import format_date
from panjereh.domain.text import persian_digits
from panjereh.web.portal.i18n import EN, FA, Locale

log = logging.getLogger(__name__)


#: Where the request's scope keeps the reference its error was logged under.
_REFERENCE_KEY = "panjereh.error_reference"


def log_server_error(request: Request, exc: Exception) -> str:
    """Log an unexpected error under a new reference, and return the reference for the answer
    (the same line for pages and for the management API's problem documents).

    An error in a mounted application (the management API) meets its handler and then, raised
    on, the outer application's: the second gets the reference of the first from the request's
    scope, so one error is one line and the reference answered is the one in the log."""
    known = request.scope.get(_REFERENCE_KEY)
    if isinstance(known, str):
        return known
    reference = secrets.token_hex(6)
    request.scope[_REFERENCE_KEY] = reference
    # Starlette raises the error on to the server, which logs its trace right after.
    log.error(
        "server error, reference %s: %s %s (%s)",
        reference,
        request.method,
        request.url.path,
        exc.__class__.__name__,
    )
    return reference


TEMPLATES = Path(__file__).parent / "portal" / "templates"
PROBLEM = "application/problem+json"
#: Paths whose clients are programs: they always get problem+json.
API_PREFIXES = ("/api/", "/exchange/", "/simulator/", "/metrics", "/healthz", "/readyz")
PAGES = (403, 404, 405, 429, 500)

#: status -> (code, title); titles in sentence case, one per code across the APIs.
PROBLEMS: dict[int, tuple[str, str]] = {
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    429: ("rate-limited", "Too many requests"),
    500: ("server-error", "Internal server error"),
}

_TEXT: dict[str, dict[str, str]] = {
    "fa": {
        "code": "خطای {code}",
        "403_title": "اجازه دسترسی ندارید",
        "403": "شما اجازه دیدن این صفحه یا انجام این کار را ندارید.",
        "404_title": "صفحه پیدا نشد",
        "404": "صفحه‌ای با این نشانی در پنجره نیست. شاید پیوند کهنه است یا نشانی درست نوشته نشده.",
        "405_title": "این درخواست پذیرفته نیست",
        "405": "این نشانی این نوع درخواست را نمی‌پذیرد.",
        "429_title": "درخواست‌ها بیش از اندازه است",
        "429": "در زمان کوتاهی درخواست‌های زیادی فرستاده شده است. لطفاً {wait} دوباره تلاش کنید.",
        "500_title": "خطایی پیش آمد",
        "500": (
            "در سرور خطایی پیش آمد و درخواست شما انجام نشد. لطفاً دوباره تلاش کنید؛ اگر "
            "تکرار شد، شناسه پیگیری زیر را به پشتیبانی بدهید."
        ),
        "later": "کمی بعد",
        "in": "{n} {unit} دیگر",
        "second": "ثانیه",
        "seconds": "ثانیه",
        "minute": "دقیقه",
        "minutes": "دقیقه",
        "reference": "شناسه پیگیری",
        "home": "بازگشت به صفحه اصلی پنجره",
    },
    "en": {
        "code": "Error {code}",
        "403_title": "Access not allowed",
        "403": "You are not allowed to see this page or do this.",
        "404_title": "Page not found",
        "404": "There is no page at this address in Panjereh. The link may be old, or the "
        "address mistyped.",
        "405_title": "Request not accepted",
        "405": "This address does not accept this kind of request.",
        "429_title": "Too many requests",
        "429": "Too many requests were sent in a short time. Please try again {wait}.",
        "500_title": "Something went wrong",
        "500": (
            "An error on the server stopped your request. Please try again; if it happens "
            "again, give the reference below to support."
        ),
        "later": "a little later",
        "in": "in {n} {unit}",
        "second": "second",
        "seconds": "seconds",
        "minute": "minute",
        "minutes": "minutes",
        "reference": "Reference",
        "home": "Back to the Panjereh home page",
    },
}


def wants_html(request: Request) -> bool:
    """The friendly page for this request, rather than problem+json."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    return prefers_html(request.headers.get("accept", ""))


def prefers_html(accept: str) -> bool:
    """``Accept`` names HTML, with a quality no lower than any JSON it names."""
    html = json = 0.0
    for part in accept.split(",")[:32]:
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if media in ("text/html", "application/xhtml+xml"):
            html = max(html, quality)
        elif media in ("application/json", PROBLEM):
            json = max(json, quality)
    return html > 0 and html >= json


def locale_of(path: str) -> Locale:
    return EN if path == "/en" or path.startswith("/en/") else FA


@dataclass(frozen=True, slots=True)
class ErrorPage:
    code: str
    title: str
    text: str
    home: str
    reference: str | None
    reference_label: str


def allowed_methods(request: Request, fallback: str | None = None) -> str | None:
    """The ``Allow`` of a 405 (RFC 9110 §15.5.6): every method the request's path takes,
    over all the routes of the application that answered.  Starlette's router names only the
    first route whose path matched (``GET /dev/sign-in`` hides ``POST /dev/sign-in``), and
    FastAPI's answer drops the header; HEAD goes with GET.  FastAPI keeps an included
    router's routes behind one entry: `iter_route_contexts` lists them one by one."""
    router = getattr(request.app, "router", None)
    methods: set[str] = set()
    for route in iter_route_contexts(getattr(router, "routes", ())):
        taken = route.methods
        if taken and route.matches(request.scope)[0] is not Match.NONE:
            methods.update(taken)
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods)) if methods else fallback


class ErrorPages:
    """The exception handlers of the Starlette application."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(("html",)),
            auto_reload=False,
        )
        self.template = env.get_template("error.html")

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """An ``HTTPException`` (404 and 405 from the router among them)."""
        assert isinstance(exc, HTTPException)  # noqa: S101 - registered for it
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allow = allowed_methods(request, headers.get("Allow"))
            if allow is not None:
                headers["Allow"] = allow
        return self.answer(request, exc.status_code, headers)

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """Anything unexpected: a reference in the answer and the log, no trace sent."""
        return self.answer(request, 500, {}, reference=log_server_error(request, exc))

    def answer(
        self,
        request: Request,
        status: int,
        headers: dict[str, str],
        *,
        reference: str | None = None,
    ) -> Response:
        if status in PAGES and wants_html(request):
            return self.page(request.url.path, status, headers, reference=reference)
        code, title = PROBLEMS.get(status, ("error", "Error"))
        body: dict[str, Any] = {
            "type": f"/problems/{code}",
            "title": title,
            "status": status,
            "code": code,
        }
        if reference is not None:
            body["reference"] = reference
        return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)

    def page(
        self, path: str, status: int, headers: dict[str, str], *, reference: str | None = None
    ) -> HTMLResponse:
        locale = locale_of(path)
        lang = locale.lang
        text = _TEXT[lang]

        def digits(value: str) -> str:
            return persian_digits(value) if lang == "fa" else value

        page = ErrorPage(
            code=digits(text["code"].format(code=status)),
            title=text[f"{status}_title"],
            text=text[str(status)].format(wait=_wait(text, headers.get("Retry-After"), digits)),
            home=text["home"],
            reference=reference,
            reference_label=text["reference"],
        )
        html = self.template.render(
            t=locale.text,
            locale=locale,
            page=page,
            today=format_date(self.clock.now(), lang, style="long"),
        )
        headers = headers | {"Cache-Control": "no-store"}
        return HTMLResponse(html, status_code=status, headers=headers)


def _wait(text: dict[str, str], retry_after: str | None, digits: Callable[[str], str]) -> str:
    """When to try again, from ``Retry-After`` in seconds ("in 30 seconds", "in 2 minutes")."""
    value = (retry_after or "").strip()
    if not (value.isascii() and value.isdigit()):
        return text["later"]
    seconds = max(1, int(value))
    if seconds < 60:
        n, unit = seconds, text["second" if seconds == 1 else "seconds"]
    else:
        n = math.ceil(seconds / 60)
        unit = text["minute" if n == 1 else "minutes"]
    return digits(text["in"].format(n=n, unit=unit))
