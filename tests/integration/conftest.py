from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Settings, resolve_pepper
from panjereh.demo.government import DEMO_CONSUMERS, build_government
from panjereh.demo.seed import seed_demo
from panjereh.domain.clock import utc_now
from panjereh.interchange.registry_document import RegistryDocument
from panjereh.simulator.catalogue import SIMULATED_SERVICES
from panjereh.simulator.population import Population
from panjereh.storage import users_repo
from panjereh.storage.audit_repo import SqlAuditStore
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


def small_government(public_url: str) -> RegistryDocument:
    """The demo government cut down to the simulated services, their agencies and grants:
    the same shapes, a hundredth of the seeding time."""
    full = build_government(public_url)
    simulated = {s.service_id for s in SIMULATED_SERVICES}
    kept_services = [s for s in full.services if s.id in simulated]
    kept_grants = [g for g in full.grants if g.service in simulated]
    agencies = {s.agency for s in kept_services} | {g.consumer.split("/")[0] for g in kept_grants}
    agencies |= {ref.split("/")[0] for ref in DEMO_CONSUMERS}
    parents = {a.parent for a in full.agencies if a.code in agencies and a.parent}
    agencies |= parents
    return full.model_copy(
        update={
            "agencies": [a for a in full.agencies if a.code in agencies],
            "systems": [s for s in full.systems if s.agency in agencies],
            "services": kept_services,
            "grants": kept_grants,
            "citizen_services": [],
        }
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost takes ~0.1 s a hash; these tests are not about hashing."""
    monkeypatch.setattr(users_repo, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture
async def live(engine: AsyncEngine, dev_settings: Settings) -> AsyncIterator[Live]:
    port = free_port()
    settings = dev_settings.model_copy(update={"port": port})
    seeded = await seed_demo(
        engine,
        pepper=resolve_pepper(settings),
        public_url=settings.effective_public_url,
        now=utc_now(),
        document=small_government(settings.effective_public_url),
    )
    keys = {c.system: c.api_key for c in seeded.credentials}
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
