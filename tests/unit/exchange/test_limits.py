"""Per-grant rate limits (GCRA) and daily quotas that reset at midnight in Tehran."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from panjereh.domain.clock import FixedClock
from panjereh.exchange.limits import ADMITTED, Admission, MemoryLimiter, Refusal, TehranDay

# 20:30 UTC is midnight in Tehran (UTC+03:30 all year since 2022).
BEFORE_TEHRAN_MIDNIGHT = datetime(2026, 11, 28, 20, 29, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(BEFORE_TEHRAN_MIDNIGHT)


@pytest.fixture
def limiter(clock: FixedClock) -> MemoryLimiter:
    return MemoryLimiter(clock=clock, monotonic=lambda: clock.now().timestamp())


async def rate(limiter: MemoryLimiter, per_minute: int, burst: int | None = None) -> Admission:
    return await limiter.admit("grant-1", per_minute=per_minute, daily_quota=None, burst=burst)


async def quota(limiter: MemoryLimiter, daily: int, per_minute: int | None = None) -> Admission:
    return await limiter.admit("grant-1", per_minute=per_minute, daily_quota=daily, burst=1)


async def test_it_admits_exactly_the_burst_then_refuses_with_the_time_to_the_next_slot(
    limiter: MemoryLimiter,
) -> None:
    admitted = [await rate(limiter, 60, burst=5) for _ in range(5)]
    refused = await rate(limiter, 60, burst=5)
    assert admitted == [ADMITTED] * 5
    assert refused.refusal is Refusal.RATE_LIMITED
    assert refused.retry_after_s == pytest.approx(1.0)
    assert refused.retry_after == "1"


async def test_the_burst_defaults_to_the_per_minute_rate(limiter: MemoryLimiter) -> None:
    results = [(await rate(limiter, 30)).admitted for _ in range(31)]
    assert results == [True] * 30 + [False]


async def test_the_bucket_refills_one_inquiry_per_interval(
    limiter: MemoryLimiter, clock: FixedClock
) -> None:
    for _ in range(3):
        await rate(limiter, 6, burst=3)  # one every 10 s
    clock.advance(9.5)
    almost = await rate(limiter, 6, burst=3)
    assert not almost.admitted
    assert almost.retry_after_s == pytest.approx(0.5)
    assert almost.retry_after == "1"
    clock.advance(0.5)
    assert (await rate(limiter, 6, burst=3)).admitted
    assert not (await rate(limiter, 6, burst=3)).admitted
    clock.advance(60)
    assert [(await rate(limiter, 6, burst=3)).admitted for _ in range(4)] == [True] * 3 + [False]


async def test_refused_inquiries_do_not_push_the_next_slot_back(
    limiter: MemoryLimiter, clock: FixedClock
) -> None:
    await rate(limiter, 60, burst=1)
    for _ in range(10):
        assert not (await rate(limiter, 60, burst=1)).admitted
    clock.advance(1)
    assert (await rate(limiter, 60, burst=1)).admitted


async def test_grants_are_limited_independently(limiter: MemoryLimiter) -> None:
    await rate(limiter, 1)
    other = await limiter.admit("grant-2", per_minute=1, daily_quota=None)
    assert other.admitted
    assert not (await rate(limiter, 1)).admitted


async def test_no_limits_admit_everything(limiter: MemoryLimiter) -> None:
    for _ in range(1000):
        assert await limiter.admit("g", per_minute=None, daily_quota=None) is ADMITTED


async def test_the_quota_refuses_after_its_count_until_tehran_midnight(
    limiter: MemoryLimiter, clock: FixedClock
) -> None:
    assert [(await quota(limiter, 3)).admitted for _ in range(3)] == [True] * 3
    refused = await quota(limiter, 3)
    assert refused.refusal is Refusal.QUOTA_EXHAUSTED
    assert refused.retry_after_s == pytest.approx(30.0)  # 20:29:30 UTC -> 20:30:00 UTC
    assert refused.retry_after == "30"
    clock.advance(29)
    assert not (await quota(limiter, 3)).admitted
    clock.advance(1)  # 00:00 in Tehran
    assert [(await quota(limiter, 3)).admitted for _ in range(4)] == [True] * 3 + [False]


async def test_the_quota_counts_only_admitted_inquiries(
    limiter: MemoryLimiter, clock: FixedClock
) -> None:
    assert (await quota(limiter, 3, per_minute=60)).admitted
    for _ in range(5):  # rate-limited: not counted
        assert (await quota(limiter, 3, per_minute=60)).refusal is Refusal.RATE_LIMITED
    clock.advance(1)
    assert (await quota(limiter, 3, per_minute=60)).admitted
    clock.advance(1)
    assert (await quota(limiter, 3, per_minute=60)).admitted
    clock.advance(1)
    assert (await quota(limiter, 3, per_minute=60)).refusal is Refusal.QUOTA_EXHAUSTED


async def test_a_new_tehran_day_restores_the_quota_but_not_a_spent_rate_slot(
    limiter: MemoryLimiter, clock: FixedClock
) -> None:
    await quota(limiter, 1, per_minute=1)
    clock.advance(30)  # the day turns; the rate limit's slot is 30 s away
    assert (await quota(limiter, 1, per_minute=1)).refusal is Refusal.RATE_LIMITED


async def test_a_zero_quota_or_rate_refuses_everything(limiter: MemoryLimiter) -> None:
    assert (await quota(limiter, 0)).refusal is Refusal.QUOTA_EXHAUSTED
    assert (await rate(limiter, 0)).refusal is Refusal.RATE_LIMITED


def test_the_tehran_day_starts_at_20_30_utc() -> None:
    clock = FixedClock(BEFORE_TEHRAN_MIDNIGHT)
    day = TehranDay(clock)
    now = day.now()
    assert day.day == "20261128"
    assert day.ends_at == datetime(2026, 11, 28, 20, 30, tzinfo=UTC).timestamp()
    assert day.seconds_left(now) == 30
    clock.advance(30)
    day.now()
    assert day.day == "20261129"
    assert day.ends_at == datetime(2026, 11, 29, 20, 30, tzinfo=UTC).timestamp()


def test_the_tehran_day_has_no_summer_time_shift() -> None:
    day = TehranDay(FixedClock(datetime(2026, 6, 21, 20, 30, tzinfo=UTC)))
    day.now()
    assert day.day == "20260622"
    assert day.ends_at == datetime(2026, 6, 22, 20, 30, tzinfo=UTC).timestamp()


async def test_it_forgets_idle_callers_so_memory_stays_bounded(
    limiter: MemoryLimiter, clock: FixedClock
) -> None:
    for n in range(65_536):
        await limiter.admit(f"g{n}", per_minute=60, daily_quota=None)
    clock.advance(2)  # every bucket is full again: nothing to remember
    await limiter.admit("busy", per_minute=60, daily_quota=None)
    await limiter.admit("last", per_minute=60, daily_quota=None)
    assert len(limiter._tat) <= 2
