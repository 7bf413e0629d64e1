"""Backup and restore (docs/operations.md, "Backup and restore"): a copy of a checkpointed
audit log, taken online (SQLite's backup API; pg_dump on PostgreSQL) and restored into a
fresh database, passes `panjereh audit verify --checkpoints` against the published
checkpoints; a restored copy that lost the last batch fails it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.audit_repo import SqlAuditStore
from tests.integration.cli.runner import Cli
from tests.integration.storage.test_audit_verify import _record

Backup = Callable[[str], Awaitable[None]]  # takes a backup named so, now
Restore = Callable[[str], Awaitable[str]]  # a fresh database from it: its URL


async def _sqlite_backup(database: str, to: Path) -> None:
    """The online backup API (what `sqlite3 FILE ".backup COPY"` runs), not a file copy:
    a live WAL database's file alone may miss committed pages."""

    def copy() -> None:
        source = sqlite3.connect(database)
        target = sqlite3.connect(to)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    await asyncio.to_thread(copy)


async def _run(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()


@asynccontextmanager
async def _restorer(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Backup, Restore]]:
    """backup(name) takes a backup now; restore(name) makes a fresh database from it and
    returns its URL.  Fresh PostgreSQL databases are dropped at the end."""
    url = make_url(database_url)
    made: list[str] = []
    if url.get_backend_name() == "sqlite":

        async def backup(name: str) -> None:
            await _sqlite_backup(str(url.database), tmp_path / f"{name}.backup")

        async def restore(name: str) -> str:
            fresh = tmp_path / f"restored-{name}.db"
            shutil.copyfile(tmp_path / f"{name}.backup", fresh)  # a closed file: a plain copy
            return f"sqlite+aiosqlite:///{fresh}"

        yield backup, restore
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed")
    libpq = url.set(drivername="postgresql")

    async def pg_backup(name: str) -> None:
        dsn = libpq.render_as_string(hide_password=False)
        await _run("pg_dump", "-Fc", "-f", str(tmp_path / f"{name}.dump"), dsn)

    async def pg_restore(name: str) -> str:
        database = f"test_d_restore_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(libpq.render_as_string(hide_password=False))
        try:
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        made.append(database)
        target = libpq.set(database=database).render_as_string(hide_password=False)
        await _run(
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "-d",
            target,
            str(tmp_path / f"{name}.dump"),
        )
        return url.set(database=database).render_as_string(hide_password=False)

    try:
        yield pg_backup, pg_restore
    finally:
        admin = await asyncpg.connect(libpq.render_as_string(hide_password=False))
        try:
            for database in made:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_a_restored_backup_verifies_and_one_that_lost_the_last_batch_does_not(
    cli: Cli,
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = SqlAuditStore(engine)
    async with _restorer(database_url, tmp_path) as (backup, restore):
        try:
            await store.append([_record(n) for n in range(1, 6)])
            assert (await cli("audit", "checkpoint")).code == 0
            await backup("early")  # the last backup before the last batch
            await store.append([_record(n) for n in range(6, 9)])
            assert (await cli("audit", "checkpoint")).code == 0
            await backup("full")
        finally:
            await store.close()
        published = (
            tmp_path / "checkpoints.json"
        )  # an auditor's copy (GET /api/v1/audit/checkpoints)
        exported = await cli("audit", "checkpoints")
        published.write_text(exported.out)

        monkeypatch.setenv("PANJEREH_DATABASE_URL", await restore("full"))
        whole = await cli("audit", "verify", "--checkpoints", str(published))
        assert whole.code == 0, whole.out
        assert whole.out.splitlines()[0] == (
            "8 records in 1 shards and 2 checkpoints checked; 0 problems"
        )

        monkeypatch.setenv("PANJEREH_DATABASE_URL", await restore("early"))
        short = await cli("audit", "verify", "--checkpoints", str(published))
        assert short.code == 1
        lines = short.out.splitlines()
        assert lines[0] == (
            "checkpoint-copy: checkpoint 2 is missing from the log: the log was rewritten"
        )
        assert lines[1].startswith("truncated: shard ")
        assert lines[1].endswith(
            ", #8: checkpoint 2 pinned this record as the shard's head; it is gone"
        )
