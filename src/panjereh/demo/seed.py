"""Seeding the demonstration government (`panjereh demo`, and so `make run`).

Development only. Idempotent: the second run changes nothing (the same document, the same
keys); a new public URL only moves the services' endpoints.  The demo API keys and passwords
are derived from this installation's pepper, so they can be printed every time without being
stored anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.demo.government import CREATED_AT, DEMO_CONSUMERS, build_government
from panjereh.interchange.registry_document import ApiKeyDoc, RegistryDocument
from panjereh.registry.access import Principal, Role
from panjereh.registry.credentials import derived_api_key, display_prefix, hash_api_key
from panjereh.registry.model import CALLABLE_STATUSES
from panjereh.storage.document_repo import ImportResult, import_document
from panjereh.storage.users_repo import create_user, get_user

DEMO_ACTOR = "demo"
REASON = "demonstration government (development only)"
# Demo accounts for the operator area: (user name, role, agency).
DEMO_USERS: tuple[tuple[str, Role, str | None], ...] = (
    ("operator", Role.OPERATOR, None),
    ("auditor", Role.AUDITOR, None),
    ("civil-registry-admin", Role.AGENCY_ADMIN, "civil-registry"),
    ("social-security-admin", Role.AGENCY_ADMIN, "social-security"),
)


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """A demo consumer system's key and what it may call."""

    system: str
    api_key: str
    granted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    password: str
    role: Role
    agency: str | None


@dataclass(frozen=True, slots=True)
class DemoSeed:
    credentials: list[DemoCredentials]
    users: list[DemoUser]
    result: ImportResult
    services: int  # registered, every status
    open_services: int  # open to inquiries (active or deprecated): what the portal counts


def demo_password(pepper: bytes, username: str) -> str:
    digest = hmac.new(pepper, f"demo-password:{username}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def with_demo_keys(document: RegistryDocument, pepper: bytes) -> RegistryDocument:
    systems = []
    for system in document.systems:
        if system.ref in DEMO_CONSUMERS:
            key = derived_api_key(pepper, system.ref)
            record = ApiKeyDoc(
                prefix=display_prefix(key),
                key_hash=hash_api_key(pepper, key),
                label="demo",
                created_at=CREATED_AT,
            )
            system = system.model_copy(update={"api_keys": [record]})
        systems.append(system)
    return document.model_copy(update={"systems": systems})


async def seed_demo(
    engine: AsyncEngine,
    *,
    pepper: bytes,
    public_url: str,
    now: datetime,
    document: RegistryDocument | None = None,
) -> DemoSeed:
    """Seed ``document`` (default: the whole demonstration government) with the demo keys
    and accounts."""
    document = with_demo_keys(document or build_government(public_url), pepper)
    users = [
        DemoUser(name, demo_password(pepper, name), role, agency)
        for name, role, agency in DEMO_USERS
    ]
    async with engine.begin() as conn:
        result = await import_document(  # its endpoints are on this machine: development
            conn, document, actor=DEMO_ACTOR, reason=REASON, now=now, allow_private=True
        )
        root = Principal(DEMO_ACTOR, Role.OPERATOR)
        for user in users:
            if await get_user(conn, user.username) is None:
                await create_user(
                    conn,
                    root,
                    username=user.username,
                    display_name=user.username,
                    role=user.role,
                    agency=user.agency,
                    password=user.password,
                    reason=REASON,
                    now=now,
                )
    credentials = [
        DemoCredentials(
            system=ref,
            api_key=derived_api_key(pepper, ref),
            granted=tuple(
                sorted(
                    g.service for g in document.grants if g.consumer == ref and g.status == "active"
                )
            ),
        )
        for ref in DEMO_CONSUMERS
    ]
    open_services = sum(s.status in CALLABLE_STATUSES for s in document.services)
    return DemoSeed(credentials, users, result, len(document.services), open_services)
