"""`panjereh audit verify` against SQLite and PostgreSQL: exit 0 on an intact log, 1 and the
record named when one was changed."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.audit_repo import SqlAuditStore
from tests.integration.cli.runner import Cli
from tests.integration.storage.test_audit_verify import _record


async def _write(engine: AsyncEngine, count: int) -> None:
    store = SqlAuditStore(engine)
    try:
        await store.append([_record(n) for n in range(1, count + 1)])
    finally:
        await store.close()


async def test_an_intact_log_verifies(cli: Cli, engine: AsyncEngine) -> None:
    await _write(engine, 5)
    done = await cli("audit", "verify")
    assert done.code == 0
    lines = done.out.splitlines()
    assert lines[0] == "5 records in 1 shards checked; 0 problems"
    assert lines[1].startswith("  shard ")
    assert ": last #5, head " in lines[1]


async def test_a_changed_record_is_named_and_the_exit_status_is_1(
    cli: Cli, engine: AsyncEngine
) -> None:
    await _write(engine, 5)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE audit_records SET status_code = 404 WHERE seq = 3"))
    done = await cli("audit", "verify")
    assert done.code == 1
    first = done.out.splitlines()[0]
    assert first.startswith("broken-link: shard ")
    assert f", #3 ({_record(3).exchange_id}): " in first
    assert "5 records in 1 shards checked; 1 problems" in done.out
