"""A newcomer's first minutes: another port, a busy port (issue 26)."""

from __future__ import annotations

from pathlib import Path

import httpx

from panjereh.simulator.population import Population
from tests.e2e.conftest import Seeded
from tests.served import public_url, run_panjereh, serving
from tests.support import free_port


def readme_inquiry(url: str, api_key: str) -> httpx.Response:
    national_code = Population(1405).sample(1)[0].national_code
    return httpx.post(
        f"{url}/exchange/v1/services/civil-registry.person.v1",
        headers={"Authorization": f"ApiKey {api_key}", "X-Purpose": "benefit-eligibility"},
        json={"national_code": national_code},
        timeout=20,
    )


def test_served_on_another_port_the_demo_follows_or_the_server_says_how(
    env: dict[str, str], seeded: Seeded, tmp_path: Path
) -> None:
    seeded_for = public_url(env)
    moved = env | {"PANJEREH_PORT": str(free_port())}

    refused = run_panjereh(["serve"], moved)  # the demo still calls the seeding address
    assert refused.returncode != 0
    assert f"call {seeded_for}/simulator/" in refused.stderr
    assert f"PANJEREH_PORT={moved['PANJEREH_PORT']} panjereh demo" in refused.stderr

    assert run_panjereh(["demo"], moved).returncode == 0  # the fix it names
    with serving(moved, tmp_path / "serve.log") as url:
        answer = readme_inquiry(url, seeded["credentials"][0]["api_key"])
        assert answer.status_code == 200, answer.text
        assert answer.json()["national_code"] == Population(1405).sample(1)[0].national_code

        busy = run_panjereh(["serve", "--check-port"], moved)  # a second `make run`
        assert busy.returncode != 0
        assert f"port {moved['PANJEREH_PORT']} on 127.0.0.1 is already in use" in busy.stderr
        assert "PANJEREH_PORT=" in busy.stderr
        assert "Errno" not in busy.stderr


def test_a_free_port_passes_the_check_and_nothing_else_runs(env: dict[str, str]) -> None:
    checked = run_panjereh(["serve", "--check-port"], env)
    assert checked.returncode == 0, checked.stderr
    assert not (Path(env["PANJEREH_DATA_DIR"]) / "panjereh.db").exists()
