"""The whole path over a socket, through the real command: consumer -> exchange -> simulated
provider -> audit record -> answer.  This is what `make run` does, in a temporary folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from panjereh.simulator.population import Population
from tests.served import run_panjereh


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
    assert run_panjereh(["db", "upgrade"], env).returncode == 0
    result = run_panjereh(["demo"], env | {"PANJEREH_ENV": "production"})
    assert result.returncode == 2
    assert "only in development" in result.stderr
    assert "Traceback" not in result.stderr


def test_serving_an_unmigrated_database_is_one_clear_line(env: dict[str, str]) -> None:
    result = run_panjereh(["serve"], env)
    assert result.returncode == 2
    assert "panjereh db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_one_clear_line(env: dict[str, str]) -> None:
    result = run_panjereh(["db", "upgrade"], env | {"PANJEREH_PORT": "abc"})
    assert result.returncode == 2
    assert "PANJEREH_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_prints_the_version(env: dict[str, str]) -> None:
    result = run_panjereh(["version"], env)
    assert result.returncode == 0
    assert result.stdout.startswith("panjereh ")
