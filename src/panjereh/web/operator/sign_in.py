"""Signing in and out of the operator area.

A failed sign-in shows one message whether the user name is unknown, the password wrong or the
account suspended (`users_repo.verify_password` takes the same time in each case), so the page
tells nobody which user names exist.  The throttle's refusal (429 with ``Retry-After``) says
only when to try again, and unknown user names are counted and locked like known ones.

With TOTP on, the right password leads to the second step (``/sign-in/code``): the code of the
authenticator app or a recovery code, throttled like the password.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from panjereh.domain.throttle import Verdict
from panjereh.web.operator.area import Area, Endpoint
from panjereh.web.operator.auth import (
    MAX_PASSWORD,
    MAX_USERNAME,
    Expired,
    Failed,
    NeedsCode,
    SignedIn,
)
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
    verdict: Verdict | None = None,
    step: str = "/sign-in",
) -> Response:
    """The sign-in form (or the code form of the second ``step``); with a ``verdict`` that
    locks, the throttle's 429 saying when to try again."""
    token = area.sessions.sign_in_token(request)
    locked = verdict is not None and not verdict.allowed
    response = area.pages.render(
        request,
        "sign_in_code.html" if step == "/sign-in/code" else "sign_in.html",
        locale,
        None,
        http_status=status,
        token=token,
        next_path=next_path or "",
        error=error,
        username=username,
        wait=wait_text(verdict, locale.lang) if verdict is not None and locked else None,
        other_url=locale.switch(locale.url(step)),
    )
    area.sessions.give_sign_in_token(response, token)
    return too_many(response, verdict) if verdict is not None and locked else response


def _signed_in(
    area: Area, locale: OperatorLocale, outcome: SignedIn, next_path: str | None
) -> Response:
    """Into the area (to enrolment first when TOTP is required and missing)."""
    target = locale.url("/security") if outcome.must_enrol else next_path or locale.url("/")
    response = redirect(target)
    area.sessions.start_session(response, outcome.session_id)
    return response


def form(area: Area, locale: OperatorLocale) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        next_path = safe_local_path(request.query_params.get("next"))
        if await area.sessions.viewer(request) is not None:
            return redirect(next_path or locale.url("/"))
        return _page(area, request, locale, next_path=next_path)

    return endpoint


async def _signed_form(
    area: Area, request: Request, locale: OperatorLocale
) -> tuple[FormData, str | None] | Response:
    """A sign-in step's form and where to go after, or the page refusing it (too large, or
    its signed token stale or forged)."""
    try:
        data = await read_form(request)
    except FormTooLarge:
        return area.pages.error(request, locale, None, 403)
    next_path = safe_local_path(field(data, "next", limit=500))
    if not area.sessions.sign_in_token_ok(request, field(data, "token")):
        return _page(
            area, request, locale, next_path=next_path, error="sign_in_expired", status=403
        )
    return data, next_path


def submit(area: Area, locale: OperatorLocale) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        read = await _signed_form(area, request, locale)
        if isinstance(read, Response):
            return read
        data, next_path = read
        username = field(data, "username", limit=MAX_USERNAME)
        outcome = await area.sessions.sign_in(
            username,
            field(data, "password", limit=MAX_PASSWORD),
            replacing=request.cookies.get(area.sessions.session_cookie, ""),
            address=address_keys(area.runtime, request),
        )
        if isinstance(outcome, NeedsCode):
            query = f"?{urlencode({'next': next_path})}" if next_path else ""
            response = redirect(locale.url("/sign-in/code") + query)
            area.sessions.start_challenge(response, outcome.challenge)
            return response
        if isinstance(outcome, SignedIn):
            return _signed_in(area, locale, outcome, next_path)
        error = "sign_in_failed" if isinstance(outcome, Failed) else None
        return _page(
            area,
            request,
            locale,
            next_path=next_path,
            error=error,
            username=username,
            verdict=outcome.verdict,
        )

    return endpoint


def code_form(area: Area, locale: OperatorLocale) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        next_path = safe_local_path(request.query_params.get("next"))
        if not area.sessions.challenge_of(request):
            return redirect(locale.url("/sign-in"))
        return _page(area, request, locale, next_path=next_path, step="/sign-in/code")

    return endpoint


def code_submit(area: Area, locale: OperatorLocale) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        read = await _signed_form(area, request, locale)
        if isinstance(read, Response):
            return read
        data, next_path = read
        step = "/sign-in/code"
        outcome = await area.sessions.second_step(
            area.sessions.challenge_of(request),
            field(data, "code", limit=64),
            replacing=request.cookies.get(area.sessions.session_cookie, ""),
            address=address_keys(area.runtime, request),
        )
        if isinstance(outcome, Expired):
            return _page(area, request, locale, next_path=next_path, error="code_expired")
        if isinstance(outcome, SignedIn):
            return _signed_in(area, locale, outcome, next_path)
        error = "code_failed" if isinstance(outcome, Failed) else None
        return _page(
            area,
            request,
            locale,
            next_path=next_path,
            error=error,
            verdict=outcome.verdict,
            step=step,
        )

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
