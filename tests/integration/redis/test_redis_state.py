"""The exchange's shared state on real Redis, and the same behaviours in process.

Each behaviour test runs against both sets from :func:`build_state` (``memory`` and
``redis``); the Redis ones skip unless PANJEREH_TEST_REDIS_URL is set.  Every test uses its own
key prefix and deletes its keys afterwards (never FLUSHDB: the database may be shared).
Time is real here (Redis keeps its own TTLs and GCRA uses the server's clock), so intervals
are tens of milliseconds; the wall clock, which decides the Tehran day, is pinned.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from panjereh.domain.clock import FixedClock
from panjereh.exchange.cache import StoredReply, cache_key
from panjereh.exchange.idempotency import Claim, IdempotencyRefusal, IdempotencyUnavailable
from panjereh.exchange.limits import ADMITTED, Refusal
from panjereh.storage.redis_state import RedisIdempotencyStore
from panjereh.storage.state import ExchangeState, build_state

CONSUMER = "social-security/benefits"
RID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
ANSWER = StoredReply(200, b'{"alive":true}', "application/json", (("x-exchange-id", "e-1"),))
BEFORE_TEHRAN_MIDNIGHT = datetime(2026, 11, 28, 20, 29, 59, tzinfo=UTC)

Factory = Callable[[], ExchangeState]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(BEFORE_TEHRAN_MIDNIGHT)


@pytest.fixture
def prefix() -> str:
    return f"pnj-test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def made(prefix: str) -> AsyncIterator[list[ExchangeState]]:
    """Every state a test builds; afterwards this test's keys are deleted and clients closed."""
    states: list[ExchangeState] = []
    yield states
    shared = [s.redis for s in states if s.redis is not None]
    if shared:
        keys = [k async for k in shared[0].scan_iter(match=f"{prefix}*")]
        if keys:
            await shared[0].delete(*keys)
    for state in states:
        await state.close()


def builder(url: str | None, clock: FixedClock, prefix: str, made: list[ExchangeState]) -> Factory:
    def build() -> ExchangeState:
        made.append(
            build_state(
                url, clock=clock, prefix=prefix, idempotency_ttl_s=0.3, idempotency_wait_s=2
            )
        )
        return made[-1]

    return build


@pytest.fixture
def workers(redis_url: str, clock: FixedClock, prefix: str, made: list[ExchangeState]) -> Factory:
    """Builds state objects sharing one Redis, as independent workers would."""
    return builder(redis_url, clock, prefix, made)


@pytest.fixture(params=["memory", "redis"])
def state(
    request: pytest.FixtureRequest, clock: FixedClock, prefix: str, made: list[ExchangeState]
) -> ExchangeState:
    url = None if request.param == "memory" else str(request.getfixturevalue("redis_url"))
    return builder(url, clock, prefix, made)()


# -- rate limits and quotas ------------------------------------------------------------------


async def test_it_admits_the_burst_then_refuses_until_the_bucket_refills(
    state: ExchangeState,
) -> None:
    async def ask() -> float | None:
        admission = await state.limiter.admit(
            "grant-1", per_minute=1200, daily_quota=None, burst=3
        )  # one every 50 ms
        return None if admission.admitted else admission.retry_after_s

    assert [await ask() for _ in range(3)] == [None] * 3
    wait = await ask()
    assert wait is not None
    assert 0 < wait <= 0.05
    await asyncio.sleep(wait + 0.01)
    assert await ask() is None
    assert await ask() is not None


async def test_the_quota_counts_only_admitted_inquiries_and_resets_at_tehran_midnight(
    state: ExchangeState, clock: FixedClock
) -> None:
    async def ask() -> Refusal | None:
        admission = await state.limiter.admit("grant-1", per_minute=1, daily_quota=2, burst=1)
        return admission.refusal

    assert await ask() is None
    assert await ask() is Refusal.RATE_LIMITED  # not counted
    assert await state.limiter.admit("grant-1", per_minute=None, daily_quota=2) is ADMITTED
    refused = await state.limiter.admit("grant-1", per_minute=None, daily_quota=2)
    assert refused.refusal is Refusal.QUOTA_EXHAUSTED
    assert refused.retry_after == "1"
    clock.advance(1)  # 00:00 in Tehran
    assert await state.limiter.admit("grant-1", per_minute=None, daily_quota=2) is ADMITTED


async def test_two_workers_share_one_rate_limit_and_one_quota(workers: Factory) -> None:
    first, second = workers(), workers()

    async def burst(key: str, per_minute: int | None, quota: int | None) -> int:
        results = await asyncio.gather(
            *(
                worker.limiter.admit(key, per_minute=per_minute, daily_quota=quota, burst=10)
                for worker in (first, second)
                for _ in range(40)
            )
        )
        return sum(r.admitted for r in results)

    assert await burst("rate", 60, None) == 10
    assert await burst("quota", None, 7) == 7
    assert await burst("both", 60, 4) == 4


# -- idempotency -----------------------------------------------------------------------------


async def claim(state: ExchangeState, digest: str = "d1") -> Claim:
    outcome = await state.idempotency.begin(CONSUMER, RID, digest)
    assert isinstance(outcome, Claim)
    return outcome


async def test_a_retry_replays_the_stored_answer_and_another_body_conflicts(
    state: ExchangeState,
) -> None:
    await state.idempotency.complete(await claim(state), ANSWER)
    assert await state.idempotency.begin(CONSUMER, RID, "d1") == ANSWER
    assert await state.idempotency.begin(CONSUMER, RID, "d2") is IdempotencyRefusal.CONFLICT
    assert isinstance(await state.idempotency.begin("other/system", RID, "d1"), Claim)


async def test_a_retry_while_the_first_runs_waits_and_replays(state: ExchangeState) -> None:
    first = await claim(state)
    retry = asyncio.create_task(state.idempotency.begin(CONSUMER, RID, "d1"))
    await asyncio.sleep(0.05)
    assert not retry.done()
    assert await state.idempotency.begin(CONSUMER, RID, "d2") is IdempotencyRefusal.CONFLICT
    await state.idempotency.complete(first, ANSWER)
    assert await asyncio.wait_for(retry, 1) == ANSWER


async def test_a_release_lets_a_retry_through(state: ExchangeState) -> None:
    first = await claim(state)
    retry = asyncio.create_task(state.idempotency.begin(CONSUMER, RID, "d1"))
    await asyncio.sleep(0.05)
    await state.idempotency.release(first)
    second = await asyncio.wait_for(retry, 1)
    assert isinstance(second, Claim)
    await state.idempotency.complete(first, StoredReply(500, b"lost claim"))  # ignored
    await state.idempotency.complete(second, ANSWER)
    assert await state.idempotency.begin(CONSUMER, RID, "d1") == ANSWER


async def test_a_stored_answer_expires_after_its_ttl(state: ExchangeState) -> None:
    await state.idempotency.complete(await claim(state), ANSWER)
    await asyncio.sleep(0.35)
    await claim(state)


async def test_a_key_claimed_by_one_worker_is_replayed_by_another(workers: Factory) -> None:
    first, second = workers(), workers()
    owner = await claim(first)
    waiting = asyncio.create_task(second.idempotency.begin(CONSUMER, RID, "d1"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await first.idempotency.complete(owner, ANSWER)
    assert await asyncio.wait_for(waiting, 1) == ANSWER
    assert await second.idempotency.begin(CONSUMER, RID, "d1") == ANSWER


def unix(clock: FixedClock) -> int:
    return int(clock.now().timestamp())


async def test_a_signature_created_before_the_store_started_is_refused_as_stale(
    state: ExchangeState, clock: FixedClock
) -> None:
    started = unix(clock)
    stale = await state.idempotency.begin(CONSUMER, RID, "d1", signed_at=started - 10)
    assert stale is IdempotencyRefusal.STALE
    clock.advance(1)
    assert isinstance(
        await state.idempotency.begin(CONSUMER, RID, "d1", signed_at=unix(clock)), Claim
    )


async def test_after_redis_loses_its_data_a_signature_made_before_is_refused(
    workers: Factory, clock: FixedClock, prefix: str
) -> None:
    state = workers()
    assert state.redis is not None
    await state.idempotency.begin(CONSUMER, str(uuid.uuid4()), "d0")  # the store's start
    clock.advance(1)
    signed = unix(clock)
    first = await state.idempotency.begin(CONSUMER, RID, "d1", signed_at=signed)
    assert isinstance(first, Claim)
    await state.idempotency.complete(first, ANSWER)
    assert await state.idempotency.begin(CONSUMER, RID, "d1", signed_at=signed) == ANSWER
    await state.redis.delete(*[k async for k in state.redis.scan_iter(match=f"{prefix}*")])
    clock.advance(5)  # Redis restarted empty (or was flushed) meanwhile
    replayed = await state.idempotency.begin(CONSUMER, RID, "d1", signed_at=signed)
    assert replayed is IdempotencyRefusal.STALE
    clock.advance(1)
    again = await state.idempotency.begin(CONSUMER, RID, "d1", signed_at=unix(clock))
    assert isinstance(again, Claim)  # signed anew after the restart: taken


async def test_a_worker_started_later_takes_fresh_signatures_made_before_its_own_start(
    workers: Factory, clock: FixedClock
) -> None:
    early = workers()
    await early.idempotency.begin(CONSUMER, str(uuid.uuid4()), "d0")  # the store's start
    clock.advance(30)
    signed = unix(clock)
    clock.advance(30)
    late = workers()  # starts 60 s after the store did; Redis still remembers
    outcome = await late.idempotency.begin(CONSUMER, RID, "d1", signed_at=signed)
    assert isinstance(outcome, Claim)
    await late.idempotency.complete(outcome, ANSWER)
    assert await early.idempotency.begin(CONSUMER, RID, "d1", signed_at=signed) == ANSWER


async def test_a_retry_on_another_worker_gives_up_waiting_after_the_wait_time(
    workers: Factory, prefix: str
) -> None:
    state = workers()
    assert state.redis is not None
    impatient = RedisIdempotencyStore(state.redis, prefix=prefix, wait_s=0.1, poll_s=0.02)
    await claim(state)
    outcome = await impatient.begin(CONSUMER, RID, "d1")
    assert outcome is IdempotencyRefusal.IN_PROGRESS


# -- the response cache ----------------------------------------------------------------------


def key(subject: str = "s1", projection: tuple[str, ...] | None = None) -> str:
    return cache_key("civil-registry.person.v1", subject, {"n": subject}, projection)


async def test_the_cache_serves_within_the_ttl_and_separates_subjects_and_projections(
    state: ExchangeState,
) -> None:
    await state.cache.put(key(projection=("first_name",)), ANSWER, 0.2)
    assert await state.cache.get(key(projection=("first_name",))) == ANSWER
    assert await state.cache.get(key(projection=None)) is None
    assert await state.cache.get(key(subject="s2", projection=("first_name",))) is None
    await asyncio.sleep(0.25)
    assert await state.cache.get(key(projection=("first_name",))) is None


async def test_the_cache_keeps_nothing_with_a_ttl_of_zero(state: ExchangeState) -> None:
    await state.cache.put(key(), ANSWER, 0)
    assert await state.cache.get(key()) is None


# -- Redis specifics -------------------------------------------------------------------------


async def test_every_key_is_namespaced_and_expires(workers: Factory, prefix: str) -> None:
    state = workers()
    await state.limiter.admit("grant-1", per_minute=60, daily_quota=10)
    await state.idempotency.complete(await claim(state), ANSWER)
    pending = await state.idempotency.begin(CONSUMER, str(uuid.uuid4()), "d1")
    assert isinstance(pending, Claim)
    await state.cache.put(key(), ANSWER, 60)
    assert state.redis is not None
    keys = sorted([k.decode() async for k in state.redis.scan_iter(match=f"{prefix}*")])
    kinds = sorted(k.removeprefix(prefix).split(":", 1)[0] for k in keys)
    assert kinds == ["cache", "idem", "idem", "idem-start", "q", "rl"]
    for name in keys:
        if name != f"{prefix}idem-start":  # the store's start: kept until Redis loses it
            assert await state.redis.pttl(name) > 0


async def test_the_health_check_tells_a_reachable_redis_from_an_unreachable_one(
    workers: Factory, clock: FixedClock
) -> None:
    assert await workers().ping()
    assert await build_state(None, clock=clock).ping()
    down = build_state("redis://127.0.0.1:1/0", clock=clock)
    try:
        assert not await down.ping()
    finally:
        await down.close()


async def test_without_redis_limits_fail_open_the_cache_misses_and_idempotency_refuses(
    clock: FixedClock,
) -> None:
    down = build_state("redis://127.0.0.1:1/0", clock=clock)
    try:
        assert await down.limiter.admit("g", per_minute=1, daily_quota=1) is ADMITTED
        await down.cache.put("k", ANSWER, 60)
        assert await down.cache.get("k") is None
        with pytest.raises(IdempotencyUnavailable):
            await down.idempotency.begin(CONSUMER, RID, "d1")
    finally:
        await down.close()
