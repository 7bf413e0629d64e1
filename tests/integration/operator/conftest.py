"""The operator area in-process: the API tests' small government and personas, each with its
own signed-in web session (a cookie jar per persona), on a clock the tests can move."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Settings, resolve_pepper
from panjereh.domain.clock import FixedClock
from panjereh.domain.events import AuditEvent
from panjereh.interchange.yaml_io import parse_document
from panjereh.registry.access import Principal, Role
from panjereh.storage.document_repo import import_document
from panjereh.storage.events_repo import events_for
from panjereh.storage.registry_ops import RegistryOps
from panjereh.storage.users_repo import create_user, open_session
from panjereh.web.app import PanjerehApp, create_app
from panjereh.web.operator.auth import SESSION_LIFETIME, Sessions
from tests.integration.api.conftest import NOW, PERSONAS, government
from tests.integration.seeded import Rows, once_per_backend

PASSWORD = "a long enough password"
BASE_URL = "http://panjereh.test"
OWNER_SYSTEM = "civil-registry/population-registry"
SERVICE = "civil-registry.person.v1"
ACTIVE_GRANT = ("social-security/benefits", SERVICE)  # the consumer persona's grant
PENDING_GRANT = ("welfare-organization/clients", SERVICE)  # asked for, not yet decided

# A fourth agency whose request waits for the provider's decision (its name is written with
# an Arabic kaf, as the import normalizes it).
WELFARE = """\
  - code: welfare-organization
    legal_id: "14001743080"
    name_fa: سازمان بهزيستی كشور
    name_en: State Welfare Organization
    kind: organization
systems:
"""
WELFARE_SYSTEM = """\
  - agency: welfare-organization
    code: clients
    name: Welfare clients
    roles: [consumer]
services:
"""
WELFARE_REQUEST = """\
  - consumer: welfare-organization/clients
    service: civil-registry.person.v1
    purposes: [benefit-eligibility]
    status: pending
    justification: Check applicants before a pension is paid
citizen_services:
"""
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def operator_government() -> str:
    text = government()
    text = text.replace("systems:\n", WELFARE, 1).replace("services:\n", WELFARE_SYSTEM, 1)
    return text.replace("citizen_services:\n", WELFARE_REQUEST, 1)


@dataclass
class OperatorArea:
    """The app, its clock, and one client per persona ("nobody" has no session)."""

    app: PanjerehApp
    engine: AsyncEngine
    clock: FixedClock
    transport: httpx.ASGITransport
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    key_prefix: str = ""  # the owner system's API key prefix (private to the owner)

    @property
    def sessions(self) -> Sessions:
        return Sessions(self.app.runtime)

    def client(self, persona: str = "nobody") -> httpx.AsyncClient:
        return self.clients[persona]

    async def get(
        self, persona: str, path: str, *, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        return await self.client(persona).get(path, params=params)

    async def post(
        self, persona: str, path: str, data: Mapping[str, str], *, csrf: str | None = None
    ) -> httpx.Response:
        """POST a form of the area with ``persona``'s CSRF token (or the one given)."""
        token = self.csrf.get(persona, "") if csrf is None else csrf
        form = {"csrf": token, **data} if token else dict(data)
        return await self.client(persona).post(path, data=form)

    async def events(self, object_type: str, object_id: str) -> list[AuditEvent]:
        async with self.engine.connect() as conn:
            return await events_for(conn, object_type, object_id)

    @asynccontextmanager
    async def registry(self) -> AsyncIterator[RegistryOps]:
        """The stored registry, read as an operator (to check what a page changed)."""
        async with self.engine.connect() as conn:
            yield RegistryOps(
                conn,
                Principal("test:check", Role.OPERATOR),
                now=self.clock.now(),
                reason="check",
                pepper=self.app.runtime.pepper,
                allow_private=True,
            )


async def sign_in_with_form(
    client: httpx.AsyncClient,
    username: str,
    password: str,
    *,
    prefix: str = "/operator",
    next_path: str | None = None,
) -> httpx.Response:
    """What a browser does: show the sign-in form (getting its token), then send it."""
    query = {"next": next_path} if next_path is not None else {}
    page = await client.get(f"{prefix}/sign-in", params=query)
    found = TOKEN.search(page.text)
    assert found is not None, page.text
    form = {"token": found.group(1), "username": username, "password": password}
    if next_path is not None:
        form["next"] = next_path
    return await client.post(f"{prefix}/sign-in", data=form)


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found is not None, page.text
    return found.group(1)


_PREPARED: dict[str, tuple[Rows, tuple[str, dict[str, tuple[str, str]]]]] = {}


async def _government_and_people(
    engine: AsyncEngine, pepper: bytes
) -> tuple[str, dict[str, tuple[str, str]]]:
    """The operator government, an API key of the owner's system, and a user with a session
    per persona: (the key's prefix, persona -> (session id, CSRF token))."""
    document = parse_document(operator_government(), allow_private=False)
    root = Principal("test:setup", Role.OPERATOR)
    sessions: dict[str, tuple[str, str]] = {}
    async with engine.begin() as conn:
        await import_document(conn, document, actor="test", reason="fixture", now=NOW)
        ops = RegistryOps(conn, root, now=NOW, reason="fixture", pepper=pepper, allow_private=False)
        _key, record = await ops.issue_api_key(OWNER_SYSTEM, label="main")
        for name, (role, agency) in PERSONAS.items():
            user = await create_user(
                conn,
                root,
                username=name,
                display_name=name.title(),
                role=role,
                agency=agency,
                password=PASSWORD,
                reason="fixture",
                now=NOW,
            )
            sessions[name] = await open_session(conn, user, lifetime=SESSION_LIFETIME, now=NOW)
    return record.prefix, sessions


@pytest.fixture
async def area(engine: AsyncEngine, dev_settings: Settings) -> AsyncIterator[OperatorArea]:
    """The area over its government and personas, made once per backend and copied (the
    owner's key, of which only the prefix is kept, hashed with the first test's pepper)."""
    clock = FixedClock(NOW)
    pepper = resolve_pepper(dev_settings)
    prefix, sessions = await once_per_backend(
        _PREPARED, engine, lambda: _government_and_people(engine, pepper)
    )
    app = create_app(dev_settings, clock=clock)
    await app.runtime.start()
    transport = httpx.ASGITransport(app=app)
    found = OperatorArea(app, engine, clock, transport, key_prefix=prefix)
    cookie = found.sessions.session_cookie
    try:
        found.clients["nobody"] = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        for name, (session_id, csrf) in sessions.items():
            found.clients[name] = httpx.AsyncClient(
                transport=transport, base_url=BASE_URL, cookies={cookie: session_id}
            )
            found.csrf[name] = csrf
        yield found
    finally:
        for client in found.clients.values():
            await client.aclose()
        await app.runtime.stop()


def later(area: OperatorArea, delta: timedelta) -> None:
    """Move the area's clock forward."""
    area.clock.advance(delta.total_seconds())
