"""What every command shares: settings, a database connection, and person-facing errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.config import Settings, load_settings
from panjereh.domain.errors import PanjerehError
from panjereh.registry.access import Principal, Role
from panjereh.storage.engine import create_engine
from panjereh.storage.migrate import ensure_current

T = TypeVar("T")


class UserError(PanjerehError):
    """Something the person running the command can fix."""


def run(coroutine: Awaitable[T]) -> T:
    async def _wrap() -> T:
        return await coroutine

    return asyncio.run(_wrap())


@asynccontextmanager
async def transaction(settings: Settings) -> AsyncIterator[AsyncConnection]:
    """One transaction on a migrated database: all of a command's changes, or none."""
    engine = create_engine(settings.effective_database_url)
    try:
        await ensure_current(engine)
        async with engine.begin() as conn:
            yield conn
    finally:
        await engine.dispose()


def cli_principal(actor: str) -> Principal:
    """Whoever runs the command on the server has the database: they act as an operator,
    under their own name, recorded in every event."""
    if not actor.strip():
        raise UserError("--actor must name the person making the change")
    return Principal(actor=f"cli:{actor.strip()}", role=Role.OPERATOR)


def settings() -> Settings:
    return load_settings()


F = TypeVar("F", bound=Callable[..., object])


def change_options(function: F) -> F:
    """--actor and --reason, which every changing command takes (and records)."""
    function = click.option(
        "--reason", required=True, help="Why: recorded in the registry's audit events."
    )(function)
    return click.option(
        "--actor", required=True, help="Who makes the change (your name or user name)."
    )(function)
