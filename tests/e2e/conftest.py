"""The e2e fixtures: a real `panjereh serve` in a temporary folder, as `make run` starts it.

The data folder is migrated and seeded by the CLI once per session (`panjereh db upgrade`,
`panjereh demo`: ~9 s); each test serves a copy of it, its services' endpoints moved to the
test's own port.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
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


Seeded = dict[str, list[dict[str, str]]]


def _environment(data_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    return clean | {
        "PANJEREH_ENV": "development",
        "PANJEREH_ALLOW_PRIVATE_ENDPOINTS": "true",
        "PANJEREH_DATA_DIR": str(data_dir),
        "PANJEREH_PORT": str(free_port()),
    }


def _public_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['PANJEREH_PORT']}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return _environment(tmp_path / "var")


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Seeded]:
    """What `make run` does before serving, once: migrate, seed the demo (its environment
    and what `panjereh demo --json` printed)."""
    env = _environment(tmp_path_factory.mktemp("demo") / "var")
    assert run_panjereh(["db", "upgrade"], env).returncode == 0
    result = run_panjereh(["demo", "--json"], env)
    assert result.returncode == 0, result.stderr
    output: Seeded = json.loads(result.stdout)
    return env, output


@pytest.fixture
def seeded(env: dict[str, str], demo_folder: tuple[dict[str, str], Seeded]) -> Seeded:
    """The seeded data folder copied into the test's, the services' endpoints (which the
    demo points at the server itself) moved to the test's port."""
    demo_env, output = demo_folder
    target = Path(env["PANJEREH_DATA_DIR"])
    shutil.copytree(demo_env["PANJEREH_DATA_DIR"], target)
    with closing(sqlite3.connect(target / "panjereh.db")) as db, db:
        db.execute(
            "UPDATE services SET endpoint_url = replace(endpoint_url, ?, ?)",
            (_public_url(demo_env), _public_url(env)),
        )
    return copy.deepcopy(output)


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path, seeded: object) -> Iterator[str]:
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [*PANJEREH, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = _public_url(env)
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
