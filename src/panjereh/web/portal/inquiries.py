"""The portal page "چه کسی اطلاعات مرا دید؟" / "Who looked at my data?" (``/me/inquiries``,
``/en/me/inquiries``), its report form and the citizen's sign-out.

Persian dates are Jalali with Persian digits (the filter accepts ``۱۴۰۵/۰۹/۱۱``), English ones
Gregorian (ISO); times are Tehran time.  Every form carries the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from panjereh.audit.citizen import REASON_MAX, Period
from panjereh.domain.errors import InvalidValue
from panjereh.domain.jalali import TEHRAN, format_date, format_datetime, parse_jalali_date
from panjereh.domain.text import ascii_digits, normalize, persian_digits
from panjereh.registry.access import Conflict, NotFound
from panjereh.storage.citizen_repo import CitizenSession
from panjereh.web.citizen.sessions import CitizenSessions
from panjereh.web.citizen.view import CitizenView, InquiryQuery, InquiryRow, Reference
from panjereh.web.echo import here
from panjereh.web.operator.forms import FormTooLarge, field, read_form, same_token
from panjereh.web.operator.pages import redirect, secured
from panjereh.web.policy import Access, route
from panjereh.web.portal.citizen_text import ME_PATH, citizen_locale, prefix
from panjereh.web.portal.i18n import EN, FA, Locale
from panjereh.web.runtime import Runtime

TEMPLATES = Path(__file__).parent / "templates"


def templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


@dataclass(frozen=True, slots=True)
class ShownRow:
    """One table row as the page's language writes it."""

    exchange_id: str
    day: str
    time: str
    agency: str
    system: str
    service: str
    purpose: str
    outcome: str
    outcome_code: str
    reported: bool


def shown(row: InquiryRow, locale: Locale) -> ShownRow:
    fa = locale.lang == "fa"
    t = locale.text
    r = row.record
    if fa:
        day, _, clock = format_datetime(r.created_at, "fa").partition(" ")
    else:
        local = r.created_at.astimezone(TEHRAN)
        day, clock = local.date().isoformat(), f"{local:%H:%M}"
    agency = None if row.agency is None else row.agency.name_fa if fa else row.agency.name_en
    service = None if row.service is None else row.service.name_fa if fa else row.service.name_en
    purpose = row.purpose.name(locale.lang) if row.purpose else t["purpose_none"]
    return ShownRow(
        exchange_id=r.exchange_id,
        day=day,
        time=clock,
        agency=agency or t["unknown"],
        # A system has one registered name, in English: the Persian page shows its code.
        system=(row.system.name if row.system and not fa else row.system_code) or "",
        service=service or r.service_id or t["unknown"],
        purpose=purpose,
        outcome=t.get(f"outcome.{r.outcome}", r.outcome),
        outcome_code=r.outcome,
        reported=row.reported,
    )


def _day(raw: str, locale: Locale, name: str) -> date | None:
    """A filter day: Jalali on the Persian page (any digits), ISO on the English one."""
    text = normalize(raw)
    if not text:
        return None
    if locale.lang == "fa":
        try:
            return parse_jalali_date(text)
        except InvalidValue as exc:
            raise InvalidValue(
                exc.code, message_fa=exc.message_fa, message_en=exc.message_en, field=name
            ) from None
    try:
        return date.fromisoformat(ascii_digits(text))
    except ValueError:
        raise InvalidValue(
            "citizen.date",
            message_en="Write the date like 2026-11-22.",
            message_fa="تاریخ را مانند 2026-11-22 بنویسید.",
            field=name,
        ) from None


class InquiryPages:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.sessions = CitizenSessions(runtime)
        self.view = CitizenView(runtime)
        self.env = templates()

    def render(self, name: str, locale: Locale, *, status: int = 200, **context: Any) -> Response:
        values = {
            "t": locale.text,
            "locale": locale,
            "prefix": prefix(locale),
            "today": format_date(self.runtime.clock.now(), locale.lang, style="long"),
        }
        html = self.env.get_template(name).render(values | context)
        return secured(HTMLResponse(html, status_code=status))

    def message(self, locale: Locale, key: str, status: int) -> Response:
        return self.render("citizen_message.html", locale, status=status, message=key)

    async def signed_in(self, request: Request, locale: Locale) -> CitizenSession | Response:
        session = await self.sessions.current(request)
        if session is not None:
            return session
        if request.method in ("GET", "HEAD") and self.runtime.settings.is_development:
            back = here(request.url)
            return redirect(f"{prefix(locale)}/dev/sign-in?{urlencode({'next': back})}")
        return self.message(locale, "sign_in_needed", 401)

    def agencies(self, reference: Reference, locale: Locale) -> list[tuple[str, str]]:
        named = [
            (a.code, a.name_fa if locale.lang == "fa" else a.name_en)
            for a in reference.consumer_agencies
        ]
        return sorted(named, key=lambda pair: pair[1])

    async def inquiries(self, request: Request, locale: Locale) -> Response:
        session = await self.signed_in(request, locale)
        if isinstance(session, Response):
            return session
        params = request.query_params
        raw = {k: params.get(k, "")[:64] for k in ("agency", "from", "to")}
        cursor = params.get("cursor", "")[:200] or None
        reference = await self.view.reference()
        error = None
        rows: list[ShownRow] = []
        next_url = None
        try:
            period = Period(_day(raw["from"], locale, "from"), _day(raw["to"], locale, "to"))
            page = await self.view.page(
                session, InquiryQuery(period, raw["agency"] or None, cursor)
            )
            rows = [shown(r, locale) for r in page.rows]
            if page.next_cursor:
                query = {k: v for k, v in raw.items() if v} | {"cursor": page.next_cursor}
                next_url = f"{prefix(locale)}{ME_PATH}?{urlencode(query)}"
        except InvalidValue as exc:
            error = exc.message(locale.lang)
        reported = params.get("reported", "")
        until = format_datetime(session.expires_at, locale.lang).partition(" ")[2]
        return self.render(
            "inquiries.html",
            locale,
            status=422 if error else 200,
            rows=rows,
            error=error,
            filters=raw,
            first_url=f"{prefix(locale)}{ME_PATH}" if cursor else None,
            next_url=next_url,
            agencies=self.agencies(reference, locale),
            csrf=session.csrf,
            reported=_number(reported, locale)
            if reported.isascii() and reported.isdigit()
            else None,
            until=until,
            reason_max=REASON_MAX,
            quote=quote,
        )

    async def flag(self, request: Request, locale: Locale) -> Response:
        session = await self.signed_in(request, locale)
        if isinstance(session, Response):
            return session
        try:
            form = await read_form(request)
        except FormTooLarge:
            return self.message(locale, "form_invalid", 403)
        if not same_token(field(form, "csrf"), session.csrf):
            return self.message(locale, "form_invalid", 403)
        exchange_id = request.path_params["exchange_id"]
        try:
            case = await self.view.flag(session, exchange_id, field(form, "reason", limit=4000))
        except NotFound:
            return self.message(locale, "not_found", 404)
        except Conflict:
            return self.message(locale, "already_reported", 409)
        except InvalidValue as exc:
            return self.render(
                "citizen_message.html",
                locale,
                status=422,
                message=None,
                detail=exc.message(locale.lang),
            )
        return redirect(f"{prefix(locale)}{ME_PATH}?{urlencode({'reported': case.id})}")

    async def sign_out(self, request: Request, locale: Locale) -> Response:
        session = await self.sessions.current(request)
        if session is None:
            return redirect(locale.home)
        try:
            form = await read_form(request)
        except FormTooLarge:
            return self.message(locale, "form_invalid", 403)
        if not same_token(field(form, "csrf"), session.csrf):
            return self.message(locale, "form_invalid", 403)
        await self.sessions.close(request)
        response = redirect(locale.home)
        self.sessions.end(response)
        return response


def _number(value: str, locale: Locale) -> str:
    return persian_digits(value) if locale.lang == "fa" else value


Page = Callable[[Request, Locale], Awaitable[Response]]


def _bound(page: Page, locale: Locale) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await page(request, locale)

    return endpoint


def routes(pages: InquiryPages) -> list[BaseRoute]:
    """The citizen's pages in both languages."""
    found: list[BaseRoute] = []
    for base in (FA, EN):
        locale = citizen_locale(base, ME_PATH)
        p = prefix(locale)
        found += [
            route(f"{p}{ME_PATH}", _bound(pages.inquiries, locale), access=Access.CITIZEN),
            route(
                f"{p}{ME_PATH}/{{exchange_id}}/flag",
                _bound(pages.flag, locale),
                access=Access.CITIZEN,
                methods=("POST",),
            ),
            route(
                f"{p}/me/sign-out",
                _bound(pages.sign_out, locale),
                access=Access.CITIZEN,
                methods=("POST",),
            ),
        ]
    return found
