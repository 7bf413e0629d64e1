"""Alembic environment: runs on the connection panjereh.storage.migrate hands over."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from panjereh.storage.engine import create_engine
from panjereh.storage.partitions import include_name, include_object
from panjereh.storage.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # the monthly partitions are made at run time
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the plain `alembic` command, used by developers writing a migration
    asyncio.run(_run_from_url(os.environ["PANJEREH_DATABASE_URL"]))
