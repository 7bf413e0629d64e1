"""People who manage the registry: accounts, argon2 passwords, API tokens, web sessions.

Passwords are argon2id hashes (argon2-cffi).  API tokens and session ids are 256-bit random
values stored only as SHA-256: unlike passwords they are not guessable, so a fast hash is the
right one (and is computed on every request).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.domain.errors import InvalidValue
from panjereh.domain.events import AuditEvent
from panjereh.registry.access import Conflict, NotFound, Principal, Role, require_operator
from panjereh.registry.model import Status, parse_code
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.tables import agencies, api_tokens, sign_in_challenges, users, web_sessions

TOKEN_PREFIX = "pnt_"  # noqa: S105 - a prefix, not a secret
_HASHER = PasswordHasher()
# Verifying against this keeps a sign-in with an unknown user name as slow as a real one.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    agency: str | None
    status: Status

    @property
    def principal(self) -> Principal:
        return Principal(actor=f"user:{self.username}", role=self.role, agency=self.agency)


def check_password_strength(password: str) -> str:
    if len(password) < 12 or len(set(password)) < 5:
        raise InvalidValue(
            "password.weak",
            message_en="A password has at least 12 characters and is not repetitive.",
            message_fa="گذرواژه باید دست‌کم ۱۲ نویسه داشته باشد و تکراری نباشد.",
            field="password",
        )
    return password


async def _user_row_to_user(conn: AsyncConnection, row: dict[str, object] | None) -> User | None:
    if row is None:
        return None
    agency = None
    if row["agency_id"] is not None:
        agency = await conn.scalar(select(agencies.c.code).where(agencies.c.id == row["agency_id"]))
    return User(
        id=int(str(row["id"])),
        username=str(row["username"]),
        display_name=str(row["display_name"]),
        role=Role(str(row["role"])),
        agency=agency,
        status=Status(str(row["status"])),
    )


async def get_user(conn: AsyncConnection, username: str) -> User | None:
    row = (await conn.execute(select(users).where(users.c.username == username))).mappings().first()
    return await _user_row_to_user(conn, dict(row) if row else None)


async def user_by_id(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).mappings().first()
    return await _user_row_to_user(conn, dict(row) if row else None)


async def create_user(
    conn: AsyncConnection,
    by: Principal,
    *,
    username: str,
    display_name: str,
    role: Role,
    agency: str | None,
    password: str,
    reason: str,
    now: datetime,
) -> User:
    require_operator(by)
    parse_code(username.replace("@", "-").replace(".", "-").replace("_", "-"), "username")
    check_password_strength(password)
    if (role is Role.AGENCY_ADMIN) != (agency is not None):
        raise InvalidValue(
            "user.agency",
            message_en="An agency-admin belongs to exactly one agency; other roles to none.",
            message_fa="مدیر دستگاه باید به یک دستگاه تعلق داشته باشد و نقش‌های دیگر به هیچ‌کدام.",
            field="agency",
        )
    agency_id = None
    if agency is not None:
        agency_id = await conn.scalar(select(agencies.c.id).where(agencies.c.code == agency))
        if agency_id is None:
            raise NotFound("no agency")
    if await get_user(conn, username) is not None:
        raise Conflict("this user name is taken")
    await conn.execute(
        insert(users).values(
            username=username,
            display_name=display_name,
            role=role.value,
            agency_id=agency_id,
            password_hash=_HASHER.hash(password),
            status=Status.ACTIVE.value,
            created_at=now,
        )
    )
    after = {
        "username": username,
        "display_name": display_name,
        "role": role.value,
        "agency": agency,
    }
    await ConnectionAuditSink(conn).emit(
        AuditEvent(now, by.actor, "user.create", "user", username, reason, None, after)
    )
    created = await get_user(conn, username)
    assert created is not None  # noqa: S101 - just inserted
    return created


async def verify_password(
    conn: AsyncConnection, username: str, password: str, now: datetime
) -> User | None:
    """The user if the password is right and the account active; None otherwise (same time)."""
    row = (await conn.execute(select(users).where(users.c.username == username))).mappings().first()
    stored = str(row["password_hash"]) if row is not None else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row["status"] != Status.ACTIVE.value:
        return None
    await conn.execute(update(users).where(users.c.id == row["id"]).values(last_sign_in_at=now))
    return await _user_row_to_user(conn, dict(row))


async def issue_token(
    conn: AsyncConnection, user: User, *, label: str, lifetime: timedelta, now: datetime
) -> str:
    """A bearer token for the management API, bound to the user's role and agency."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await conn.execute(
        insert(api_tokens).values(
            user_id=user.id,
            token_hash=_sha256(token),
            prefix=token[:10],
            label=label,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    await ConnectionAuditSink(conn).emit(
        AuditEvent(
            now,
            user.principal.actor,
            "api-token.issue",
            "user",
            user.username,
            label,
            None,
            {"prefix": token[:10], "expires_at": (now + lifetime).isoformat()},
        )
    )
    return token


async def user_for_token(conn: AsyncConnection, token: str, now: datetime) -> User | None:
    row = (
        (await conn.execute(select(api_tokens).where(api_tokens.c.token_hash == _sha256(token))))
        .mappings()
        .first()
    )
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now:
        return None
    user = await user_by_id(conn, int(row["user_id"]))
    if user is None or user.status is not Status.ACTIVE:
        return None
    return user


# Web sessions ---------------------------------------------------------------------------------


async def open_session(
    conn: AsyncConnection, user: User, *, lifetime: timedelta, now: datetime
) -> tuple[str, str]:
    """Returns (session id for the cookie, CSRF token for forms)."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    await conn.execute(
        insert(web_sessions).values(
            id_hash=_sha256(session_id),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return session_id, csrf


async def session_user(
    conn: AsyncConnection, session_id: str, now: datetime
) -> tuple[User, str] | None:
    row = (
        (
            await conn.execute(
                select(web_sessions).where(web_sessions.c.id_hash == _sha256(session_id))
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["expires_at"] <= now:
        return None
    user = await user_by_id(conn, int(row["user_id"]))
    if user is None or user.status is not Status.ACTIVE:
        return None
    return user, str(row["csrf_token"])


async def close_session(conn: AsyncConnection, session_id: str) -> None:
    await conn.execute(web_sessions.delete().where(web_sessions.c.id_hash == _sha256(session_id)))


# A sign-in between its password and its code --------------------------------------------------


async def open_challenge(
    conn: AsyncConnection, user: User, *, lifetime: timedelta, now: datetime
) -> str:
    """The password was right and a code is due: a random id for a short-lived cookie."""
    challenge = secrets.token_urlsafe(32)
    await conn.execute(
        insert(sign_in_challenges).values(
            id_hash=_sha256(challenge), user_id=user.id, created_at=now, expires_at=now + lifetime
        )
    )
    return challenge


async def challenge_user(conn: AsyncConnection, challenge: str, now: datetime) -> User | None:
    """Whose sign-in ``challenge`` is, while it lasts and the account is active."""
    row = (
        await conn.execute(
            select(sign_in_challenges).where(sign_in_challenges.c.id_hash == _sha256(challenge))
        )
    ).first()
    if row is None or row.expires_at <= now:
        return None
    user = await user_by_id(conn, int(row.user_id))
    return user if user is not None and user.status is Status.ACTIVE else None


async def close_challenge(conn: AsyncConnection, challenge: str) -> None:
    await conn.execute(
        sign_in_challenges.delete().where(sign_in_challenges.c.id_hash == _sha256(challenge))
    )
