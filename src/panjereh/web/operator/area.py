"""What every page of the area goes through: the session, the CSRF check, the role, the
registry's refusals turned into friendly pages, the security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from panjereh.domain.errors import InvalidValue
from panjereh.registry.access import Conflict, Forbidden, NotFound
from panjereh.storage.registry_ops import RegistryOps, run_ops
from panjereh.web.echo import here
from panjereh.web.operator.auth import Sessions, Viewer
from panjereh.web.operator.forms import (
    FormTooLarge,
    field,
    read_form,
    safe_local_path,
    same_token,
)
from panjereh.web.operator.i18n import OperatorLocale
from panjereh.web.operator.pages import Pages, redirect, secured
from panjereh.web.policy import Access
from panjereh.web.purposes import RegisteredPurposes
from panjereh.web.runtime import Runtime

T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]
REFUSALS: tuple[tuple[type[Exception], int], ...] = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidValue, 422),
)


@dataclass(frozen=True, slots=True)
class Context:
    """One request of a signed-in person (its form already CSRF-checked)."""

    area: Area
    request: Request
    locale: OperatorLocale
    viewer: Viewer
    form: FormData

    def render(self, name: str, *, http_status: int = 200, **context: Any) -> Response:
        return self.area.pages.render(
            self.request, name, self.locale, self.viewer, http_status=http_status, **context
        )

    def query(self, name: str, *, limit: int = 200) -> str:
        value = self.request.query_params.get(name, "")
        return value if len(value) <= limit else ""

    def page_number(self) -> int:
        raw = self.query("page", limit=6)
        return int(raw) if raw.isascii() and raw.isdigit() else 1

    async def with_ops(self, reason: str, action: Callable[[RegistryOps], Awaitable[T]]) -> T:
        """Run ``action`` in one transaction; `RegistryOps` authorizes and audits it."""
        runtime = self.area.runtime

        def make(conn: AsyncConnection) -> RegistryOps:
            return RegistryOps(
                conn,
                self.viewer.principal,
                now=runtime.clock.now(),
                reason=reason,
                pepper=runtime.pepper,
                allow_private=runtime.settings.allow_private_endpoints,
                payload_key=runtime.payload_keys is not None,
            )

        return await run_ops(runtime.engine, make, action)


Handler = Callable[[Context], Awaitable[Response]]


class Area:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.pages = Pages(runtime.clock)
        self.sessions = Sessions(runtime)
        self.purposes = RegisteredPurposes(runtime)

    def signed_in(
        self, handler: Handler, locale: OperatorLocale, access: Access, *, enrolment: bool = False
    ) -> Endpoint:
        """The endpoint for ``handler``: signed-in people only (operators only for
        `Access.OPERATOR`), every POST with the session's CSRF token; a person who must turn
        TOTP on first reaches only the ``enrolment`` pages (others send them there)."""

        async def endpoint(request: Request) -> Response:
            viewer = await self.sessions.viewer(request)
            if viewer is None:
                return self._anonymous(request, locale)
            if viewer.must_enrol and not enrolment:
                if request.method in ("GET", "HEAD"):
                    return redirect(locale.url("/security"))
                return self.pages.error(request, locale, viewer, 403)
            form = await self._checked_form(request, viewer)
            if form is None or (access is Access.OPERATOR and not viewer.principal.is_operator):
                return self.pages.error(request, locale, viewer, 403)
            try:
                return secured(await handler(Context(self, request, locale, viewer, form)))
            except (NotFound, Forbidden, Conflict, InvalidValue) as exc:
                status = next(code for kind, code in REFUSALS if isinstance(exc, kind))
                # Only an InvalidValue's message is written for people (fa and en).
                detail = exc.message(locale.lang) if isinstance(exc, InvalidValue) else None
                back = safe_local_path(field(form, "back", limit=500))
                return self.pages.error(request, locale, viewer, status, detail=detail, back=back)

        return endpoint

    def _anonymous(self, request: Request, locale: OperatorLocale) -> Response:
        """A page asked for without a session: sign in first, then come back (GET only)."""
        if request.method not in ("GET", "HEAD"):
            return self.pages.error(request, locale, None, 403)
        return redirect(f"{locale.url('/sign-in')}?{urlencode({'next': here(request.url)})}")

    async def _checked_form(self, request: Request, viewer: Viewer) -> FormData | None:
        """The POSTed form if its CSRF token is the session's (an empty form for a GET)."""
        if request.method in ("GET", "HEAD"):
            return FormData()
        try:
            form = await read_form(request)
        except FormTooLarge:
            return None
        return form if same_token(field(form, "csrf"), viewer.csrf) else None
