"""Shared fixtures: settings in a temporary data folder, and migrated databases of both kinds.

PostgreSQL tests run when PANJEREH_TEST_POSTGRES_URL is set (CI sets it) and are skipped
otherwise; each test session creates its own database there and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Environment, Settings
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import upgrade
from panjereh.storage.tables import metadata, registry_state

POSTGRES_ENV = "PANJEREH_TEST_POSTGRES_URL"
REDIS_ENV = "PANJEREH_TEST_REDIS_URL"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own PANJEREH_* settings."""
    for name in list(os.environ):
        if name.startswith("PANJEREH_") and not name.startswith("PANJEREH_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def redis_url() -> str:
    """The test Redis (CI sets PANJEREH_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/15)."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set")
    return url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh database on the test PostgreSQL server for this session."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    url = make_url(base)
    name = f"panjereh_test_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield url.set(database=name).render_as_string(hide_password=False)
    asyncio.run(drop())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty SQLite database, made once and copied for every test."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
            async with engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_server_url: str) -> str:
    """The session's PostgreSQL database, migrated once."""

    async def migrate() -> None:
        engine = create_engine(postgres_server_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return postgres_server_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    server_url: str = request.getfixturevalue("postgres_migrated")
    return server_url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database (PostgreSQL: every table emptied before each test)."""
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            await conn.execute(
                registry_state.insert().values(id=1, version=0, changed_at=datetime.now(UTC))
            )
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def dev_settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(env=Environment.DEVELOPMENT, data_dir=data_dir, database_url=database_url)
