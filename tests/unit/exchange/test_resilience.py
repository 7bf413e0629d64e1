"""Breakers, bulkheads, retry budgets, retries and admission control, on a hand-moved clock."""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from panjereh.domain.errors import PanjerehError
from panjereh.exchange.resilience import (
    AdmissionControl,
    Backoff,
    Breakers,
    BreakerSettings,
    BreakerState,
    Bulkhead,
    BulkheadFull,
    Bulkheads,
    CircuitBreaker,
    CircuitOpen,
    LoopLag,
    Overloaded,
    Refused,
    RetryBudget,
    RetryBudgets,
    call_with_retries,
)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The state, read through a call so that mypy does not narrow it between reads."""
    return breaker.state


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record(False)


def succeed(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.allow()
        breaker.record(True)


def open_breaker(clock: FakeClock, **kwargs: float) -> CircuitBreaker:
    breaker = CircuitBreaker(BreakerSettings(**kwargs), clock=clock)  # type: ignore[arg-type]
    fail(breaker, 5)
    assert state_of(breaker) is BreakerState.OPEN
    return breaker


# --- errors ---------------------------------------------------------------------------------


def test_refusals_are_panjereh_errors_carrying_their_problem_type_and_retry_after() -> None:
    assert issubclass(Refused, PanjerehError)
    assert CircuitOpen(2.5, "x").problem_code == "circuit-open"
    assert BulkheadFull(1, "x").problem_code == "overloaded"
    assert Overloaded(0.2, "x").problem_code == "overloaded"
    assert CircuitOpen(2.5, "x").retry_after_header == "3"
    assert Overloaded(0.2, "x").retry_after_header == "1"
    assert Overloaded(-4, "x").retry_after == 0.0


def test_refusals_survive_pickling() -> None:
    copy = pickle.loads(pickle.dumps(CircuitOpen(2.5, "open")))  # noqa: S301 (our own bytes)
    assert isinstance(copy, CircuitOpen)
    assert (copy.retry_after, copy.detail) == (2.5, "open")


# --- circuit breaker ------------------------------------------------------------------------


def test_a_new_breaker_is_closed_and_lets_calls_through() -> None:
    breaker = CircuitBreaker(clock=FakeClock())
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.allow()
    assert breaker.retry_after == 0.0


def test_it_opens_after_five_consecutive_failures() -> None:
    breaker = CircuitBreaker(clock=FakeClock())
    fail(breaker, 4)
    assert state_of(breaker) is BreakerState.CLOSED
    fail(breaker, 1)
    assert state_of(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.rejected == 1


def test_a_success_resets_the_consecutive_failure_count() -> None:
    breaker = CircuitBreaker(clock=FakeClock())
    for _ in range(10):
        fail(breaker, 4)
        succeed(breaker, 10)  # keeps the failure rate under 50%
    assert state_of(breaker) is BreakerState.CLOSED


def test_it_opens_when_the_failure_rate_reaches_the_threshold_with_enough_calls() -> None:
    breaker = CircuitBreaker(clock=FakeClock())
    for _ in range(9):
        succeed(breaker, 1)
        fail(breaker, 1)
    succeed(breaker, 1)
    assert state_of(breaker) is BreakerState.CLOSED  # 9 of 19: too few calls and under 50%
    fail(breaker, 1)  # 10 of 20
    assert state_of(breaker) is BreakerState.OPEN


def test_a_high_failure_rate_does_not_open_it_below_the_minimum_number_of_calls() -> None:
    breaker = CircuitBreaker(BreakerSettings(consecutive_failures=100), clock=FakeClock())
    fail(breaker, 19)
    assert state_of(breaker) is BreakerState.CLOSED
    fail(breaker, 1)
    assert state_of(breaker) is BreakerState.OPEN


def test_the_failure_rate_counts_only_the_last_window() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerSettings(consecutive_failures=100), clock=clock)
    fail(breaker, 15)
    clock.advance(10.0)  # those failures leave the window
    succeed(breaker, 10)
    fail(breaker, 9)
    assert state_of(breaker) is BreakerState.CLOSED  # 9 of 19 in the window
    clock.advance(5.0)
    fail(breaker, 1)  # 10 of 20
    assert state_of(breaker) is BreakerState.OPEN


def test_successes_never_open_it() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock=clock)
    for _ in range(100):
        succeed(breaker, 3)
        clock.advance(0.37)
    assert state_of(breaker) is BreakerState.CLOSED


def test_an_open_breaker_refuses_until_its_time_is_up_and_tells_how_long_to_wait() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    assert breaker.retry_after == pytest.approx(5.0)
    clock.advance(3.0)
    assert not breaker.allow()
    assert breaker.retry_after == pytest.approx(2.0)
    with pytest.raises(CircuitOpen) as refused:
        breaker.check()
    assert refused.value.retry_after == pytest.approx(2.0)
    assert refused.value.retry_after_header == "2"


def test_it_turns_half_open_after_the_open_delay() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.advance(5.0)
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.retry_after == 0.0


def test_half_open_admits_only_one_probe_at_a_time_by_default() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.advance(5.0)
    assert breaker.allow()
    assert not breaker.allow()
    assert breaker.retry_after == 1.0
    with pytest.raises(CircuitOpen):
        breaker.check()


def test_half_open_admits_the_configured_number_of_probes() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock, half_open_probes=3)
    clock.advance(5.0)
    assert [breaker.allow() for _ in range(4)] == [True, True, True, False]


def test_a_successful_probe_closes_it() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record(True)
    assert state_of(breaker) is BreakerState.CLOSED
    fail(breaker, 4)  # the old failures were forgotten
    assert state_of(breaker) is BreakerState.CLOSED


def test_a_failed_probe_reopens_it_for_longer_each_time_up_to_the_cap() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock, open_for=5.0, open_for_factor=2.0, open_for_max=30.0)
    delays = []
    for _ in range(4):
        clock.advance(breaker.retry_after)
        assert breaker.allow()
        breaker.record(False)
        assert state_of(breaker) is BreakerState.OPEN
        delays.append(breaker.retry_after)
    assert delays == [10.0, 20.0, 30.0, 30.0]


def test_closing_resets_the_open_delay_to_its_base() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record(False)  # open for 10 s
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record(True)
    fail(breaker, 5)
    assert breaker.retry_after == 5.0


def test_a_released_probe_frees_its_slot_without_a_verdict() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.advance(5.0)
    assert breaker.allow()
    breaker.release()
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()


def test_late_results_of_calls_let_through_before_it_opened_are_ignored() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock=clock)
    assert breaker.allow()  # a slow call goes out
    fail(breaker, 5)
    breaker.record(True)  # the slow call comes back while open
    assert state_of(breaker) is BreakerState.OPEN
    clock.advance(5.0)
    breaker.record(True)  # ... or after, with no probe out
    assert state_of(breaker) is BreakerState.HALF_OPEN


def test_with_its_ticket_a_late_answer_from_before_the_opening_is_not_taken_for_the_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock=clock)
    slow = breaker.check()
    for _ in range(5):
        breaker.record(False, breaker.check())
    clock.advance(5.0)
    probe = breaker.check()
    breaker.record(True, slow)  # the slow call from before comes back
    breaker.release(slow)
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert not breaker.allow()  # the probe is still out
    breaker.record(False, probe)
    assert state_of(breaker) is BreakerState.OPEN


def test_it_reports_every_transition() -> None:
    clock = FakeClock()
    seen: list[BreakerState] = []
    breaker = CircuitBreaker(clock=clock, on_transition=seen.append)
    fail(breaker, 5)
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record(True)
    assert seen == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


@pytest.mark.parametrize(
    "bad",
    [
        {"consecutive_failures": 0},
        {"failure_rate": 0.0},
        {"failure_rate": 1.5},
        {"half_open_probes": 0},
        {"open_for": 0.0},
        {"open_for_factor": 0.5},
        {"open_for": 10.0, "open_for_max": 5.0},
    ],
)
def test_breaker_settings_refuse_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"."):
        BreakerSettings(**bad)  # type: ignore[arg-type]


def test_breakers_make_one_breaker_per_provider_with_overrides_and_report_states() -> None:
    clock = FakeClock()
    moves: list[tuple[Hashable, BreakerState]] = []
    breakers = Breakers(
        overrides={7: BreakerSettings(consecutive_failures=1)},
        clock=clock,
        on_transition=lambda key, state: moves.append((key, state)),
    )
    assert breakers.get(3) is breakers.get(3)
    fail(breakers.get(7), 1)
    fail(breakers.get(3), 1)
    assert breakers.states() == {3: BreakerState.CLOSED, 7: BreakerState.OPEN}
    assert moves == [(7, BreakerState.OPEN)]
    assert len(breakers) == 2


class BreakerMachine(RuleBasedStateMachine):
    """Any sequence of calls, answers (in any order) and waits keeps the breaker's promises."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.limit = 2
        self.breaker = CircuitBreaker(
            BreakerSettings(
                consecutive_failures=2,
                minimum_calls=4,
                open_for=1.0,
                open_for_max=4.0,
                half_open_probes=self.limit,
            ),
            clock=self.clock,
        )
        self.out: list[tuple[int, bool]] = []  # (ticket, let through in half-open)
        self.failures = 0

    @rule()
    def call(self) -> None:
        half_open = self.breaker.state is BreakerState.HALF_OPEN
        if not self.breaker.allow():
            assert self.breaker.retry_after > 0.0
            return
        self.out.append((self.breaker.epoch, half_open))

    @precondition(lambda self: bool(self.out))
    @rule(data=st.data(), success=st.booleans(), give_back=st.booleans())
    def answer(self, data: st.DataObject, success: bool, give_back: bool) -> None:
        ticket, _ = self.out.pop(data.draw(st.integers(0, len(self.out) - 1)))
        if give_back:
            self.breaker.release(ticket)
            return
        self.failures += not success
        self.breaker.record(success, ticket)

    @rule(seconds=st.floats(min_value=0.0, max_value=5.0))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def never_open_without_failures(self) -> None:
        if self.failures == 0:
            assert self.breaker.state is BreakerState.CLOSED

    @invariant()
    def never_more_probes_out_than_the_limit(self) -> None:
        if self.breaker.state is BreakerState.HALF_OPEN:
            current = self.breaker.epoch
            probes = sum(1 for ticket, _ in self.out if ticket == current)
            assert probes <= self.limit

    @invariant()
    def retry_after_is_never_negative(self) -> None:
        assert self.breaker.retry_after >= 0.0


TestBreakerMachine = BreakerMachine.TestCase
TestBreakerMachine.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)


# --- bulkhead -------------------------------------------------------------------------------


async def test_a_bulkhead_refuses_a_call_over_its_limit_at_once() -> None:
    bulkhead = Bulkhead(2, retry_after=0.5)
    async with bulkhead.slot(), bulkhead.slot():
        assert bulkhead.in_use == 2
        with pytest.raises(BulkheadFull) as refused:
            await bulkhead.acquire()
        assert refused.value.retry_after == 0.5
        assert bulkhead.refused == 1
    assert bulkhead.in_use == 0


async def test_a_bulkhead_releases_its_slot_when_the_call_raises() -> None:
    bulkhead = Bulkhead(1)
    with pytest.raises(ZeroDivisionError):
        async with bulkhead.slot():
            _ = 1 / 0
    assert bulkhead.in_use == 0
    assert bulkhead.try_acquire()


async def test_a_bulkhead_releases_its_slot_when_the_call_is_cancelled() -> None:
    bulkhead = Bulkhead(1)
    started = asyncio.Event()

    async def slow() -> None:
        async with bulkhead.slot():
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(slow())
    await started.wait()
    assert bulkhead.in_use == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert bulkhead.in_use == 0


async def test_a_waiting_bulkhead_hands_a_freed_slot_to_the_first_waiter() -> None:
    bulkhead = Bulkhead(1, max_wait=5.0)
    await bulkhead.acquire()
    waiter = asyncio.create_task(bulkhead.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    bulkhead.release()
    await waiter
    assert bulkhead.in_use == 1
    bulkhead.release()
    assert bulkhead.in_use == 0


async def test_a_waiting_bulkhead_refuses_after_max_wait() -> None:
    bulkhead = Bulkhead(1, max_wait=0.01)
    await bulkhead.acquire()
    with pytest.raises(BulkheadFull):
        await bulkhead.acquire()
    assert bulkhead.refused == 1
    bulkhead.release()
    assert bulkhead.in_use == 0
    assert bulkhead.try_acquire()


async def test_a_waiting_bulkhead_refuses_at_once_when_too_many_already_wait() -> None:
    bulkhead = Bulkhead(1, max_wait=5.0, max_waiters=1)
    await bulkhead.acquire()
    waiter = asyncio.create_task(bulkhead.acquire())
    await asyncio.sleep(0)
    with pytest.raises(BulkheadFull):
        await bulkhead.acquire()
    bulkhead.release()
    await waiter
    bulkhead.release()
    assert bulkhead.in_use == 0


async def test_a_cancelled_waiter_gives_up_its_place_and_loses_no_slot() -> None:
    bulkhead = Bulkhead(1, max_wait=5.0)
    await bulkhead.acquire()
    waiter = asyncio.create_task(bulkhead.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    bulkhead.release()
    assert bulkhead.in_use == 0
    assert bulkhead.try_acquire()


async def test_a_waiter_cancelled_just_after_being_handed_a_slot_passes_it_on() -> None:
    bulkhead = Bulkhead(1, max_wait=5.0, max_waiters=2)
    await bulkhead.acquire()
    first = asyncio.create_task(bulkhead.acquire())
    second = asyncio.create_task(bulkhead.acquire())
    await asyncio.sleep(0)
    bulkhead.release()  # hands the slot to `first` ...
    first.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await second
    assert bulkhead.in_use == 1
    bulkhead.release()
    assert bulkhead.in_use == 0


def test_releasing_a_bulkhead_more_than_acquired_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        Bulkhead(1).release()


def test_bulkheads_use_the_default_limit_unless_a_provider_has_its_own() -> None:
    bulkheads = Bulkheads(4, limits={"slow-agency": 1})
    assert bulkheads.get("civil-registry").limit == 4
    assert bulkheads.get("slow-agency").limit == 1
    assert bulkheads.get("slow-agency").try_acquire()
    assert not bulkheads.get("slow-agency").try_acquire()
    assert bulkheads.get("civil-registry").try_acquire()
    assert bulkheads.in_use() == {"civil-registry": 1, "slow-agency": 1}


# --- retry budget ---------------------------------------------------------------------------


def test_the_budget_allows_the_floor_then_a_fifth_of_the_requests() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_second=1.0, window=10.0, clock=clock)
    assert sum(budget.try_spend() for _ in range(20)) == 10  # the floor: 1/s over 10 s
    for _ in range(50):
        budget.record_request()
    assert sum(budget.try_spend() for _ in range(20)) == 10  # 20% of 50
    assert budget.refused == 20
    assert budget.retries == 20
    assert budget.requests == 50


def test_the_budget_refills_as_old_retries_leave_the_window() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, min_per_second=1.0, window=10.0, clock=clock)
    assert sum(budget.try_spend() for _ in range(15)) == 10
    clock.advance(5.0)
    assert not budget.try_spend()
    clock.advance(5.0)
    assert sum(budget.try_spend() for _ in range(15)) == 10


def test_a_budget_without_floor_or_ratio_allows_no_retry() -> None:
    budget = RetryBudget(ratio=0.0, min_per_second=0.0, clock=FakeClock())
    budget.record_request()
    assert not budget.try_spend()


def test_retry_budgets_are_kept_per_provider() -> None:
    budgets = RetryBudgets(ratio=0.0, min_per_second=0.1, clock=FakeClock())
    assert budgets.get(1).try_spend()
    assert not budgets.get(1).try_spend()
    assert budgets.get(2).try_spend()


# --- retries --------------------------------------------------------------------------------


class Flaky:
    """Fails with the given errors (or returns the given results) in turn, then answers 200."""

    def __init__(self, clock: FakeClock, *outcomes: int | Exception, takes: float = 0.1) -> None:
        self.clock = clock
        self.outcomes = list(outcomes)
        self.takes = takes
        self.calls: list[float] = []

    async def __call__(self, seconds_left: float) -> int:
        self.calls.append(seconds_left)
        self.clock.advance(self.takes)
        outcome = self.outcomes.pop(0) if self.outcomes else 200
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def retry_5xx_and_connection_errors(outcome: int | Exception) -> bool:
    if isinstance(outcome, Exception):
        return isinstance(outcome, ConnectionError)
    return outcome >= 500


NO_JITTER = Backoff(base=0.1, factor=2.0, cap=1.0, jitter=lambda: 1.0)


async def test_it_retries_a_retryable_failure_and_returns_the_answer() -> None:
    clock = FakeClock()
    call = Flaky(clock, ConnectionError(), 503)
    answer = await call_with_retries(
        call,
        deadline=clock() + 5.0,
        retryable=retry_5xx_and_connection_errors,
        attempts=3,
        backoff=NO_JITTER,
        clock=clock,
        sleep=clock.sleep,
    )
    assert answer == 200
    assert call.calls == pytest.approx([5.0, 4.8, 4.5])  # each attempt gets what is left


async def test_it_does_not_retry_a_non_retryable_error() -> None:
    clock = FakeClock()
    call = Flaky(clock, KeyError("no"))
    with pytest.raises(KeyError):
        await call_with_retries(
            call, deadline=clock() + 5.0, retryable=retry_5xx_and_connection_errors, attempts=3
        )
    assert len(call.calls) == 1


async def test_it_returns_a_non_retryable_answer_as_it_is() -> None:
    clock = FakeClock()
    call = Flaky(clock, 404)
    answer = await call_with_retries(
        call, deadline=clock() + 5.0, retryable=retry_5xx_and_connection_errors, clock=clock
    )
    assert answer == 404
    assert len(call.calls) == 1


async def test_it_gives_the_last_failure_when_attempts_run_out() -> None:
    clock = FakeClock()
    errors = Flaky(clock, ConnectionError("1"), ConnectionError("2"), ConnectionError("3"))
    with pytest.raises(ConnectionError, match="2"):
        await call_with_retries(
            errors,
            deadline=clock() + 5.0,
            retryable=retry_5xx_and_connection_errors,
            attempts=2,
            clock=clock,
            sleep=clock.sleep,
        )
    answers = Flaky(clock, 502, 503, 504)
    answer = await call_with_retries(
        answers,
        deadline=clock() + 5.0,
        retryable=retry_5xx_and_connection_errors,
        attempts=3,
        clock=clock,
        sleep=clock.sleep,
    )
    assert answer == 504


async def test_retries_stop_at_the_deadline() -> None:
    clock = FakeClock()
    call = Flaky(clock, *([ConnectionError()] * 10), takes=0.4)
    with pytest.raises(ConnectionError):
        await call_with_retries(
            call,
            deadline=clock() + 1.0,
            retryable=retry_5xx_and_connection_errors,
            attempts=10,
            backoff=NO_JITTER,
            clock=clock,
            sleep=clock.sleep,
        )
    # 0.4 + 0.1 wait + 0.4 = 0.9; the next wait (0.2) would pass the deadline
    assert len(call.calls) == 2
    assert clock() <= 1001.0


async def test_no_retry_starts_without_the_minimum_attempt_time_left() -> None:
    clock = FakeClock()
    call = Flaky(clock, 503, takes=0.5)
    answer = await call_with_retries(
        call,
        deadline=clock() + 1.0,
        retryable=retry_5xx_and_connection_errors,
        attempts=3,
        backoff=NO_JITTER,
        min_attempt_time=0.5,
        clock=clock,
        sleep=clock.sleep,
    )
    assert answer == 503
    assert len(call.calls) == 1


async def test_retries_stop_when_the_budget_is_spent_and_first_attempts_are_counted() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, min_per_second=0.1, window=10.0, clock=clock)  # 1 retry
    outcomes = [ConnectionError() for _ in range(10)]
    for expected_calls in (2, 1):
        call = Flaky(clock, *outcomes)
        with pytest.raises(ConnectionError):
            await call_with_retries(
                call,
                deadline=clock() + 5.0,
                retryable=retry_5xx_and_connection_errors,
                attempts=3,
                budget=budget,
                clock=clock,
                sleep=clock.sleep,
            )
        assert len(call.calls) == expected_calls
    assert budget.requests == 2


async def test_a_single_attempt_is_never_retried() -> None:
    clock = FakeClock()
    call = Flaky(clock, ConnectionError())
    with pytest.raises(ConnectionError):
        await call_with_retries(
            call, deadline=clock() + 5.0, retryable=retry_5xx_and_connection_errors, attempts=1
        )
    assert len(call.calls) == 1


async def test_cancellation_is_never_retried() -> None:
    calls = 0

    async def cancelled(seconds_left: float) -> int:
        nonlocal calls
        calls += 1
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await call_with_retries(
            cancelled, deadline=time.monotonic() + 5.0, retryable=lambda _: True, attempts=3
        )
    assert calls == 1


@given(retry=st.integers(min_value=1, max_value=30), jitter=st.floats(0.0, 1.0))
def test_backoff_stays_within_zero_and_the_cap(retry: int, jitter: float) -> None:
    backoff = Backoff(base=0.025, factor=2.0, cap=0.5, jitter=lambda: jitter)
    assert 0.0 <= backoff.delay(retry) <= 0.5


def test_backoff_doubles_until_the_cap() -> None:
    assert [NO_JITTER.delay(n) for n in range(1, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])


# --- admission control ----------------------------------------------------------------------


def test_admission_refuses_beyond_its_limit_and_admits_again_after_a_leave() -> None:
    admission = AdmissionControl(2, retry_after=2.0)
    admission.enter()
    admission.enter()
    assert admission.in_flight == 2
    with pytest.raises(Overloaded) as refused:
        admission.enter()
    assert refused.value.retry_after_header == "2"
    assert admission.refused == 1
    admission.leave()
    admission.enter()
    assert admission.in_flight == 2


def test_admission_lets_go_when_the_inquiry_raises() -> None:
    admission = AdmissionControl(1)
    with pytest.raises(KeyError), admission.slot():
        raise KeyError("boom")
    assert admission.in_flight == 0
    with admission.slot():
        assert admission.in_flight == 1


def test_admission_refuses_while_the_loop_lags() -> None:
    lag = LoopLag()
    admission = AdmissionControl(10, lag=lag, max_lag=0.2)
    lag.lag = 0.3
    assert not admission.try_enter()
    lag.lag = 0.1
    assert admission.try_enter()


def test_leaving_more_than_entered_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        AdmissionControl().leave()


async def test_loop_lag_measures_how_late_the_sleeper_wakes() -> None:
    clock = FakeClock()
    woken = asyncio.Event()

    async def late_sleep(seconds: float) -> None:
        clock.advance(seconds + 0.25)
        woken.set()
        await asyncio.sleep(0)

    lag = LoopLag(0.1, clock=clock, sleep=late_sleep)
    lag.start()
    await woken.wait()
    await asyncio.sleep(0)
    await lag.stop()
    assert lag.lag == pytest.approx(0.25)


async def test_loop_lag_sees_a_blocked_event_loop() -> None:
    lag = LoopLag(0.005)
    lag.start()
    await asyncio.sleep(0.01)
    time.sleep(0.05)  # blocks the loop, as a CPU-bound handler would
    for _ in range(3):
        await asyncio.sleep(0)  # the ticker wakes, 45 ms late
    await lag.stop()
    assert lag.lag >= 0.02
