"""Migrations: one checked head, idempotent upgrades, and a schema that matches the tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.engine import StorageError, create_engine
from panjereh.storage.migrate import (
    MIGRATIONS,
    current_revision,
    ensure_current,
    script_head,
    upgrade,
)
from panjereh.storage.tables import metadata, registry_state


def test_the_head_file_names_the_newest_migration() -> None:
    """Two branches that both add a migration conflict on this file instead of forking."""
    assert (MIGRATIONS / "HEAD").read_text().strip() == script_head()


async def test_upgrade_creates_the_schema_and_running_it_again_changes_nothing(
    engine: AsyncEngine,
) -> None:
    assert await current_revision(engine) == script_head()
    assert await upgrade(engine) == script_head()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(registry_state))).all()
    assert len(rows) == 1
    assert rows[0].version == 0


async def test_the_migrated_schema_matches_the_table_definitions(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_a_server_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(StorageError, match="panjereh db upgrade"):
            await ensure_current(engine)
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 2  # FULL
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()


def test_a_malformed_database_url_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="not valid"):
        create_engine("not a url")
