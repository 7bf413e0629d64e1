"""Web sessions of the operator area: sign-in, the session cookie, CSRF tokens, sign-out.

The session cookie holds a random id (the database keeps only its SHA-256, `users_repo`), is
``HttpOnly``, ``SameSite=Lax``, ``Secure`` and ``__Host-`` prefixed when the public URL is
https, and lives 8 hours.  Each session has its own CSRF token, sent back in every form.

Before sign-in there is no session, so the sign-in form is protected by a signed double-submit
token: the same value in a short-lived cookie and in a hidden field, HMAC-signed with a key
derived from the installation's pepper (so a value planted from elsewhere does not verify).

Every attempt goes through the platform's sign-in throttle (`panjereh.domain.throttle`), keyed
by the account name as typed and the client's address: a locked key is refused before the
password is looked at; a wrong password counts on both; a right one forgets the account's
failures (never the address's: an attacker holding one account must not wipe the count of the
address they guess other accounts from).

A staff member with TOTP on (`panjereh.storage.totp_repo`) gets no session for the password:
a short-lived challenge (its own cookie, the database keeping only its SHA-256) waits for the
code, which is throttled like the password.  With ``PANJEREH_STAFF_TOTP_REQUIRED`` a person
without TOTP gets a session that the area restricts to enrolment (`Viewer.must_enrol`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.domain.throttle import ThrottleKey, Verdict, account_key
from panjereh.registry.access import Principal
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.totp_repo import TotpKeys, record_wrong_code, totp_enrolled, use_code
from panjereh.storage.users_repo import (
    User,
    challenge_user,
    close_challenge,
    close_session,
    open_challenge,
    open_session,
    session_user,
    verify_password,
)
from panjereh.web.operator import queries
from panjereh.web.operator.forms import same_token
from panjereh.web.runtime import Runtime

SESSION_LIFETIME = timedelta(hours=8)
CHALLENGE_LIFETIME = timedelta(minutes=5)  # from the right password to its code
SIGN_IN_TOKEN_AGE = timedelta(hours=1)
SIGN_IN_TOKEN_REUSE = timedelta(minutes=30)  # an older token is replaced when the form is shown
MAX_USERNAME = 120
MAX_PASSWORD = 1024  # argon2 hashes anything, but nobody types more
SIGN_IN_REASON = "operator area sign-in"


@dataclass(frozen=True, slots=True)
class SignedIn:
    session_id: str
    must_enrol: bool = False  # TOTP is required and this person has none yet


@dataclass(frozen=True, slots=True)
class NeedsCode:
    """The password was right; ``challenge`` waits for the TOTP or recovery code."""

    challenge: str


@dataclass(frozen=True, slots=True)
class Expired:
    """The second step came without a live challenge: start again."""


@dataclass(frozen=True, slots=True)
class Failed:
    """A wrong user name or password; ``verdict`` says whether the keys are now locked."""

    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Refused:
    """The throttle refused the attempt before the password was looked at."""

    verdict: Verdict


SignInOutcome = SignedIn | NeedsCode | Failed | Refused


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person looking at a page."""

    user: User
    csrf: str
    agency_fa: str | None = None
    agency_en: str | None = None
    two_step: bool = False  # TOTP is on for this person
    must_enrol: bool = False  # TOTP is required and not on: only enrolment is open

    @property
    def principal(self) -> Principal:
        return self.user.principal

    def agency_name(self, lang: str) -> str | None:
        return self.agency_en if lang == "en" else self.agency_fa


class Sessions:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.secure = runtime.settings.effective_public_url.startswith("https://")
        prefix = "__Host-" if self.secure else ""
        self.session_cookie = f"{prefix}panjereh-operator"
        self.sign_in_cookie = f"{prefix}panjereh-sign-in"
        self.challenge_cookie = f"{prefix}panjereh-sign-in-step"
        self.totp_keys = TotpKeys(runtime.pepper)
        self.totp_required = runtime.settings.staff_totp_required
        self._key = hmac.new(runtime.pepper, b"operator-area sign-in form", hashlib.sha256).digest()

    # The signed-in person ---------------------------------------------------------------------

    async def viewer(self, request: Request) -> Viewer | None:
        session_id = request.cookies.get(self.session_cookie, "")
        if not session_id or len(session_id) > 100:
            return None
        async with self.runtime.engine.connect() as conn:
            found = await session_user(conn, session_id, self.runtime.clock.now())
            if found is None:
                return None
            user, csrf = found
            names = await queries.agency_name(conn, user.agency) if user.agency else None
            enrolled = await totp_enrolled(conn, user.id)
        agency_fa, agency_en = names or (None, None)
        must_enrol = self.totp_required and not enrolled
        return Viewer(user, csrf, agency_fa, agency_en, enrolled, must_enrol)

    async def sign_in(
        self,
        username: str,
        password: str,
        *,
        replacing: str,
        address: Sequence[ThrottleKey] = (),
    ) -> SignInOutcome:
        """Sign in with a password, throttled by the account and the ``address`` keys; every
        password checked becomes a registry event."""
        now = self.runtime.clock.now()
        username = username.strip()[:MAX_USERNAME]
        account = account_key(username)
        keys = [account, *address]
        throttle = self.runtime.throttle
        verdict = await throttle.check(keys, now, SIGN_IN_REASON)
        if not verdict.allowed:
            return Refused(verdict)
        async with self.runtime.engine.begin() as conn:
            user = None
            if username and password and len(password) <= MAX_PASSWORD:
                user = await verify_password(conn, username, password, now)
            if user is None:
                await ConnectionAuditSink(conn).emit(_sign_in_event(now, username, None))
            elif await totp_enrolled(conn, user.id):
                return NeedsCode(
                    await open_challenge(conn, user, lifetime=CHALLENGE_LIFETIME, now=now)
                )
            else:
                outcome = await self._open(conn, user, replacing, now, None)
        if user is None:
            return Failed(await throttle.fail(keys, now, SIGN_IN_REASON))
        await throttle.succeed([account])
        return outcome

    async def _open(
        self, conn: AsyncConnection, user: User, replacing: str, now: datetime, factor: str | None
    ) -> SignedIn:
        """The session of a complete sign-in (and its event)."""
        await ConnectionAuditSink(conn).emit(_sign_in_event(now, user.username, user, factor))
        if replacing:  # never carry a session id over a sign-in
            await close_session(conn, replacing)
        session_id, _csrf = await open_session(conn, user, lifetime=SESSION_LIFETIME, now=now)
        return SignedIn(session_id, must_enrol=self.totp_required and factor is None)

    async def second_step(
        self,
        challenge: str,
        code: str,
        *,
        replacing: str,
        address: Sequence[ThrottleKey] = (),
    ) -> SignedIn | Failed | Refused | Expired:
        """The code after the password: throttled like it, by the account and the address."""
        now = self.runtime.clock.now()
        async with self.runtime.engine.connect() as conn:
            user = await challenge_user(conn, challenge, now) if challenge else None
        if user is None:
            return Expired()
        account = account_key(user.username)
        keys = [account, *address]
        verdict = await self.runtime.throttle.check(keys, now, SIGN_IN_REASON)
        if not verdict.allowed:
            return Refused(verdict)
        async with self.runtime.engine.begin() as conn:
            factor = await use_code(
                conn, user, self.totp_keys, code[:64], now, user.principal.actor
            )
            if factor is None:
                await record_wrong_code(conn, user, now, "sign-in")
            else:
                await close_challenge(conn, challenge)
                outcome = await self._open(conn, user, replacing, now, factor)
        if factor is None:
            return Failed(await self.runtime.throttle.fail(keys, now, SIGN_IN_REASON))
        await self.runtime.throttle.succeed([account])
        return outcome

    async def sign_out(self, request: Request) -> None:
        """End the session; a session that was open becomes a registry event."""
        session_id = request.cookies.get(self.session_cookie, "")
        if session_id and len(session_id) <= 100:
            now = self.runtime.clock.now()
            async with self.runtime.engine.begin() as conn:
                found = await session_user(conn, session_id, now)
                await close_session(conn, session_id)
                if found is not None:
                    user = found[0]
                    await ConnectionAuditSink(conn).emit(
                        AuditEvent(
                            now,
                            user.principal.actor,
                            "user.sign-out",
                            "user",
                            user.username,
                            "operator area sign-out",
                            None,
                            None,
                        )
                    )

    def start_session(self, response: Response, session_id: str) -> None:
        response.set_cookie(
            self.session_cookie,
            session_id,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )
        response.delete_cookie(self.sign_in_cookie, path="/", secure=self.secure, httponly=True)
        response.delete_cookie(self.challenge_cookie, path="/", secure=self.secure, httponly=True)

    def start_challenge(self, response: Response, challenge: str) -> None:
        response.set_cookie(
            self.challenge_cookie,
            challenge,
            max_age=int(CHALLENGE_LIFETIME.total_seconds()),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def challenge_of(self, request: Request) -> str:
        value = request.cookies.get(self.challenge_cookie, "")
        return value if len(value) <= 100 else ""

    def end_session(self, response: Response) -> None:
        response.delete_cookie(
            self.session_cookie, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    # The sign-in form's token -----------------------------------------------------------------

    def _signature(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).hexdigest()

    def _issued_at(self, token: str) -> datetime | None:
        """When a well-signed token was made; None for anything else."""
        issued, _, rest = token.partition(".")
        nonce, _, signature = rest.partition(".")
        if not (issued.isascii() and issued.isdigit() and 0 < len(issued) <= 12):
            return None
        if not nonce or not signature or len(token) > 200:
            return None
        if not same_token(signature, self._signature(f"{issued}.{nonce}")):
            return None
        return datetime.fromtimestamp(int(issued), tz=UTC)

    def _age(self, token: str) -> timedelta | None:
        issued = self._issued_at(token)
        if issued is None:
            return None
        age = self.runtime.clock.now() - issued
        return age if timedelta(minutes=-5) <= age <= SIGN_IN_TOKEN_AGE else None

    def sign_in_token(self, request: Request) -> str:
        """The token for a sign-in form: the cookie's own while young, else a new one."""
        current = request.cookies.get(self.sign_in_cookie, "")
        age = self._age(current) if current else None
        if age is not None and age <= SIGN_IN_TOKEN_REUSE:
            return current
        payload = f"{int(self.runtime.clock.now().timestamp())}.{secrets.token_urlsafe(16)}"
        return f"{payload}.{self._signature(payload)}"

    def give_sign_in_token(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.sign_in_cookie,
            token,
            max_age=int(SIGN_IN_TOKEN_AGE.total_seconds()),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def sign_in_token_ok(self, request: Request, submitted: str) -> bool:
        cookie = request.cookies.get(self.sign_in_cookie, "")
        return same_token(submitted, cookie) and self._age(cookie) is not None


def _sign_in_event(
    now: datetime, username: str, user: User | None, factor: str | None = None
) -> AuditEvent:
    if user is None:
        return AuditEvent(
            now,
            "anonymous",
            "user.sign-in",
            "user",
            username or "-",
            "operator area sign-in",
            None,
            None,
            EventOutcome.REFUSED,
        )
    return AuditEvent(
        now,
        user.principal.actor,
        "user.sign-in",
        "user",
        user.username,
        "operator area sign-in",
        None,
        {"role": user.role.value, "agency": user.agency}
        | ({"second_factor": factor} if factor else {}),
    )
