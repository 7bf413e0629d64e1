from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Settings
from panjereh.simulator.population import Population
from panjereh.storage import users_repo
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.web.app import PanjerehApp, create_app
from tests.integration.seeded import PEPPER, demo_api_key, point_services_at, prepare_database
from tests.support import free_port, serving


@dataclass
class Live:
    """The whole platform on a real socket, seeded with the demonstration government."""

    url: str
    app: PanjerehApp
    client: httpx.AsyncClient
    granted_key: str  # social-security/benefits, holds a grant on civil-registry.person.v1
    stranger_key: str  # science-ministry/degrees, holds no grant
    citizen: str  # a registered national code
    audit: SqlAuditStore
    engine: AsyncEngine


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost takes ~0.1 s a hash; these tests are not about hashing."""
    monkeypatch.setattr(users_repo, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
async def live(
    engine: AsyncEngine, dev_settings: Settings, database_url: str, sqlite_template: Path
) -> AsyncIterator[Live]:
    """The platform over a copy of the small demo government (tests/integration/seeded.py)."""
    port = free_port()
    settings = dev_settings.model_copy(
        update={
            "port": port,
            "api_key_pepper": SecretStr(PEPPER),
            "allow_private_endpoints": True,  # the simulated agencies answer on loopback
        }
    )
    await engine.dispose()  # no connection may be open while a SQLite file is replaced
    await prepare_database(database_url, sqlite_template)
    await point_services_at(engine, settings.effective_public_url)
    app = create_app(settings)
    async with serving(app, port) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield Live(
            url=url,
            app=app,
            client=client,
            granted_key=demo_api_key("social-security/benefits"),
            stranger_key=demo_api_key("science-ministry/degrees"),
            citizen=Population(settings.simulator_seed).sample(1)[0].national_code,
            audit=SqlAuditStore(engine),
            engine=engine,
        )
