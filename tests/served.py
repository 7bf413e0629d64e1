"""A real `panjereh serve` in a temporary folder, as `make run` starts it (e2e and browser tests).

`demo_environment` is the environment `make run` gives the command (development, the demo's
private endpoints allowed, a data folder and a free port of the test's own); `serving` starts
the server and waits until `/healthz` answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import free_port

PANJEREH = [sys.executable, "-m", "panjereh.cli"]


def run_panjereh(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        PANJEREH + args, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def demo_environment(data_dir: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_")}
    return clean | {
        "PANJEREH_ENV": "development",
        "PANJEREH_ALLOW_PRIVATE_ENDPOINTS": "true",
        "PANJEREH_DATA_DIR": str(data_dir),
        "PANJEREH_PORT": str(free_port()),
    }


def public_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['PANJEREH_PORT']}"


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`panjereh serve` with ``env``, its output in ``log_path``; yields its URL."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [*PANJEREH, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        url = public_url(env)
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                raise AssertionError(f"server did not start: {log_path.read_text()}")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)
