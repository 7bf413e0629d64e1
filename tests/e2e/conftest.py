"""The e2e fixtures: a real `panjereh serve` in a temporary folder, as `make run` starts it.

The data folder is migrated and seeded by the CLI once per session (`panjereh db upgrade`,
`panjereh demo`: ~9 s); each test serves a copy of it, its services' endpoints moved to the
test's own port.
"""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.served import demo_environment, public_url, run_panjereh, serving

ROOT_DIR = Path(__file__).resolve().parents[2]

Seeded = dict[str, list[dict[str, str]]]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return demo_environment(tmp_path / "var")


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Seeded]:
    """What `make run` does before serving, once: migrate, seed the demo (its environment
    and what `panjereh demo --json` printed)."""
    env = demo_environment(tmp_path_factory.mktemp("demo") / "var")
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
            (public_url(demo_env), public_url(env)),
        )
    return copy.deepcopy(output)


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path, seeded: object) -> Iterator[str]:
    with serving(env, tmp_path / "serve.log") as url:
        yield url
