"""`panjereh audit verify --since --until` on SQLite and PostgreSQL: the window's records
verified from the trusted record before it, exit 1 only for tampering inside it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.storage.audit_repo import SqlAuditStore
from tests.integration.cli.runner import Cli
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_audit_verify import _record

# _record(n) is created at 2026-12-02T09:00:00Z + n seconds.


async def _ten(cli: Cli, engine: AsyncEngine) -> None:
    store = SqlAuditStore(engine)
    try:
        for low, high in ((1, 4), (4, 7), (7, 11)):
            await store.append([_record(n) for n in range(low, high)])
            assert (await cli("audit", "checkpoint")).code == 0
    finally:
        await store.close()


WINDOW = ("--since", "2026-12-02T09:00:04Z", "--until", "2026-12-02T12:30:07+03:30")


async def test_a_window_verifies_and_says_what_it_trusted(cli: Cli, engine: AsyncEngine) -> None:
    await _ten(cli, engine)
    done = await cli("audit", "verify", *WINDOW)
    assert done.code == 0, done.out
    lines = done.out.splitlines()
    assert lines[0] == "3 records in 1 shards and 1 checkpoints checked; 0 problems"
    assert ": last #6, head " in lines[1]
    assert lines[2] == (
        "window: records created from 2026-12-02T09:00:04.000000Z until 2026-12-02T09:00:07.000000Z"
    )
    assert lines[3].startswith("  shard ")
    assert ": #4 to #6, linked to #3, whose stored hash " in lines[3]
    assert lines[3].endswith(" (trusted)")
    assert lines[4] == (
        "a window check proves the window's records and their link to the record before it; "
        "run `panjereh audit verify` without --since/--until to prove the whole log"
    )


async def test_tampering_inside_the_window_exits_1_and_outside_it_0(
    cli: Cli, engine: AsyncEngine
) -> None:
    await _ten(cli, engine)
    await tamper(engine, "UPDATE audit_records SET status_code = 404 WHERE seq IN (2, 8)")
    assert (await cli("audit", "verify", *WINDOW)).code == 0
    assert (await cli("audit", "verify")).code == 1  # the full verify sees both
    await tamper(engine, "UPDATE audit_records SET status_code = 404 WHERE seq = 5")
    done = await cli("audit", "verify", *WINDOW)
    assert done.code == 1
    first = done.out.splitlines()[0]
    assert first.startswith("broken-link: shard ")
    assert f", #5 ({_record(5).exchange_id}): " in first
    assert "3 records in 1 shards and 1 checkpoints checked; 1 problems" in done.out


async def test_dates_alone_persian_digits_and_bad_input(cli: Cli, engine: AsyncEngine) -> None:
    await _ten(cli, engine)
    whole_day = await cli("audit", "verify", "--since", "۲۰۲۶-۱۲-۰۲", "--until", "2026-12-03")
    assert whole_day.code == 0
    assert whole_day.out.startswith("10 records in 1 shards and 3 checkpoints checked;")
    assert ": #1 to #10, linked to the shard's beginning (trusted)" in whole_day.out
    bad = await cli("audit", "verify", "--since", "yesterday")
    assert bad.code == 2
    assert "'yesterday' is not an ISO date or time" in bad.err
    backwards = await cli("audit", "verify", "--since", "2026-12-03", "--until", "2026-12-02")
    assert backwards.code == 2
    assert "--until must be later than --since" in backwards.err
