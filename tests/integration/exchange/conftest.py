"""Fixtures shared by the exchange's end-to-end tests (the platform itself: harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.exchange.harness import (
    PERSON_ID,
    Platform,
    Provider,
    capturing_provider,
    prepare_database,
    running,
)


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    """A capturing provider: it answers and records what it was asked."""
    async with capturing_provider() as provider:
        yield provider


@pytest.fixture
async def sqlite_platform(
    sqlite_template: Path, tmp_path: Path, provider: Provider
) -> AsyncIterator[Platform]:
    """The platform on SQLite with civil-registry.person.v1 answered by the capturing
    provider."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'exchange.db'}"
    await prepare_database(url, sqlite_template)
    async with running(url, tmp_path / "var") as platform:
        await platform.set_service(PERSON_ID, endpoint_url=provider.url)
        yield platform
