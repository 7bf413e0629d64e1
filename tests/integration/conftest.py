from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Settings, resolve_pepper
from panjereh.domain.clock import utc_now
from panjereh.simulator.population import Population
from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.demo import seed_demo
from panjereh.web.app import PanjerehApp, create_app
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


@pytest.fixture
async def live(engine: AsyncEngine, dev_settings: Settings) -> AsyncIterator[Live]:
    port = free_port()
    settings = dev_settings.model_copy(update={"port": port})
    credentials = await seed_demo(
        engine,
        pepper=resolve_pepper(settings),
        public_url=settings.effective_public_url,
        now=utc_now(),
    )
    keys = {c.system: c.api_key for c in credentials}
    app = create_app(settings)
    async with serving(app, port) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield Live(
            url=url,
            app=app,
            client=client,
            granted_key=keys["social-security/benefits"],
            stranger_key=keys["science-ministry/degrees"],
            citizen=Population(settings.simulator_seed).sample(1)[0].national_code,
            audit=SqlAuditStore(engine),
            engine=engine,
        )
