"""The README's worked example (docs/examples/onboarding.sh) runs as written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT_DIR

SCRIPT = ROOT_DIR / "docs" / "examples" / "onboarding.sh"


@pytest.mark.skipif(shutil.which("curl") is None, reason="the example uses curl")
def test_the_onboarding_example_ends_with_an_answered_inquiry_each_time_it_runs(
    env: dict[str, str], server: str, tmp_path: Path
) -> None:
    shim = tmp_path / "panjereh"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m panjereh.cli "$@"\n')
    shim.chmod(0o755)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            ["bash", str(SCRIPT)],  # noqa: S607
            env=env | {"BASE": server, "PANJEREH": str(shim)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    for attempt in ("first", "again"):  # a newcomer runs it twice: the second run still works
        result = run()
        assert result.returncode == 0, attempt + result.stdout + result.stderr
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        assert answer["national_code"] == "3066557359"
        assert answer["alive"] in (True, False)
    skipped = [line for line in result.stdout.splitlines() if line.startswith("already there")]
    assert len(skipped) == 5, result.stdout
