"""A registry change reaches another worker process within a second, with no query per inquiry.

A second `panjereh serve` process shares the database; the change is made here (as the API
or CLI would make it) and the other process must refuse the revoked grant within 1 s.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.domain.clock import utc_now
from panjereh.registry.access import Principal, Role
from panjereh.simulator.population import Population
from panjereh.storage.registry_ops import RegistryOps
from tests.integration.seeded import PEPPER, demo_api_key, point_services_at, prepare_database
from tests.support import free_port

PERSON = "/exchange/v1/services/civil-registry.person.v1"


@pytest.fixture
async def worker(
    engine: AsyncEngine, database_url: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    await engine.dispose()  # no connection may be open while a SQLite file is replaced
    await prepare_database(database_url, sqlite_template)  # the small demo government
    await point_services_at(engine, url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")} | {
        "PANJEREH_ENV": "development",
        "PANJEREH_DATABASE_URL": database_url,
        "PANJEREH_DATA_DIR": str(tmp_path / "var"),
        "PANJEREH_PORT": str(port),
        "PANJEREH_API_KEY_PEPPER": PEPPER,
        "PANJEREH_ALLOW_PRIVATE_ENDPOINTS": "true",  # the simulated agencies are on loopback
    }
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "panjereh.cli", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError((tmp_path / "worker.log").read_text())
        yield url, demo_api_key("social-security/benefits")
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


async def test_a_revoked_grant_is_refused_by_another_worker_within_a_second(
    engine: AsyncEngine, worker: tuple[str, str]
) -> None:
    url, key = worker
    citizen = Population(1405).sample(1)[0].national_code
    headers = {"Authorization": f"ApiKey {key}", "X-Purpose": "benefit-eligibility"}
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        before = await client.post(PERSON, json={"national_code": citizen}, headers=headers)
        assert before.status_code == 200
        async with engine.begin() as conn:
            ops = RegistryOps(
                conn,
                Principal("test:operator", Role.OPERATOR),
                now=utc_now(),
                reason="propagation test",
                pepper=PEPPER.encode(),
                allow_private=True,
            )
            await ops.revoke_grant("social-security/benefits", "civil-registry.person.v1")
        committed = time.monotonic()
        status = 200
        while status == 200 and time.monotonic() - committed < 3:
            status = (
                await client.post(PERSON, json={"national_code": citizen}, headers=headers)
            ).status_code
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - committed
    assert status == 403
    assert elapsed < 1.0, f"the other worker refused only after {elapsed:.2f} s"
