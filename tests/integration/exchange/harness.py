"""The platform on a real socket for the exchange's feature tests, seeded in milliseconds.

The database is a copy of the small demo government seeded once per session
(tests/integration/seeded.py, with a fixed pepper so that the demo API keys are the same every
time); the services' endpoints are rewritten to the test's own port before the app starts.

Also here: a capturing provider (a tiny HTTP server that records what the exchange sends it),
a consumer's request signer, and helpers that change the registry and wait until the running
exchange has picked the change up.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import SecretStr
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.audit.records import AuditRecord
from panjereh.config import Environment, Settings
from panjereh.domain.clock import Clock, utc_now
from panjereh.exchange.keys import _b64url, public_bytes
from panjereh.exchange.signatures import RequestSigner, ResponseVerifier, content_digest
from panjereh.simulator.population import Population
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import create_engine
from panjereh.storage.registry_repo import bump_version, registry_version
from panjereh.storage.tables import (
    agencies,
    audit_records,
    grants,
    services,
    signing_keys,
    systems,
)
from panjereh.web.app import PanjerehApp, create_app
from tests.integration.seeded import PEPPER, demo_api_key, point_services_at
from tests.integration.seeded import prepare_database as prepare_database
from tests.support import free_port, serving

PERSON_ID = "civil-registry.person.v1"
PERSON = f"/exchange/v1/services/{PERSON_ID}"
GRANTED = "social-security/benefits"  # holds a grant on civil-registry.person.v1
UNGRANTED = "science-ministry/degrees"  # known, holds no grant on it
SUSPENDED = "welfare-organization/rehabilitation"  # suspended in the demo government
PURPOSE = "benefit-eligibility"


@dataclass
class Platform:
    """The running platform, its database, and the demo consumers' API keys."""

    url: str
    app: PanjerehApp
    client: httpx.AsyncClient
    engine: AsyncEngine
    settings: Settings
    api_keys: Mapping[str, str]  # system ref -> the demo API key
    citizen: str  # a registered national code
    audit: SqlAuditStore = field(init=False)

    def __post_init__(self) -> None:
        self.audit = SqlAuditStore(self.engine)

    @property
    def authority(self) -> str:
        return self.url.removeprefix("http://")

    def headers(self, system: str = GRANTED, **extra: str) -> dict[str, str]:
        return {"Authorization": f"ApiKey {self.api_keys[system]}", "X-Purpose": PURPOSE} | extra

    async def ask(
        self,
        body: Mapping[str, Any] | None = None,
        *,
        system: str = GRANTED,
        request_id: str | None = None,
        purpose: str = PURPOSE,
    ) -> httpx.Response:
        """An inquiry on civil-registry.person.v1 with an API key (the citizen by default)."""
        content = orjson.dumps(body if body is not None else {"national_code": self.citizen})
        headers = self.headers(system) | {"content-type": "application/json", "X-Purpose": purpose}
        if request_id is not None:
            headers["X-Request-Id"] = request_id
        return await self.client.post(PERSON, content=content, headers=headers)

    async def record(self, response: httpx.Response) -> AuditRecord:
        """The audit record of an answer (it is committed before the answer leaves)."""
        found = await self.audit.by_exchange_id(response.headers["x-exchange-id"])
        assert found is not None, "no audit record for this answer"
        return found

    async def records_with_request_id(self, request_id: str) -> list[AuditRecord]:
        async with self.engine.connect() as conn:
            ids = (
                await conn.execute(
                    select(audit_records.c.exchange_id)
                    .where(audit_records.c.request_id == request_id)
                    .order_by(audit_records.c.id)
                )
            ).scalars()
            exchange_ids = list(ids)
        found = [await self.audit.by_exchange_id(e) for e in exchange_ids]
        return [r for r in found if r is not None]

    async def system_id(self, ref: str) -> int:
        agency, _, code = ref.partition("/")
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                select(systems.c.id)
                .join(agencies, agencies.c.id == systems.c.agency_id)
                .where(agencies.c.code == agency, systems.c.code == code)
            )
        assert found is not None, ref
        return int(found)

    @asynccontextmanager
    async def changing_registry(self) -> AsyncIterator[AsyncConnection]:
        """A registry change: committed with a version bump, then awaited in the snapshot."""
        async with self.engine.begin() as conn:
            yield conn
            await bump_version(conn, utc_now())
        target = await registry_version(self.engine)
        for _ in range(200):
            if self.app.runtime.registry.current.version == target:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the registry snapshot was not refreshed within 4 seconds")

    async def set_grant(self, consumer: str, service_id: str = PERSON_ID, **values: Any) -> None:
        system = await self.system_id(consumer)
        async with self.changing_registry() as conn:
            changed = await conn.execute(
                update(grants)
                .where(grants.c.consumer_system_id == system, grants.c.service_id == service_id)
                .values(**values)
            )
            assert changed.rowcount == 1, (consumer, service_id)

    async def set_service(self, service_id: str = PERSON_ID, **values: Any) -> None:
        async with self.changing_registry() as conn:
            await conn.execute(update(services).where(services.c.id == service_id).values(**values))

    async def add_signing_key(
        self,
        system: str,
        key_id: str,
        *,
        expires_at: datetime | None = None,
        revoked_at: datetime | None = None,
    ) -> Ed25519PrivateKey:
        """Register a new Ed25519 key for ``system``; the private half for the test to sign."""
        key = Ed25519PrivateKey.generate()
        system_id = await self.system_id(system)
        async with self.changing_registry() as conn:
            await conn.execute(
                insert(signing_keys).values(
                    system_id=system_id,
                    key_id=key_id,
                    public_key=_b64url(public_bytes(key.public_key())),
                    created_at=utc_now(),
                    expires_at=expires_at,
                    revoked_at=revoked_at,
                )
            )
        return key

    async def exchange_keys(self) -> dict[str, Ed25519PublicKey]:
        """The exchange's published public keys, read from GET /exchange/v1/keys."""
        answer = await self.client.get("/exchange/v1/keys")
        assert answer.status_code == 200
        keys: dict[str, Ed25519PublicKey] = {}
        for jwk in answer.json()["keys"]:
            assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
            raw = _from_b64url(jwk["x"])
            keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
        return keys


def _from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_answer(
    response: httpx.Response,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    status: int | None = None,
    body: bytes | None = None,
    exchange_id: str | None = None,
) -> str:
    """Verify the exchange's signature on ``response`` against the request it answers; the
    signing key id.  ``status``/``body``/``exchange_id`` replace what was received (tampering).
    """
    headers = {k.lower(): v for k, v in response.headers.items()}
    if exchange_id is not None:
        headers["x-exchange-id"] = exchange_id
    request_body = response.request.content
    sent = response.request.headers.get("content-digest")
    verified = ResponseVerifier().verify(
        status=response.status_code if status is None else status,
        headers=headers,
        body=response.content if body is None else body,
        request_headers={"content-digest": sent or content_digest(request_body)},
        resolve_key=keys.get,
        request_body=request_body,
    )
    return verified.key_id


def signed_headers(
    key: Ed25519PrivateKey,
    keyid: str,
    *,
    authority: str,
    body: bytes,
    request_id: str,
    purpose: str = PURPOSE,
    path: str = PERSON,
    created: float | None = None,
) -> dict[str, str]:
    """A consumer's signed request headers (panjereh's own RequestSigner)."""
    headers = {
        "content-type": "application/json",
        "content-digest": content_digest(body),
        "x-request-id": request_id,
        "x-purpose": purpose,
    }
    return headers | RequestSigner(key, keyid).sign(
        method="POST",
        authority=authority,
        path=path,
        headers=headers,
        created=time.time() if created is None else created,
    )


# -- the capturing provider ------------------------------------------------------------------


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Provider:
    """A provider's endpoint that records every call and answers ``status`` / ``answer``."""

    url: str = ""
    calls: list[Captured] = field(default_factory=list)
    status: int = 200
    answer: Callable[[dict[str, Any]], dict[str, Any]] = field(
        default=lambda request: {
            "national_code": request.get("national_code"),
            "first_name": "Sara",
            "last_name": "Karimi",
            "father_name": "Ali",
            "birth_date": "1990-03-21",
            "alive": True,
        }
    )
    delay: float = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.calls.append(Captured(scope["method"], scope["path"], headers, body))
        if self.delay:
            await asyncio.sleep(self.delay)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = {}
        answer = orjson.dumps(self.answer(document if isinstance(document, dict) else {}))
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})


@asynccontextmanager
async def capturing_provider() -> AsyncIterator[Provider]:
    provider = Provider()
    async with serving(provider, free_port()) as url:
        provider.url = f"{url}/person"
        yield provider


# -- starting the platform -------------------------------------------------------------------


def demo_api_keys() -> dict[str, str]:
    return {ref: demo_api_key(ref) for ref in (GRANTED, UNGRANTED)}


@asynccontextmanager
async def running(
    database_url: str,
    data_dir: Path,
    *,
    clock: Clock | None = None,
    port: int | None = None,
    **overrides: Any,
) -> AsyncIterator[Platform]:
    """The platform on a free port (or ``port``: a restart at the same address) over an
    already prepared database, on ``clock`` if given (a test's controlled clock)."""
    port = free_port() if port is None else port
    settings = Settings(
        env=Environment.DEVELOPMENT,
        data_dir=data_dir,
        database_url=database_url,
        port=port,
        api_key_pepper=SecretStr(PEPPER),
        **({"allow_private_endpoints": True} | overrides),  # the providers are on loopback
    )
    engine = create_engine(database_url)
    try:
        await point_services_at(engine, settings.effective_public_url)
        app = create_app(settings, clock=clock)
        async with serving(app, port) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield Platform(
                url=url,
                app=app,
                client=client,
                engine=engine,
                settings=settings,
                api_keys=demo_api_keys(),
                citizen=Population(settings.simulator_seed).sample(1)[0].national_code,
            )
    finally:
        await engine.dispose()
