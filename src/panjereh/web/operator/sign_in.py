"""Signing in and out of the operator area.

A failed sign-in shows one message whether the user name is unknown, the password wrong or the
account suspended (`users_repo.verify_password` takes the same time in each case), so the page
tells nobody which user names exist.  The throttle's refusal (429 with ``Retry-After``) says
only when to try again, and unknown user names are counted and locked like known ones.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from panjereh.web.operator.area import Area, Endpoint
from panjereh.web.operator.auth import MAX_PASSWORD, MAX_USERNAME, Failed, Refused
from panjereh.web.operator.forms import FormTooLarge, field, read_form, safe_local_path, same_token
from panjereh.web.operator.i18n import OperatorLocale
from panjereh.web.operator.pages import redirect
from panjereh.web.sign_in_throttle import address_keys, too_many, wait_text


def _page(
    area: Area,
    request: Request,
    locale: OperatorLocale,
    *,
    next_path: str | None,
    error: str | None = None,
    username: str = "",
    status: int = 200,
    wait: str | None = None,
) -> Response:
    token = area.sessions.sign_in_token(request)
    response = area.pages.render(
        request,
        "sign_in.html",
        locale,
        None,
        http_status=status,
        token=token,
        next_path=next_path or "",
        error=error,
        username=username,
        wait=wait,
        other_url=locale.switch(locale.url("/sign-in")),
    )
    area.sessions.give_sign_in_token(response, token)
    return response


def form(area: Area, locale: OperatorLocale) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        next_path = safe_local_path(request.query_params.get("next"))
        if await area.sessions.viewer(request) is not None:
            return redirect(next_path or locale.url("/"))
        return _page(area, request, locale, next_path=next_path)

    return endpoint


def submit(area: Area, locale: OperatorLocale) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            data = await read_form(request)
        except FormTooLarge:
            return area.pages.error(request, locale, None, 403)
        next_path = safe_local_path(field(data, "next", limit=500))
        if not area.sessions.sign_in_token_ok(request, field(data, "token")):
            return _page(
                area, request, locale, next_path=next_path, error="sign_in_expired", status=403
            )
        username = field(data, "username", limit=MAX_USERNAME)
        outcome = await area.sessions.sign_in(
            username,
            field(data, "password", limit=MAX_PASSWORD),
            replacing=request.cookies.get(area.sessions.session_cookie, ""),
            address=address_keys(area.runtime, request),
        )
        if isinstance(outcome, Failed | Refused):
            verdict = outcome.verdict
            page = _page(
                area,
                request,
                locale,
                next_path=next_path,
                error="sign_in_failed" if isinstance(outcome, Failed) else None,
                username=username,
                wait=None if verdict.allowed else wait_text(verdict, locale.lang),
            )
            return page if verdict.allowed else too_many(page, verdict)
        response = redirect(next_path or locale.url("/"))
        area.sessions.start_session(response, outcome.session_id)
        return response

    return endpoint


def sign_out(area: Area, locale: OperatorLocale) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        viewer = await area.sessions.viewer(request)
        if viewer is None:  # nothing to sign out of (the session has expired already)
            return redirect(locale.url("/sign-in"))
        try:
            data = await read_form(request)
        except FormTooLarge:
            return area.pages.error(request, locale, viewer, 403)
        if not same_token(field(data, "csrf"), viewer.csrf):
            return area.pages.error(request, locale, viewer, 403)
        await area.sessions.sign_out(request)
        response = redirect(locale.url("/sign-in"))
        area.sessions.end_session(response)
        return response

    return endpoint
