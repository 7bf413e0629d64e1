"""Running Alembic migrations from the application, and checking the schema is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.engine import StorageError

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def script_head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StorageError("no migrations found")
    return head


async def upgrade(engine: AsyncEngine) -> str:
    """Bring the database to the newest revision; returns it.  Safe to run again."""

    def _upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade)
    except SQLAlchemyError as exc:
        raise StorageError(
            f"migrating the database failed: {exc.__class__.__name__}: {exc}"
        ) from None
    return script_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(f"cannot read the database: {exc.__class__.__name__}: {exc}") from None


async def ensure_current(engine: AsyncEngine) -> None:
    """Refuse to serve on a schema that is missing or behind the code."""
    current = await current_revision(engine)
    head = script_head()
    if current != head:
        raise StorageError(
            f"the database schema is at {current or 'nothing'}, the code needs {head}: "
            "run `panjereh db upgrade`"
        )
