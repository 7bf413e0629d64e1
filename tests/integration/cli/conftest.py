"""The `cli` fixture: the command with its settings pointed at the test's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.cli.runner import Cli


@pytest.fixture
def cli(
    engine: AsyncEngine,
    database_url: str,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    monkeypatch.setenv("PANJEREH_DATABASE_URL", database_url)
    monkeypatch.setenv("PANJEREH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PANJEREH_ENV", "development")
    return Cli(capsys)
