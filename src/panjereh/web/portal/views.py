"""Portal pages."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute

from panjereh.domain.jalali import format_date
from panjereh.domain.text import persian_digits
from panjereh.web.policy import Access, route
from panjereh.web.portal.i18n import EN, FA, Locale
from panjereh.web.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"


def routes(runtime: Runtime) -> list[BaseRoute]:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        auto_reload=False,
    )
    template = env.get_template("home.html")

    def render_home(locale: Locale) -> HTMLResponse:
        services = sorted(
            (s for s in runtime.registry.current.services.values() if s.is_callable),
            key=lambda s: s.id,
        )
        count = str(len(services))
        html = template.render(
            t=locale.text,
            locale=locale,
            services=services,
            count=persian_digits(count) if locale.lang == "fa" else count,
            today=format_date(runtime.clock.now(), locale.lang, style="long"),
        )
        return HTMLResponse(html)

    async def home_fa(_request: Request) -> HTMLResponse:
        return render_home(FA)

    async def home_en(_request: Request) -> HTMLResponse:
        return render_home(EN)

    return [
        route("/", home_fa, access=Access.PUBLIC),
        route("/en/", home_en, access=Access.PUBLIC),
    ]
