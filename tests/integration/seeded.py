"""The small demo government, seeded once per session and copied into each test's database.

Seeding runs the real `seed_demo` (~1-2 s even for the small government); the tests that only
need a seeded platform get a copy instead: on SQLite a copy of a seeded file, on PostgreSQL
the rows the first seeding left, captured once and inserted again (~0.1 s).  The copy is
seeded with a fixed pepper (so the demo API keys are the same every time) and with
`SEED_URL` as the public URL: `point_services_at` rewrites the services' endpoints to the
test's own server.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.demo.government import DEMO_CONSUMERS, build_government
from panjereh.demo.seed import seed_demo
from panjereh.domain.clock import utc_now
from panjereh.interchange.registry_document import RegistryDocument
from panjereh.registry.credentials import derived_api_key
from panjereh.simulator.catalogue import SIMULATED_SERVICES
from panjereh.storage.engine import create_engine
from panjereh.storage.tables import metadata, registry_state, services

PEPPER = "exchange-feature-tests-pepper-0123456789"
SEED_URL = "http://seed.invalid"  # the services' base URL in the copies; rewritten per test

Rows = dict[str, list[dict[str, Any]]]
T = TypeVar("T")
_POSTGRES_ROWS: dict[str, Rows] = {}  # what the session's first seeding left, per server URL


def small_government(public_url: str) -> RegistryDocument:
    """The demo government cut down to the simulated services, their agencies and grants:
    the same shapes, a hundredth of the seeding time."""
    full = build_government(public_url)
    simulated = {s.service_id for s in SIMULATED_SERVICES}
    kept_services = [s for s in full.services if s.id in simulated]
    kept_grants = [g for g in full.grants if g.service in simulated]
    agencies = {s.agency for s in kept_services} | {g.consumer.split("/")[0] for g in kept_grants}
    agencies |= {ref.split("/")[0] for ref in DEMO_CONSUMERS}
    parents = {a.parent for a in full.agencies if a.code in agencies and a.parent}
    agencies |= parents
    return full.model_copy(
        update={
            "agencies": [a for a in full.agencies if a.code in agencies],
            "systems": [s for s in full.systems if s.agency in agencies],
            "services": kept_services,
            "grants": kept_grants,
            "citizen_services": [],
        }
    )


def demo_api_key(system: str) -> str:
    """The API key the seeding gave a demo consumer system."""
    return derived_api_key(PEPPER.encode(), system)


async def _seed(engine: AsyncEngine) -> None:
    await seed_demo(
        engine,
        pepper=PEPPER.encode(),
        public_url=SEED_URL,
        now=utc_now(),
        document=small_government(SEED_URL),
    )


async def capture(engine: AsyncEngine) -> Rows:
    """Every row of every table."""
    async with engine.connect() as conn:
        return {
            table.name: [dict(row) for row in (await conn.execute(select(table))).mappings()]
            for table in metadata.sorted_tables
        }


async def restore(engine: AsyncEngine, rows: Rows) -> None:
    """``rows`` in place of whatever the tables of ``engine``'s database held, parents first;
    on PostgreSQL every id sequence is moved past the ids inserted (SQLite does that itself)."""
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        if postgres:
            tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:  # a migrated database holds only the registry's first state row
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())
        for table in metadata.sorted_tables:
            if rows.get(table.name):
                await conn.execute(table.insert(), rows[table.name])
            if not postgres:
                continue
            column = table.autoincrement_column
            if column is not None:
                sequence = func.pg_get_serial_sequence(table.name, column.name)
                following = select(func.coalesce(func.max(column), 0) + 1).scalar_subquery()
                await conn.execute(select(func.setval(sequence, following, False)))


async def once_per_backend(
    cache: dict[str, tuple[Rows, T]], engine: AsyncEngine, make: Callable[[], Awaitable[T]]
) -> T:
    """What ``make()`` returns, the first time on each backend made in ``engine``'s empty
    database; afterwards the rows it left copied in again, and the same answer (for set-ups
    that cost more than copying and give the same rows every time)."""
    kind = engine.dialect.name
    if kind in cache:
        rows, made = cache[kind]
        await restore(engine, rows)
        return made
    made = await make()
    cache[kind] = (await capture(engine), made)
    return made


async def _seeded_sqlite_template(empty: Path) -> Path:
    """The demo government seeded once into a copy of the migrated empty template."""
    seeded = empty.parent / "seeded.db"
    if seeded.exists():
        return seeded
    work = empty.parent / "seeding.db"
    shutil.copyfile(empty, work)
    engine = create_engine(f"sqlite+aiosqlite:///{work}")
    try:
        await _seed(engine)
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await engine.dispose()
    work.rename(seeded)
    return seeded


async def _empty_postgres(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        await conn.execute(registry_state.insert().values(id=1, version=0, changed_at=utc_now()))


async def prepare_database(database_url: str, sqlite_template: Path) -> None:
    """Make the database at ``database_url`` hold the seeded demo government (nothing may
    hold a connection to a SQLite file: it is replaced)."""
    if database_url.startswith("sqlite"):
        target = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
        shutil.copyfile(await _seeded_sqlite_template(sqlite_template), target)
        return
    engine = create_engine(database_url)
    try:
        rows = _POSTGRES_ROWS.get(database_url)
        if rows is None:
            await _empty_postgres(engine)
            await _seed(engine)
            _POSTGRES_ROWS[database_url] = await capture(engine)
        else:
            await restore(engine, rows)
    finally:
        await engine.dispose()


async def point_services_at(engine: AsyncEngine, public_url: str) -> None:
    """The copy's service endpoints (on `SEED_URL`) moved to the test's own server."""
    async with engine.begin() as conn:
        await conn.execute(
            update(services).values(
                endpoint_url=func.replace(services.c.endpoint_url, SEED_URL, public_url)
            )
        )
