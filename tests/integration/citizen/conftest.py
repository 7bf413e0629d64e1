"""The citizen view in-process: the operator area's government plus a confidential grant,
audit records about two citizens, a citizen signed in through the development sign-in, and
the operator area's personas (each with its own web session)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit.records import AuditRecord, Outcome
from panjereh.config import Settings
from panjereh.domain.clock import FixedClock
from panjereh.domain.identifiers import national_code_check_digit
from panjereh.domain.text import persian_digits
from panjereh.interchange.yaml_io import parse_document
from panjereh.registry.access import Principal, Role
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.document_repo import import_document
from panjereh.storage.tables import audit_withholdings
from panjereh.storage.users_repo import create_user, issue_token, open_session
from panjereh.web.app import PanjerehApp, create_app
from panjereh.web.citizen.sessions import CitizenSessions
from panjereh.web.operator.auth import SESSION_LIFETIME, Sessions
from tests.integration.api.conftest import PERSONAS
from tests.integration.operator.conftest import BASE_URL, PASSWORD, operator_government
from tests.integration.seeded import Rows, once_per_backend

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 1405/09/11 12:30 in Tehran
DISCLOSURE = date(2027, 3, 21)
CITIZEN = "001354241" + national_code_check_digit("001354241")
OTHER = "123456789" + national_code_check_digit("123456789")
SERVICE = "civil-registry.person.v1"
VISIBLE = "social-security/benefits"
SECRET = "science-ministry/degrees"  # its grant on the service is confidential
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

CONFIDENTIAL_GRANT = f"""\
  - consumer: {SECRET}
    service: {SERVICE}
    purposes: [benefit-eligibility]
    confidential: true
    disclosure_date: {DISCLOSURE.isoformat()}
    justification: An investigation
citizen_services:
"""


def citizen_government() -> str:
    return operator_government().replace("citizen_services:\n", CONFIDENTIAL_GRANT, 1)


def exchange_id(n: int) -> str:
    return f"0190f3c2-4444-7000-8000-{n:012d}"


def record(
    n: int, subject_hash: str, *, consumer: str | None = VISIBLE, **changes: object
) -> AuditRecord:
    base = AuditRecord(
        exchange_id=exchange_id(n),
        created_at=NOW - timedelta(minutes=n),  # record 1 is the newest
        consumer=consumer,
        service_id=SERVICE,
        purpose="benefit-eligibility",
        subject_hash=subject_hash,
        outcome=Outcome.OK,
        status_code=200,
        error_type=None,
        duration_ms=3.0,
        request_hash="cd" * 32,
        response_hash="ef" * 32,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@dataclass
class CitizenWorld:
    app: PanjerehApp
    engine: AsyncEngine
    clock: FixedClock
    transport: httpx.ASGITransport
    citizen: httpx.AsyncClient  # signed in as CITIZEN through the development sign-in
    csrf: str  # the citizen session's CSRF token
    hash: str  # the citizen's subject hash
    other_hash: str
    operators: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    operator_csrf: dict[str, str] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # bearer tokens of the personas

    def bearer(self, persona: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[persona]}"}

    def client(self, **cookies: str) -> httpx.AsyncClient:
        made = httpx.AsyncClient(transport=self.transport, base_url=BASE_URL, cookies=cookies)
        self.clients.append(made)
        return made

    async def write(self, records: list[AuditRecord]) -> None:
        store = SqlAuditStore(self.engine)
        try:
            await store.append(records)
        finally:
            await store.close()

    async def withholdings(self) -> list[tuple[str, str, int, date | None]]:
        t = audit_withholdings.c
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(t.exchange_id, t.subject_hash, t.grant_id, t.disclosure_date).order_by(t.id)
            )
            return [(r[0], r[1], r[2], r[3]) for r in rows]


async def dev_sign_in(client: httpx.AsyncClient, code: str, *, prefix: str = "") -> httpx.Response:
    """What a browser does: fetch the form (and its token), send it."""
    page = await client.get(f"{prefix}/dev/sign-in")
    found = TOKEN.search(page.text)
    assert found is not None, page.text
    return await client.post(
        f"{prefix}/dev/sign-in", data={"token": found.group(1), "national_code": code}
    )


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, html
    return found.group(1)


People = tuple[dict[str, tuple[str, str]], dict[str, str]]
_PREPARED: dict[str, tuple[Rows, People]] = {}


async def _government_and_people(engine: AsyncEngine) -> People:
    """The citizen government and a user per persona: (persona -> (session id, CSRF
    token), persona -> bearer token)."""
    document = parse_document(citizen_government(), allow_private=False)
    root = Principal("test:setup", Role.OPERATOR)
    sessions: dict[str, tuple[str, str]] = {}
    tokens: dict[str, str] = {}
    async with engine.begin() as conn:
        await import_document(conn, document, actor="test", reason="fixture", now=NOW)
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
            tokens[name] = await issue_token(
                conn, user, label="test", lifetime=timedelta(days=3650), now=NOW
            )
    return sessions, tokens


@pytest.fixture
async def world(engine: AsyncEngine, dev_settings: Settings) -> AsyncIterator[CitizenWorld]:
    """The citizen window over its government and personas (made once per backend and
    copied), the citizen signed in."""
    sessions, tokens = await once_per_backend(
        _PREPARED, engine, lambda: _government_and_people(engine)
    )
    clock = FixedClock(NOW + timedelta(minutes=5))
    app = create_app(dev_settings, clock=clock)
    await app.runtime.start()
    transport = httpx.ASGITransport(app=app)
    keys = app.runtime.subject_keys
    citizen = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
    world = CitizenWorld(
        app, engine, clock, transport, citizen, "", keys.hash(CITIZEN), keys.hash(OTHER)
    )
    world.clients.append(citizen)
    world.tokens = dict(tokens)
    try:
        signed = await dev_sign_in(citizen, persian_digits(CITIZEN))
        assert signed.status_code == 303, signed.text
        world.csrf = csrf_of((await citizen.get("/me/inquiries")).text)
        cookie = Sessions(app.runtime).session_cookie
        for name, (session_id, csrf) in sessions.items():
            world.operators[name] = world.client(**{cookie: session_id})
            world.operator_csrf[name] = csrf
        yield world
    finally:
        for client in world.clients:
            await client.aclose()
        await app.runtime.stop()


@pytest.fixture
async def records(world: CitizenWorld) -> list[AuditRecord]:
    """The citizen's records: 1-3 and 6 visible, 4-5 withheld (confidential), 7 a refused
    call by nobody known; 8-9 about someone else."""
    made = [
        record(1, world.hash),
        record(2, world.hash, outcome=Outcome.NOT_FOUND, status_code=404),
        record(3, world.hash),
        record(4, world.hash, consumer=SECRET),
        record(5, world.hash, consumer=SECRET),
        record(6, world.hash, purpose="unknown-purpose"),
        record(7, world.hash, consumer=None, outcome=Outcome.DENIED, status_code=401),
        record(8, world.other_hash),
        record(9, world.other_hash, consumer=SECRET),
    ]
    await world.write(made)
    return made


def citizen_sessions(world: CitizenWorld) -> CitizenSessions:
    return CitizenSessions(world.app.runtime)
