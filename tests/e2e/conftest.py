"""The e2e fixtures: a real `panjereh serve` in a temporary folder, as `make run` starts it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

PANJEREH = [sys.executable, "-m", "panjereh.cli"]
ROOT_DIR = Path(__file__).resolve().parents[2]


def run_panjereh(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
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
    assert run_panjereh(["db", "upgrade"], env).returncode == 0
    result = run_panjereh(["demo", "--json"], env)
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
