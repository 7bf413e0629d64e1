"""Portal pages."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute

from panjereh.domain.jalali import format_date
from panjereh.domain.text import number_text, search_key
from panjereh.web.policy import Access, route
from panjereh.web.portal.i18n import EN, FA, Locale
from panjereh.web.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"
PAGE = 50  # services shown at once; the search narrows the rest


def routes(runtime: Runtime) -> list[BaseRoute]:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        auto_reload=False,
    )
    template = env.get_template("home.html")

    def render_home(locale: Locale, query: str) -> HTMLResponse:
        callable_ = sorted(
            (s for s in runtime.registry.current.services.values() if s.is_callable),
            key=lambda s: s.id,
        )
        shown = callable_
        needle = search_key(query)
        if needle:
            shown = [
                s
                for s in callable_
                if needle
                in search_key(
                    f"{s.name_fa} {s.name_en} {s.id} {s.agency.name_fa} {s.agency.name_en}"
                )
            ]

        html = template.render(
            t=locale.text,
            locale=locale,
            services=shown[:PAGE],
            query=query,
            count=number_text(len(callable_), locale.lang),
            found=number_text(len(shown), locale.lang),
            more=len(shown) > PAGE,
            today=format_date(runtime.clock.now(), locale.lang, style="long"),
        )
        return HTMLResponse(html)

    def query_of(request: Request) -> str:
        return request.query_params.get("q", "")[:200]

    async def home_fa(request: Request) -> HTMLResponse:
        return render_home(FA, query_of(request))

    async def home_en(request: Request) -> HTMLResponse:
        return render_home(EN, query_of(request))

    return [
        route("/", home_fa, access=Access.PUBLIC),
        route("/en/", home_en, access=Access.PUBLIC),
    ]
