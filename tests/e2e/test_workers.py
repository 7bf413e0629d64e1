"""`panjereh serve --workers 2`: two processes on one port, one database, one Redis.

Both workers answer inquiries (each reports its own pid in `panjereh_worker_inquiries`, the
aggregate of prometheus_client's multiprocess mode), a grant's rate limit holds across them
(the limiter is in Redis), and on the embedded SQLite the command refuses to start.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.demo.seed import seed_demo
from panjereh.domain.clock import utc_now
from panjereh.interchange.registry_document import RegistryDocument
from panjereh.simulator.population import Population
from panjereh.storage.registry_repo import load_snapshot
from tests.integration.seeded import small_government
from tests.served import run_panjereh
from tests.support import free_port

PEPPER = "a-shared-pepper-for-both-workers"
PERSON_ID = "civil-registry.person.v1"
PERSON = f"/exchange/v1/services/{PERSON_ID}"
CONSUMER = "social-security/benefits"
LIMIT = 3  # inquiries a minute on the consumer's grant


@dataclass
class Workers:
    url: str
    granted_key: str
    stranger_key: str


def limited(document: RegistryDocument) -> RegistryDocument:
    """The small government with a small rate limit on the consumer's grant."""
    grants = [
        g.model_copy(update={"rate_limit_per_minute": LIMIT})
        if (g.consumer, g.service) == (CONSUMER, PERSON_ID)
        else g
        for g in document.grants
    ]
    return document.model_copy(update={"grants": grants})


async def forget_limits(engine: AsyncEngine, redis_url: str) -> None:
    """Delete this grant's limiter keys from an earlier run (ids restart with the database)."""
    snapshot = await load_snapshot(engine)
    key = f"{snapshot.systems_by_ident[CONSUMER].id}:{PERSON_ID}"
    client: Redis = Redis.from_url(redis_url)
    try:
        found = [k async for k in client.scan_iter(match=f"pnj:*{{{key}}}*")]
        if found:
            await client.delete(*found)
    finally:
        await client.aclose()


async def worker_inquiries(client: httpx.AsyncClient) -> dict[str, float]:
    """pid -> inquiries that worker answered, from the aggregated /metrics."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        sample.labels["pid"]: sample.value
        for family in text_string_to_metric_families(response.text)
        if family.name == "panjereh_worker_inquiries"
        for sample in family.samples
    }


@pytest.fixture
async def workers(
    engine: AsyncEngine, database_url: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[Workers]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    seeded = await seed_demo(
        engine,
        pepper=PEPPER.encode(),
        public_url=url,
        now=utc_now(),
        document=limited(small_government(url)),
    )
    await forget_limits(engine, redis_url)
    keys = {c.system: c.api_key for c in seeded.credentials}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")} | {
        "PANJEREH_ENV": "development",
        "PANJEREH_DATABASE_URL": database_url,
        "PANJEREH_REDIS_URL": redis_url,
        "PANJEREH_DATA_DIR": str(tmp_path / "var"),
        "PANJEREH_PORT": str(port),
        "PANJEREH_API_KEY_PEPPER": PEPPER,
        "PANJEREH_ALLOW_PRIVATE_ENDPOINTS": "true",  # the simulated agencies are on loopback
    }
    log = (tmp_path / "workers.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "panjereh.cli", "serve", "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            for _ in range(300):  # both workers up: each publishes its gauges within a second
                try:
                    if len(await worker_inquiries(client)) == 2:
                        break
                except (httpx.TransportError, AssertionError):
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError((tmp_path / "workers.log").read_text())
        yield Workers(url, keys[CONSUMER], keys["science-ministry/degrees"])
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


async def ask(url: str, key: str, citizen: str) -> int:
    """One inquiry on its own connection, so the kernel may hand it to either worker."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        response = await client.post(
            PERSON,
            json={"national_code": citizen},
            headers={"Authorization": f"ApiKey {key}", "X-Purpose": "benefit-eligibility"},
        )
        return response.status_code


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_both_workers_answer_and_the_rate_limit_holds_across_them(
    workers: Workers,
) -> None:
    citizen = Population(1405).sample(1)[0].national_code
    statuses = await asyncio.gather(
        *(ask(workers.url, workers.granted_key, citizen) for _ in range(4 * LIMIT))
    )
    assert sorted(statuses) == [200] * LIMIT + [429] * (3 * LIMIT)
    # More answers (refusals, for no grant) until both workers have answered some.
    async with httpx.AsyncClient(base_url=workers.url, timeout=5) as client:
        answered: dict[str, float] = {}
        total = 4 * LIMIT
        for _ in range(20):
            answered = await worker_inquiries(client)
            if sum(answered.values()) == total and all(answered.values()):
                break
            statuses = await asyncio.gather(
                *(ask(workers.url, workers.stranger_key, citizen) for _ in range(8))
            )
            assert set(statuses) == {403}
            total += 8
            await asyncio.sleep(1.1)  # every worker publishes its tallies once a second
    assert len(answered) == 2
    assert all(count > 0 for count in answered.values()), answered
    assert sum(answered.values()) == total


@pytest.mark.parametrize("how", ["option", "setting"])
def test_several_workers_on_the_embedded_sqlite_are_refused(env: dict[str, str], how: str) -> None:
    if how == "option":
        result = run_panjereh(["serve", "--workers", "2"], env)
    else:
        result = run_panjereh(["serve"], env | {"PANJEREH_WORKERS": "2"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: --workers 2 needs PostgreSQL")
    assert "Redis" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
