"""The audit store over the test's migrated database (SQLite and PostgreSQL), and empty
databases of both kinds for the migration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.audit_repo import SqlAuditStore
from panjereh.storage.engine import create_engine
from tests.support import fresh_postgres


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlAuditStore]:
    audit = SqlAuditStore(engine)
    try:
        yield audit
    finally:
        await audit.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each kind, not migrated: for walking the migrations up and down."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    async with fresh_postgres(request.getfixturevalue("postgres_server_url")) as url:
        yield url


@pytest.fixture
async def fresh_engine(fresh_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_url)
    try:
        yield engine
    finally:
        await engine.dispose()
