"""The sign-in throttle's two homes, the database (SQLite, PostgreSQL) and Redis, held to the
same rules on a clock the tests move: five free failures, then locks that double up to 15
minutes, refusals counted (and written for the 1st, 2nd, 4th, ... of a lock), success and
lifting forget a key, a day without failures forgets it too; and every worker sees the same."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Settings
from panjereh.domain.clock import FixedClock
from panjereh.domain.events import EventOutcome
from panjereh.domain.throttle import (
    OBJECT_TYPE,
    KeyKind,
    Throttle,
    ThrottleKey,
    account_key,
    address_key,
)
from panjereh.storage.events_repo import events_for
from panjereh.storage.redis_state import connect
from panjereh.storage.redis_throttle import RedisThrottle
from panjereh.storage.tables import sign_in_throttle
from panjereh.storage.throttle import build_throttle
from panjereh.storage.throttle_repo import SqlThrottle
from panjereh.web.app import create_app

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PEPPER = b"a pepper of the throttle tests"
REASON = "test sign-in"
ACCOUNT = account_key("owner")
CODE = ThrottleKey(KeyKind.NATIONAL_CODE, "0012345679", "subject-hash-of-the-code")


async def stored_keys(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return len((await conn.execute(select(sign_in_throttle.c.key_id))).all())


async def delete_keys(client: Redis, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)


@pytest.fixture(params=["database", "redis"])
async def throttle(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[Throttle]:
    """The database throttle, or the Redis one with this test's own key prefix (its keys
    deleted afterwards)."""
    if request.param == "database":
        yield build_throttle(engine, None, pepper=PEPPER)
        return
    client = connect(str(request.getfixturevalue("redis_url")))
    prefix = f"pnj-test:{uuid.uuid4().hex[:12]}:"
    try:
        yield build_throttle(engine, client, pepper=PEPPER, prefix=prefix)
        assert await stored_keys(engine) == 0  # Redis answered: nothing fell back
    finally:
        await delete_keys(client, prefix)
        await client.aclose()


async def fail(throttle: Throttle, at: datetime, times: int = 1) -> float:
    retry = 0.0
    for _ in range(times):
        retry = (await throttle.fail([ACCOUNT], at, REASON)).retry_after
    return retry


async def test_five_failures_are_free_and_then_the_lock_doubles_to_fifteen_minutes(
    throttle: Throttle, engine: AsyncEngine
) -> None:
    clock = FixedClock(NOW)
    assert await fail(throttle, clock.now(), 5) == 0
    delays = []
    for _ in range(12):
        delays.append(await fail(throttle, clock.now()))
        clock.advance(delays[-1])
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    async with engine.connect() as conn:
        events = await events_for(conn, OBJECT_TYPE, "account:owner")
    assert [(e.action, e.outcome, e.actor) for e in events] == [
        ("sign-in-throttle.lock", EventOutcome.REFUSED, "anonymous")
    ] * 12
    assert [e.after["failures"] for e in events if e.after] == list(range(6, 18))


async def test_a_locked_key_is_refused_and_the_refusals_are_counted(
    throttle: Throttle, engine: AsyncEngine
) -> None:
    await fail(throttle, NOW, 6)
    verdicts = [await throttle.check([ACCOUNT, CODE], NOW, REASON) for _ in range(9)]
    assert [v.retry_after for v in verdicts] == [1.0] * 9
    assert [v.states[0].refusals for v in verdicts] == list(range(1, 10))
    assert verdicts[0].retry_after_header() == "1"
    later = NOW + timedelta(seconds=1)
    assert (await throttle.check([ACCOUNT, CODE], later, REASON)).allowed
    async with engine.connect() as conn:
        events = await events_for(conn, OBJECT_TYPE, "account:owner")
    refusals = [e.after["refusals"] for e in events if e.action.endswith("refuse") and e.after]
    assert refusals == [1, 2, 4, 8]  # every refusal counted, the 2**n-th written


async def test_a_success_forgets_a_key_and_so_does_a_day_without_failures(
    throttle: Throttle,
) -> None:
    await fail(throttle, NOW, 5)
    await throttle.succeed([ACCOUNT])
    assert await fail(throttle, NOW, 5) == 0  # counting starts again
    day_later = NOW + timedelta(days=1, seconds=1)
    assert await fail(throttle, day_later) == 0  # failure 1, not 6
    assert await fail(throttle, day_later, 5) == 1


async def test_an_operator_lifts_a_lock_by_its_id_and_it_is_recorded(
    throttle: Throttle, engine: AsyncEngine
) -> None:
    await throttle.fail([CODE], NOW, REASON)
    await fail(throttle, NOW, 7)
    listed = await throttle.lockouts(NOW)
    assert [(s.kind, s.label, s.failures) for s in listed] == [(KeyKind.ACCOUNT, "owner", 7)]
    lifted = await throttle.lift(listed[0].id, NOW, "user:operator", "verified by phone")
    assert lifted is not None
    assert lifted.failures == 7
    assert await throttle.lockouts(NOW) == []
    assert (await throttle.check([ACCOUNT], NOW, REASON)).allowed
    assert await throttle.lift(listed[0].id, NOW, "user:operator", "again") is None
    async with engine.connect() as conn:
        events = await events_for(conn, OBJECT_TYPE, "account:owner")
    lifts = [e for e in events if e.action == "sign-in-throttle.lift"]
    assert [(e.actor, e.reason, e.before and e.before["failures"]) for e in lifts] == [
        ("user:operator", "verified by phone", 7)
    ]


async def test_the_database_keeps_no_key_in_clear(engine: AsyncEngine) -> None:
    throttle = build_throttle(engine, None, pepper=PEPPER)
    await throttle.fail([CODE, address_key("203.0.113.9")], NOW, REASON)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(sign_in_throttle))).mappings().all()
    stored = " ".join(str(value) for row in rows for value in row.values())
    assert "0012345679" not in stored
    assert sorted(row["label"] for row in rows) == ["203.0.113.9", "subject-hash-of-the-code"]


async def test_without_redis_the_database_throttle_answers(engine: AsyncEngine) -> None:
    """Redis unreachable (nothing listens on the port): the database counts instead."""
    database = build_throttle(engine, None, pepper=PEPPER)
    assert isinstance(database, SqlThrottle)
    unreachable = RedisThrottle(connect("redis://127.0.0.1:9/0"), database)
    try:
        await fail(unreachable, NOW, 6)
        assert not (await unreachable.check([ACCOUNT], NOW, REASON)).allowed
        assert not (await database.check([ACCOUNT], NOW, REASON)).allowed
    finally:
        await unreachable._client.aclose()


@pytest.mark.parametrize("shared", ["database", "redis"])
async def test_two_app_instances_share_one_throttle(
    dev_settings: Settings, engine: AsyncEngine, shared: str, request: pytest.FixtureRequest
) -> None:
    """Two workers' apps over one database (and one Redis): a lock made by one holds in the
    other, and a lift in one lifts it in both."""
    settings = dev_settings
    if shared == "redis":
        settings = settings.model_copy(update={"redis_url": request.getfixturevalue("redis_url")})
    key = account_key(f"worker-test-{uuid.uuid4().hex[:8]}")
    one, two = create_app(settings), create_app(settings)
    try:
        for _ in range(6):
            await one.runtime.throttle.fail([key], NOW, REASON)
        refused = await two.runtime.throttle.check([key], NOW, REASON)
        assert refused.retry_after == 1
        assert refused.states[0].refusals == 1
        assert await stored_keys(engine) == (0 if shared == "redis" else 1)
        assert await two.runtime.throttle.lift(key, NOW, "user:operator", "test") is not None
        assert (await one.runtime.throttle.check([key], NOW, REASON)).allowed
    finally:
        for app in (one, two):
            await app.runtime.state.close()
            await app.runtime.engine.dispose()
