"""Citizens' portal sessions.

A session is opened for a national code by whatever sign-in proved it (today only the
development sign-in, `panjereh.web.portal.dev_sign_in`; the portal's real sign-in replaces only
that step and calls `CitizenSessions.open` the same way).  The cookie holds a random id
(``HttpOnly``, ``SameSite=Lax``, ``Secure`` and ``__Host-`` prefixed on https, one hour); the
database keeps its SHA-256 and the citizen's subject hashes, never the national code.  Each
session has its own CSRF token: portal forms send it in a hidden field, API clients in the
``X-CSRF-Token`` header.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from panjereh.domain.events import AuditEvent
from panjereh.domain.identifiers import NationalCode
from panjereh.storage.citizen_repo import (
    CitizenSession,
    citizen_session,
    close_citizen_session,
    open_citizen_session,
)
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.web.operator.forms import same_token
from panjereh.web.runtime import Runtime

SESSION_LIFETIME = timedelta(hours=1)
CSRF_HEADER = "x-csrf-token"


class CitizenSessions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        public = runtime.settings.effective_public_url
        self.secure = public.startswith("https://")
        self.cookie = f"{'__Host-' if self.secure else ''}panjereh-citizen"
        parts = urlsplit(public)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    async def open(self, code: NationalCode, *, method: str, replacing: str = "") -> str:
        """A new session for the citizen ``code`` (proved by ``method``); its cookie value.
        The sign-in becomes a control-plane event (with the keyed hash, not the code)."""
        now = self.runtime.clock.now()
        hashes = self.runtime.subject_keys.lookup_hashes(code.value)
        async with self.runtime.engine.begin() as conn:
            if replacing:  # never carry a session id over a sign-in
                await close_citizen_session(conn, replacing)
            session_id, session = await open_citizen_session(
                conn, hashes, method=method, lifetime=SESSION_LIFETIME, now=now
            )
            await ConnectionAuditSink(conn).emit(_sign_in_event(now, session, method))
        return session_id

    async def current(self, request: Request) -> CitizenSession | None:
        session_id = request.cookies.get(self.cookie, "")
        if not session_id or len(session_id) > 100:
            return None
        async with self.runtime.engine.connect() as conn:
            return await citizen_session(conn, session_id, self.runtime.clock.now())

    async def close(self, request: Request) -> None:
        session_id = request.cookies.get(self.cookie, "")
        if session_id and len(session_id) <= 100:
            async with self.runtime.engine.begin() as conn:
                await close_citizen_session(conn, session_id)

    def start(self, response: Response, session_id: str) -> None:
        response.set_cookie(
            self.cookie,
            session_id,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def end(self, response: Response) -> None:
        response.delete_cookie(
            self.cookie, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    def same_origin(self, request: Request) -> bool:
        """False for a request a browser marks as coming from another site."""
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return False
        origin = request.headers.get("origin")
        if origin is None:
            return True
        own = f"{request.url.scheme}://{request.url.netloc}"
        return origin in (self.origin, own)

    def api_change_allowed(self, request: Request, session: CitizenSession) -> bool:
        """A change through the API: the session's CSRF token in ``X-CSRF-Token``, same
        origin (a cross-site page can neither read the token nor send the header)."""
        given = request.headers.get(CSRF_HEADER, "")
        return self.same_origin(request) and same_token(given, session.csrf)


def _sign_in_event(now: datetime, session: CitizenSession, method: str) -> AuditEvent:
    return AuditEvent(
        now,
        session.actor,
        "citizen.sign-in",
        "citizen",
        session.subject_hashes[0],
        f"portal sign-in ({method})",
        None,
        {"method": method, "expires_at": session.expires_at.isoformat()},
    )
