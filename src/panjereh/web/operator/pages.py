"""Rendering the area's pages: templates, locale-aware formatting, the security headers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from panjereh.domain.clock import Clock
from panjereh.domain.jalali import format_datetime
from panjereh.domain.text import number_text, persian_digits
from panjereh.web.echo import page_query
from panjereh.web.operator.auth import Viewer
from panjereh.web.operator.i18n import OperatorLocale
from panjereh.web.security_headers import HTML_HEADERS

TEMPLATES = Path(__file__).parent / "templates"

# The site's one policy (web/security_headers.py), and no caching of the area's pages.
SECURITY_HEADERS = {"Cache-Control": "no-store", **HTML_HEADERS}
ERROR_STATUSES = (403, 404, 409, 422)


def _without(request: Request, name: str) -> str:
    """This page's path and query, less one parameter (forms come back here)."""
    query = urlencode([(k, v) for k, v in parse_qsl(page_query(request.url.query)) if k != name])
    return f"{request.url.path}?{query}" if query else request.url.path


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str) -> Response:
    return secured(RedirectResponse(url, status_code=303))


@dataclass(frozen=True, slots=True)
class Formatter:
    """Numbers, dates and labels as the page's language writes them."""

    locale: OperatorLocale

    def num(self, value: int | str) -> str:
        """A count with thousands grouped (۱٬۲۹۹, 1,299); a string (an id) as it is."""
        if isinstance(value, int):
            return number_text(value, self.locale.lang)
        return persian_digits(value) if self.locale.lang == "fa" else value

    def pct(self, value: float) -> str:
        text = f"{value:.0f}"
        return f"{persian_digits(text)}٪" if self.locale.lang == "fa" else f"{text}%"

    def when(self, value: datetime | None) -> str:
        if value is None:
            return self.locale.text["none"]
        return format_datetime(value, self.locale.lang)

    def label(self, value: object) -> str:
        return self.locale.label(value)

    def labels(self, values: Iterable[object]) -> str:
        """Labels listed as the language writes a list: «الف، ب» in Persian, "a, b" in
        English (never the Persian comma on an English page)."""
        return ("، " if self.locale.lang == "fa" else ", ").join(map(self.label, values))

    def breakable(self, value: str) -> Markup:
        """A code that may wrap after its dots and slashes (long service ids in tables)."""
        return Markup("<wbr>").join(re.split(r"(?<=[./])", value))  # join escapes each part

    def json(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


class Pages:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(("html",)),
            undefined=StrictUndefined,  # a missing text key fails loudly, in tests
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )

    def render(
        self,
        request: Request,
        name: str,
        locale: OperatorLocale,
        viewer: Viewer | None,
        *,
        http_status: int = 200,
        **context: Any,
    ) -> Response:
        values: dict[str, Any] = {
            "t": locale.text,
            "f": Formatter(locale),
            "locale": locale,
            "viewer": viewer,
            "agency_name": viewer.agency_name(locale.lang) if viewer else None,
            "here": request.url.path,
            "other_url": locale.switch(request.url.path, page_query(request.url.query)),
            "back": _without(request, "done"),
            "detail": None,
            "now": self.clock.now(),
        }
        html = self.env.get_template(name).render(values | context)
        return secured(HTMLResponse(html, status_code=http_status))

    def error(
        self,
        request: Request,
        locale: OperatorLocale,
        viewer: Viewer | None,
        status: int,
        *,
        detail: str | None = None,
        back: str | None = None,
    ) -> Response:
        """The error page; ``back`` is the page a refused form was on (already checked)."""
        if status not in ERROR_STATUSES:
            raise ValueError(f"no error page for {status}")
        # The other language's dashboard: the failed request itself may have been a POST.
        return self.render(
            request,
            "error.html",
            locale,
            viewer,
            http_status=status,
            code=status,
            detail=detail,
            back_to=back,
            other_url=f"{locale.other_prefix}/",
        )
