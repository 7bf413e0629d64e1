"""Staff TOTP (RFC 6238, pyotp): enrolment, codes at sign-in, recovery codes, disabling.

- The secret (160 random bits, base32) is stored sealed with AES-256-GCM under a key derived
  from the installation's pepper (``PANJEREH_API_KEY_PEPPER``, never in the database), its
  associated data binding it to its user, so a database reader learns nothing and a secret
  copied to another user's row does not open.  It is shown once, while the enrolment is
  pending; it is never logged, printed or put in an event.
- A code is accepted for the current 30-second step or the one before or after (clock drift),
  and only for a step later than the last one used: the update that records the step is
  conditional (``last_step < step``), so a code cannot be used twice, not even by two workers
  at once.
- Ten recovery codes (about 50 random bits each) are made at enrolment, shown once and stored
  as HMAC-SHA256 under another key derived from the pepper; each works once.
- Every change and every wrong code is a registry event (``user.totp-*``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.domain.errors import PanjerehError
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.domain.text import ascii_digits
from panjereh.registry.access import Conflict, NotFound, Principal, require_operator
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.tables import staff_recovery_codes, staff_totp
from panjereh.storage.users_repo import User, get_user

ISSUER = "Panjereh"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
SEALED_PREFIX = "v1:"
NONCE_BYTES = 12
_CODE = re.compile(r"[0-9]{6}", re.ASCII)


class SealError(PanjerehError):
    """A stored TOTP secret does not open (another pepper, or a row copied between users)."""


class TotpKeys:
    """The two keys of staff TOTP, derived from the pepper."""

    def __init__(self, pepper: bytes) -> None:
        seal = hmac.new(pepper, b"panjereh staff totp secrets v1", hashlib.sha256).digest()
        self._aead = AESGCM(seal)
        self._codes = hmac.new(pepper, b"panjereh staff recovery codes v1", hashlib.sha256).digest()

    @staticmethod
    def _bound(user_id: int) -> bytes:
        return f"panjereh.totp/1\n{user_id}".encode()

    def seal(self, user_id: int, secret: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode("ascii"), self._bound(user_id))
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, user_id: int, stored: str) -> str:
        raw = base64.b64decode(stored.removeprefix(SEALED_PREFIX))
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._bound(user_id))
        except InvalidTag:
            raise SealError("the TOTP secret does not open with this pepper") from None
        return plain.decode("ascii")

    def code_hash(self, code: str) -> str:
        return hmac.new(self._codes, normal_recovery(code).encode(), hashlib.sha256).hexdigest()


def normal_recovery(code: str) -> str:
    return "".join(ch for ch in ascii_digits(code).lower() if ch.isalnum())


def new_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime, after: int) -> int | None:
    """The 30-second step (now, one before or after) whose code is ``code``, later than
    ``after``; None otherwise.  Persian and Arabic-Indic digits and spaces are accepted."""
    code = ascii_digits(code).replace(" ", "")
    if _CODE.fullmatch(code) is None:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@dataclass(frozen=True, slots=True)
class TotpStatus:
    enrolled: bool
    since: datetime | None = None
    recovery_left: int = 0


def _event(
    at: datetime,
    actor: str,
    action: str,
    user: User,
    reason: str,
    after: Mapping[str, object] | None = None,
    outcome: EventOutcome = EventOutcome.SUCCEEDED,
) -> AuditEvent:
    return AuditEvent(at, actor, action, "user", user.username, reason, None, after, outcome)


async def totp_enrolled(conn: AsyncConnection, user_id: int) -> bool:
    """Whether ``user_id`` has two-step sign-in on (one indexed read, for every page)."""
    confirmed = await conn.scalar(
        select(staff_totp.c.confirmed_at).where(staff_totp.c.user_id == user_id)
    )
    return confirmed is not None


async def totp_status(conn: AsyncConnection, user_id: int) -> TotpStatus:
    row = (
        await conn.execute(select(staff_totp.c.confirmed_at).where(staff_totp.c.user_id == user_id))
    ).first()
    if row is None or row.confirmed_at is None:
        return TotpStatus(enrolled=False)
    left = await conn.scalar(
        select(func.count())
        .select_from(staff_recovery_codes)
        .where(staff_recovery_codes.c.user_id == user_id, staff_recovery_codes.c.used_at.is_(None))
    )
    return TotpStatus(enrolled=True, since=row.confirmed_at, recovery_left=int(left or 0))


async def begin_enrolment(conn: AsyncConnection, user: User, keys: TotpKeys, now: datetime) -> str:
    """A new pending secret for ``user`` (replacing a pending one); Conflict if enrolled."""
    if (await totp_status(conn, user.id)).enrolled:
        raise Conflict("two-step sign-in is on already")
    secret = pyotp.random_base32()
    await conn.execute(delete(staff_totp).where(staff_totp.c.user_id == user.id))
    await conn.execute(
        insert(staff_totp).values(
            user_id=user.id, secret=keys.seal(user.id, secret), created_at=now, last_step=0
        )
    )
    return secret


async def pending_secret(conn: AsyncConnection, user: User, keys: TotpKeys) -> str | None:
    """The secret of ``user``'s pending enrolment (to show it again with a wrong code)."""
    row = (
        await conn.execute(
            select(staff_totp.c.secret).where(
                staff_totp.c.user_id == user.id, staff_totp.c.confirmed_at.is_(None)
            )
        )
    ).first()
    return None if row is None else keys.open(user.id, row.secret)


async def confirm_enrolment(
    conn: AsyncConnection, user: User, keys: TotpKeys, code: str, now: datetime
) -> list[str] | None:
    """Turn the pending enrolment on with its first code: the ten recovery codes (shown once),
    or None for a wrong code (a refused event either way is recorded)."""
    secret = await pending_secret(conn, user, keys)
    step = None if secret is None else matching_step(secret, code, now, 0)
    sink = ConnectionAuditSink(conn)
    actor = user.principal.actor
    if step is None:
        await sink.emit(
            _event(now, actor, "user.totp-enrol", user, "wrong code", None, EventOutcome.REFUSED)
        )
        return None
    await conn.execute(
        update(staff_totp)
        .where(staff_totp.c.user_id == user.id)
        .values(confirmed_at=now, last_step=step)
    )
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    await conn.execute(
        delete(staff_recovery_codes).where(staff_recovery_codes.c.user_id == user.id)
    )
    await conn.execute(
        insert(staff_recovery_codes),
        [{"user_id": user.id, "code_hash": keys.code_hash(c), "created_at": now} for c in codes],
    )
    after = {"recovery_codes": RECOVERY_CODES}
    await sink.emit(_event(now, actor, "user.totp-enrol", user, "operator area", after))
    return codes


async def use_code(
    conn: AsyncConnection, user: User, keys: TotpKeys, code: str, now: datetime, actor: str
) -> str | None:
    """Spend a code of enrolled ``user``: ``totp`` or ``recovery-code`` when it was good (a
    recovery code's use is an event), None when not."""
    row = (
        await conn.execute(
            select(staff_totp).where(
                staff_totp.c.user_id == user.id, staff_totp.c.confirmed_at.is_not(None)
            )
        )
    ).first()
    if row is None:
        return None
    step = matching_step(keys.open(user.id, row.secret), code, now, row.last_step)
    if step is not None:
        used = await conn.execute(
            update(staff_totp)
            .where(staff_totp.c.user_id == user.id, staff_totp.c.last_step < step)
            .values(last_step=step)
        )
        return "totp" if used.rowcount == 1 else None
    return await _use_recovery(conn, user, keys, code, now, actor)


async def _use_recovery(
    conn: AsyncConnection, user: User, keys: TotpKeys, code: str, now: datetime, actor: str
) -> str | None:
    t = staff_recovery_codes.c
    used = await conn.execute(
        update(staff_recovery_codes)
        .where(t.user_id == user.id, t.code_hash == keys.code_hash(code), t.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        return None
    left = (await totp_status(conn, user.id)).recovery_left
    event = _event(now, actor, "user.totp-recovery-used", user, "recovery code", {"left": left})
    await ConnectionAuditSink(conn).emit(event)
    return "recovery-code"


async def record_wrong_code(conn: AsyncConnection, user: User, now: datetime, step: str) -> None:
    """A wrong code at ``step`` (``sign-in``, ``disable``) as a refused event."""
    actor = "anonymous" if step == "sign-in" else user.principal.actor
    action = "user.totp-verify" if step == "sign-in" else "user.totp-disable"
    await ConnectionAuditSink(conn).emit(
        _event(now, actor, action, user, f"wrong code ({step})", None, EventOutcome.REFUSED)
    )


async def _remove(conn: AsyncConnection, user: User) -> None:
    await conn.execute(
        delete(staff_recovery_codes).where(staff_recovery_codes.c.user_id == user.id)
    )
    await conn.execute(delete(staff_totp).where(staff_totp.c.user_id == user.id))


async def disable_totp(
    conn: AsyncConnection, user: User, keys: TotpKeys, code: str, now: datetime
) -> bool:
    """The user turns two-step sign-in off with a code of theirs (TOTP or recovery)."""
    if await use_code(conn, user, keys, code, now, user.principal.actor) is None:
        await record_wrong_code(conn, user, now, "disable")
        return False
    await _remove(conn, user)
    await ConnectionAuditSink(conn).emit(
        _event(now, user.principal.actor, "user.totp-disable", user, "operator area")
    )
    return True


async def reset_totp(
    conn: AsyncConnection, by: Principal, username: str, *, reason: str, now: datetime
) -> None:
    """An operator turns another user's two-step sign-in off (a lost phone), recorded."""
    require_operator(by)
    user = await get_user(conn, username)
    if user is None:
        raise NotFound("no such user")
    if not (await totp_status(conn, user.id)).enrolled:
        raise Conflict("two-step sign-in is not on for this user")
    await _remove(conn, user)
    await ConnectionAuditSink(conn).emit(_event(now, by.actor, "user.totp-reset", user, reason))
