"""The whole path over a socket, through the real command: consumer -> exchange -> simulated
provider -> audit record -> answer.  This is what `make run` does, in a temporary folder."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from panjereh.simulator.population import Population
from tests.support import free_port

PANJEREH = [sys.executable, "-m", "panjereh.cli"]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        PANJEREH + args, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    return clean | {
        "PANJEREH_ENV": "development",
        "PANJEREH_ALLOW_PRIVATE_ENDPOINTS": "true",
        "PANJEREH_DATA_DIR": str(tmp_path / "var"),
        "PANJEREH_PORT": str(free_port()),
    }


@pytest.fixture
def seeded(env: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    """What `make run` does before serving: migrate, seed the demo."""
    assert _run(["db", "upgrade"], env).returncode == 0
    result = _run(["demo", "--json"], env)
    assert result.returncode == 0, result.stderr
    output: dict[str, list[dict[str, str]]] = json.loads(result.stdout)
    return output


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path, seeded: object) -> Iterator[str]:
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [*PANJEREH, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{env['PANJEREH_PORT']}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError(f"server did not start: {(tmp_path / 'serve.log').read_text()}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_an_inquiry_walks_the_whole_path_over_a_socket(
    server: str, seeded: dict[str, list[dict[str, str]]], tmp_path: Path
) -> None:
    key = seeded["credentials"][0]["api_key"]
    citizen = Population(1405).sample(1)[0]

    response = httpx.post(
        f"{server}/exchange/v1/services/civil-registry.person.v1",
        json={"national_code": citizen.national_code},
        headers={"Authorization": f"ApiKey {key}", "X-Purpose": "benefit-eligibility"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.json()["first_name"] == citizen.first_name
    exchange_id = response.headers["x-exchange-id"]
    with sqlite3.connect(tmp_path / "var" / "panjereh.db") as db:
        rows = db.execute(
            "SELECT consumer, service_id, outcome, status_code FROM audit_records "
            "WHERE exchange_id = ?",
            (exchange_id,),
        ).fetchall()
    assert rows == [("social-security/benefits", "civil-registry.person.v1", "ok", 200)]
    page = httpx.get(f"{server}/", timeout=10)
    assert '<html lang="fa" dir="rtl">' in page.text


def test_demo_data_is_refused_outside_development(env: dict[str, str]) -> None:
    assert _run(["db", "upgrade"], env).returncode == 0
    result = _run(["demo"], env | {"PANJEREH_ENV": "production"})
    assert result.returncode == 2
    assert "only in development" in result.stderr
    assert "Traceback" not in result.stderr


def test_serving_an_unmigrated_database_is_one_clear_line(env: dict[str, str]) -> None:
    result = _run(["serve"], env)
    assert result.returncode == 2
    assert "panjereh db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_one_clear_line(env: dict[str, str]) -> None:
    result = _run(["db", "upgrade"], env | {"PANJEREH_PORT": "abc"})
    assert result.returncode == 2
    assert "PANJEREH_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_prints_the_version(env: dict[str, str]) -> None:
    result = _run(["version"], env)
    assert result.returncode == 0
    assert result.stdout.startswith("panjereh ")
