"""The development sign-in for citizens (``/dev/sign-in``, ``/en/dev/sign-in``).

Only when ``PANJEREH_ENV=development``: the routes are not even registered otherwise, so every
other environment answers 404.  Anyone may type any valid national code (Persian or Arabic
digits accepted) and is signed in as that citizen, so that the citizen's pages can be used and
tested until the portal's real sign-in exists; that sign-in will only replace this form and
call `CitizenSessions.open` for the national code it proved.

Before sign-in there is no session, so the form is protected like the operator area's
sign-in form: a signed double-submit token (`panjereh.web.operator.auth.Sessions`).

It goes through the platform's sign-in throttle like every sign-in, keyed by the national code
and the client's address: a code that is not valid counts as a failure of the address; a
locked code or address is refused (429, with when to try again) before a session is opened.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from panjereh.domain.errors import InvalidValue
from panjereh.domain.identifiers import NationalCode
from panjereh.domain.throttle import ThrottleKey, Verdict
from panjereh.web.operator.auth import Sessions
from panjereh.web.operator.forms import FormTooLarge, field, read_form
from panjereh.web.operator.pages import redirect
from panjereh.web.policy import Access, route
from panjereh.web.portal.citizen_text import ME_PATH, citizen_locale, prefix
from panjereh.web.portal.i18n import EN, FA, Locale
from panjereh.web.portal.inquiries import InquiryPages
from panjereh.web.runtime import Runtime
from panjereh.web.sign_in_throttle import address_keys, national_code_key, too_many, wait_text

METHOD = "development"
REASON = "portal development sign-in"
NEXT_PREFIXES = ("/me/", "/en/me/")


def safe_next(raw: str | None) -> str | None:
    """``raw`` if it is one of the citizen's pages on this site (no open redirect)."""
    if not raw or len(raw) > 500 or not raw.isprintable() or "\\" in raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.fragment or "//" in parts.path:
        return None
    segments = unquote(parts.path).split("/")
    if "." in segments or ".." in segments or not parts.path.startswith(NEXT_PREFIXES):
        return None
    return raw


class DevSignIn:
    def __init__(self, runtime: Runtime, pages: InquiryPages) -> None:
        self.runtime = runtime
        self.pages = pages
        self.tokens = Sessions(runtime)

    def _form(
        self,
        request: Request,
        locale: Locale,
        *,
        next_path: str | None,
        error: str | None = None,
        status: int = 200,
        verdict: Verdict | None = None,
    ) -> Response:
        """The form; with a ``verdict`` that locks, the throttle's 429 saying when to retry."""
        token = self.tokens.sign_in_token(request)
        locked = verdict is not None and not verdict.allowed
        response = self.pages.render(
            "dev_sign_in.html",
            locale,
            status=status,
            token=token,
            next_path=next_path or "",
            error=error,
            wait=wait_text(verdict, locale.lang) if verdict is not None and locked else None,
        )
        self.tokens.give_sign_in_token(response, token)
        return too_many(response, verdict) if verdict is not None and locked else response

    async def show(self, request: Request, locale: Locale) -> Response:
        return self._form(request, locale, next_path=safe_next(request.query_params.get("next")))

    async def submit(self, request: Request, locale: Locale) -> Response:
        try:
            form = await read_form(request)
        except FormTooLarge:
            return self.pages.message(locale, "form_invalid", 403)
        next_path = safe_next(field(form, "next", limit=500))
        if not self.tokens.sign_in_token_ok(request, field(form, "token")):
            return self._form(
                request,
                locale,
                next_path=next_path,
                error=locale.text["sign_in_expired"],
                status=403,
            )
        address = address_keys(self.runtime, request)
        try:
            code = NationalCode.parse(field(form, "national_code", limit=64))
        except InvalidValue as exc:
            return await self._invalid(request, locale, next_path, exc, address)
        keys = [national_code_key(self.runtime, code), *address]
        now = self.runtime.clock.now()
        verdict = await self.runtime.throttle.check(keys, now, REASON)
        if not verdict.allowed:
            return self._form(request, locale, next_path=next_path, verdict=verdict)
        await self.runtime.throttle.succeed(keys[:1])
        sessions = self.pages.sessions
        session_id = await sessions.open(
            code, method=METHOD, replacing=request.cookies.get(sessions.cookie, "")
        )
        response = redirect(next_path or f"{prefix(locale)}{ME_PATH}")
        sessions.start(response, session_id)
        return response

    async def _invalid(
        self,
        request: Request,
        locale: Locale,
        next_path: str | None,
        exc: InvalidValue,
        address: list[ThrottleKey],
    ) -> Response:
        """A code that is not valid: a failure of the address (unless it is locked already)."""
        throttle, now = self.runtime.throttle, self.runtime.clock.now()
        verdict = await throttle.check(address, now, REASON)
        if not verdict.allowed:
            return self._form(request, locale, next_path=next_path, verdict=verdict)
        verdict = await throttle.fail(address, now, REASON)
        error = exc.message(locale.lang)
        return self._form(
            request, locale, next_path=next_path, error=error, status=422, verdict=verdict
        )


def routes(runtime: Runtime, pages: InquiryPages) -> list[BaseRoute]:
    if not runtime.settings.is_development:
        return []
    sign_in = DevSignIn(runtime, pages)
    found: list[BaseRoute] = []
    for base in (FA, EN):
        locale = citizen_locale(base, "/dev/sign-in")
        path = f"{prefix(locale)}/dev/sign-in"

        async def show(request: Request, locale: Locale = locale) -> Response:
            return await sign_in.show(request, locale)

        async def submit(request: Request, locale: Locale = locale) -> Response:
            return await sign_in.submit(request, locale)

        found += [
            route(path, show, access=Access.DEVELOPMENT),
            route(path, submit, access=Access.DEVELOPMENT, methods=("POST",)),
        ]
    return found
