"""A crash loses nothing a caller saw: SIGKILL a loaded `panjereh serve`, then every
X-Exchange-Id any client received has its audit record (SQLite and PostgreSQL).

The exchange answers only after the inquiry's record is committed (group commit), so a
killed server may lose records of inquiries it had not answered yet, never of answered ones.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Settings
from panjereh.simulator.population import Population
from panjereh.storage.tables import audit_records
from tests.integration.seeded import PEPPER, demo_api_key, point_services_at, prepare_database
from tests.support import free_port

PERSON = "/exchange/v1/services/civil-registry.person.v1"
CLIENTS = 8
LOAD_SECONDS = 1.5  # at least this long under load before the kill
MIN_ANSWERS = 50  # ... and at least this many answers seen


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    granted_key: str
    stranger_key: str
    log: Path


@pytest.fixture
async def server(
    engine: AsyncEngine, database_url: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    await engine.dispose()  # no connection may be open while a SQLite file is replaced
    await prepare_database(database_url, sqlite_template)  # the small demo government
    await point_services_at(engine, url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")} | {
        "PANJEREH_ENV": "development",
        "PANJEREH_ALLOW_PRIVATE_ENDPOINTS": "true",
        "PANJEREH_DATABASE_URL": database_url,
        "PANJEREH_DATA_DIR": str(tmp_path / "var"),
        "PANJEREH_PORT": str(port),
        "PANJEREH_API_KEY_PEPPER": PEPPER,
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "panjereh.cli", "serve"], env=env, stdout=out, stderr=out
        )
    try:
        await _wait_ready(url, process, log)
        yield Server(
            url,
            process,
            demo_api_key("social-security/benefits"),
            demo_api_key("science-ministry/degrees"),
            log,
        )
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)


async def test_every_answer_a_client_received_has_its_record_after_a_sigkill(
    engine: AsyncEngine, server: Server
) -> None:
    citizen = Population(Settings.model_fields["simulator_seed"].default).sample(1)[0].national_code
    requests = [
        ({"Authorization": f"ApiKey {server.granted_key}"}, {"national_code": citizen}),
        ({"Authorization": f"ApiKey {server.stranger_key}"}, {"national_code": citizen}),
        ({}, {"national_code": citizen}),
        ({"Authorization": f"ApiKey {server.granted_key}"}, {"national_code": "1234567890"}),
    ]
    received: dict[str, int] = {}  # exchange id -> status, of every answer a client read
    killed = asyncio.Event()

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=5) as http:
            for i in range(100_000):
                if killed.is_set():
                    return
                headers, body = requests[(n + i) % len(requests)]
                try:
                    answer = await http.post(
                        PERSON, json=body, headers=headers | {"X-Purpose": "benefit-eligibility"}
                    )
                except httpx.TransportError:
                    return  # the server is gone
                received[answer.headers["x-exchange-id"]] = answer.status_code

    async def killer() -> None:
        started = time.monotonic()
        while time.monotonic() - started < 8 and (
            time.monotonic() - started < LOAD_SECONDS or len(received) < MIN_ANSWERS
        ):
            await asyncio.sleep(0.05)
        server.process.kill()  # SIGKILL: no shutdown, no flush
        killed.set()

    async with asyncio.timeout(15):
        await asyncio.gather(killer(), *(client(n) for n in range(CLIENTS)))
        await asyncio.to_thread(server.process.wait, 10)
    assert server.process.returncode == -9

    statuses = Counter(received.values())
    assert len(received) >= MIN_ANSWERS, (statuses, server.log.read_text())
    assert {200, 401, 403, 400} <= set(statuses)  # allowed, refused and invalid alike
    async with engine.connect() as conn:
        stored = set((await conn.execute(select(audit_records.c.exchange_id))).scalars())
    missing = set(received) - stored
    assert not missing, f"{len(missing)} of {len(received)} answered inquiries have no record"


async def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        for _ in range(300):
            if process.poll() is not None:
                break
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"server did not start: {log.read_text()}")
