"""Resilience of the data plane: breakers, bulkheads, retry budgets and load shedding.

Every inquiry passes through these, thousands of times a second on one core, so each step is a
few attribute reads and integer updates (about a microsecond): no locks (one event loop per
process), no allocation on the fast path, no clock read where the state does not need one.
Clocks are injected (``Callable[[], float]``, monotonic seconds) so tests move time by hand.

What counts as a failure is the caller's choice: timeouts, connection errors and 5xx answers
are the provider's fault; a 4xx answer is a working provider saying no.  A refusal is one of
the small :class:`Refused` errors below, each with a ``retry_after`` in seconds and the
problem type the exchange answers with.  docs/exchange-resilience.md describes the defaults.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, ItemsView, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import ClassVar, Generic, TypeVar

from panjereh.domain.errors import PanjerehError

__all__ = [
    "AdmissionControl",
    "Backoff",
    "BreakerSettings",
    "BreakerState",
    "Breakers",
    "Bulkhead",
    "BulkheadFull",
    "Bulkheads",
    "CircuitBreaker",
    "CircuitOpen",
    "LoopLag",
    "Overloaded",
    "PerProvider",
    "Refused",
    "RetryBudget",
    "RetryBudgets",
    "call_with_retries",
]

T = TypeVar("T")
Clock = Callable[[], float]

#: What a consumer is told to wait when a half-open breaker already has its probes out.
HALF_OPEN_RETRY_AFTER = 1.0


# --- errors -----------------------------------------------------------------------------------


class Refused(PanjerehError):
    """The exchange refused to forward an inquiry now; the consumer may retry after a while."""

    problem_code: ClassVar[str] = "overloaded"

    def __init__(self, retry_after: float, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = max(0.0, retry_after)
        self.detail = detail

    def __reduce__(self) -> tuple[type[Refused], tuple[float, str]]:
        # Two constructor arguments defeat the default exception pickling (workers, logs).
        return (type(self), (self.retry_after, self.detail))

    @property
    def retry_after_header(self) -> str:
        """The ``Retry-After`` value: whole seconds, at least 1 (RFC 9110 allows no fractions)."""
        return str(max(1, math.ceil(self.retry_after)))


class CircuitOpen(Refused):
    """The provider's breaker is open (or its half-open probes are out): 503 ``circuit-open``."""

    problem_code = "circuit-open"


class BulkheadFull(Refused):
    """The provider already has its limit of inquiries in flight: 503 ``overloaded``."""


class Overloaded(Refused):
    """This worker has its limit of inquiries in flight or its loop lags: 503 ``overloaded``."""


# --- rolling window ---------------------------------------------------------------------------


class _Window:
    """Two counters (``a``, ``b``) summed over the last ``seconds``, kept in ``buckets`` slots.

    The sums are kept up to date as buckets expire, so reading them costs nothing; the window
    covers the current (partial) bucket and the ``buckets - 1`` before it.
    """

    __slots__ = ("_size", "a", "a_buckets", "b", "b_buckets", "index", "per_second", "tick")

    def __init__(self, seconds: float, buckets: int, now: float) -> None:
        self.per_second = buckets / seconds
        self._size = buckets
        self.a_buckets = [0] * buckets
        self.b_buckets = [0] * buckets
        self.tick = int(now * self.per_second)
        self.index = self.tick % buckets
        self.a = 0
        self.b = 0

    def add(self, now: float, a: int, b: int) -> None:
        tick = int(now * self.per_second)
        if tick > self.tick:
            self.roll(tick)
        i = self.index
        self.a_buckets[i] += a
        self.b_buckets[i] += b
        self.a += a
        self.b += b

    def advance(self, now: float) -> None:
        tick = int(now * self.per_second)
        if tick > self.tick:
            self.roll(tick)

    def clear(self) -> None:
        for i in range(self._size):
            self.a_buckets[i] = self.b_buckets[i] = 0
        self.a = self.b = 0

    def roll(self, tick: int) -> None:
        if tick - self.tick >= self._size:
            self.clear()
        else:
            for t in range(self.tick + 1, tick + 1):
                i = t % self._size
                self.a -= self.a_buckets[i]
                self.b -= self.b_buckets[i]
                self.a_buckets[i] = self.b_buckets[i] = 0
        self.tick = tick
        self.index = tick % self._size


# --- circuit breaker --------------------------------------------------------------------------


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


# Reading an enum member off its class costs ~80 ns on Python 3.11; module globals ~10 ns.
_CLOSED = BreakerState.CLOSED
_OPEN = BreakerState.OPEN
_HALF_OPEN = BreakerState.HALF_OPEN


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """When a breaker opens and how it comes back; the defaults are docs/exchange-resilience.md."""

    consecutive_failures: int = 5
    failure_rate: float = 0.5  # opens when failures / calls >= this over the window ...
    minimum_calls: int = 20  # ... and the window holds at least this many calls
    window: float = 10.0
    buckets: int = 10
    open_for: float = 5.0
    open_for_factor: float = 2.0  # each failed probe multiplies the open time ...
    open_for_max: float = 60.0  # ... up to this
    half_open_probes: int = 1

    def __post_init__(self) -> None:
        if self.consecutive_failures < 1 or self.minimum_calls < 1 or self.half_open_probes < 1:
            raise ValueError("breaker counts must be at least 1")
        if not 0.0 < self.failure_rate <= 1.0:
            raise ValueError("failure_rate must be in (0, 1]")
        if self.window <= 0 or self.buckets < 1 or self.open_for <= 0:
            raise ValueError("window, buckets and open_for must be positive")
        if self.open_for_factor < 1.0 or self.open_for_max < self.open_for:
            raise ValueError("open_for_factor must be >= 1 and open_for_max >= open_for")


Transition = Callable[[BreakerState], None]


class CircuitBreaker:
    """One provider system's breaker.

    Closed: every call goes; it opens after ``consecutive_failures`` failures in a row, or when
    the failure rate over the window reaches ``failure_rate`` with at least ``minimum_calls``
    calls.  Open: nothing goes for ``open_for`` seconds.  Half-open: at most
    ``half_open_probes`` calls at a time; a successful probe closes it, a failed one opens it
    again for ``open_for_factor`` times longer (capped at ``open_for_max``).

    Call :meth:`allow` (or :meth:`check`) before the call and exactly one of :meth:`record` or
    :meth:`release` after it.  Answers that arrive while the breaker is open are ignored; with
    the ticket :meth:`check` returns, so are answers to calls let through in an earlier state
    (without it, such a late answer in half-open is taken for the probe's).
    """

    __slots__ = (
        "_clock",
        "_consecutive",
        "_current_open_for",
        "_epoch",
        "_on_transition",
        "_open_until",
        "_probes",
        "_settings",
        "_state",
        "_window",
        "rejected",
    )

    def __init__(
        self,
        settings: BreakerSettings | None = None,
        *,
        clock: Clock = time.monotonic,
        on_transition: Transition | None = None,
    ) -> None:
        self._settings = settings = settings or BreakerSettings()
        self._clock = clock
        self._on_transition = on_transition
        self._state = _CLOSED
        self._window = _Window(settings.window, settings.buckets, clock())
        self._consecutive = 0
        self._epoch = 0
        self._probes = 0
        self._open_until = 0.0
        self._current_open_for = settings.open_for
        self.rejected = 0  # calls refused, for metrics

    @property
    def settings(self) -> BreakerSettings:
        return self._settings

    @property
    def epoch(self) -> int:
        """How many transitions so far; :meth:`check` tickets are the epoch of their call."""
        return self._epoch

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose time is up reads, and becomes, half-open)."""
        if self._state is _OPEN and self._clock() >= self._open_until:
            self._move(_HALF_OPEN)
        return self._state

    @property
    def retry_after(self) -> float:
        """Seconds until a call could be let through again; 0 if one would be now."""
        state = self.state
        if state is _OPEN:
            return max(0.0, self._open_until - self._clock())
        if state is _HALF_OPEN and self._probes >= self._settings.half_open_probes:
            return HALF_OPEN_RETRY_AFTER
        return 0.0

    def allow(self) -> bool:
        """May a call go to the provider now?  A True in half-open takes a probe slot."""
        state = self._state
        if state is _CLOSED:
            return True
        if state is _OPEN:
            if self._clock() < self._open_until:
                self.rejected += 1
                return False
            self._move(_HALF_OPEN)
        if self._probes < self._settings.half_open_probes:
            self._probes += 1
            return True
        self.rejected += 1
        return False

    def check(self) -> int:
        """:meth:`allow`, raising :class:`CircuitOpen` on a refusal; returns the call's ticket.

        Pass the ticket to :meth:`record` / :meth:`release` so that a late answer to a call
        let through in an earlier state (before the breaker opened) is ignored.
        """
        if self._state is _CLOSED or self.allow():
            return self._epoch
        raise CircuitOpen(self.retry_after, "The provider is failing; the exchange waits.")

    def record(self, success: bool, ticket: int | None = None) -> None:
        """The outcome of a call :meth:`allow` let through (``ticket`` from :meth:`check`)."""
        if ticket is not None and ticket != self._epoch:
            return
        state = self._state
        if state is _CLOSED:
            window = self._window
            if success:  # the common case, inlined
                self._consecutive = 0
                tick = int(self._clock() * window.per_second)
                if tick > window.tick:
                    window.roll(tick)
                window.a_buckets[window.index] += 1
                window.a += 1
                return
            self._consecutive += 1
            now = self._clock()
            window.add(now, 1, 1)
            s = self._settings
            if self._consecutive >= s.consecutive_failures or (
                window.a >= s.minimum_calls and window.b >= s.failure_rate * window.a
            ):
                self._open(now, s.open_for)
        elif state is _HALF_OPEN and self._probes > 0:
            self._probes -= 1
            if success:
                self._close()
            else:
                s = self._settings
                longer = min(s.open_for_max, self._current_open_for * s.open_for_factor)
                self._open(self._clock(), longer)

    def release(self, ticket: int | None = None) -> None:
        """Give back a call without a verdict (cancelled, or refused before it was sent)."""
        if ticket is not None and ticket != self._epoch:
            return
        if self._state is _HALF_OPEN and self._probes > 0:
            self._probes -= 1

    def _open(self, now: float, open_for: float) -> None:
        self._current_open_for = open_for
        self._open_until = now + open_for
        self._probes = 0
        self._move(_OPEN)

    def _close(self) -> None:
        self._window.clear()
        self._consecutive = 0
        self._current_open_for = self._settings.open_for
        self._move(_CLOSED)

    def _move(self, state: BreakerState) -> None:
        self._state = state
        self._epoch += 1
        if self._on_transition is not None:
            self._on_transition(state)


# --- keyed collections ------------------------------------------------------------------------


class PerProvider(Generic[T]):
    """One ``T`` per provider system id, made on first use."""

    __slots__ = ("_factory", "_items")

    def __init__(self, factory: Callable[[Hashable], T]) -> None:
        self._factory = factory
        self._items: dict[Hashable, T] = {}

    def get(self, key: Hashable) -> T:
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = self._factory(key)
        return item

    def items(self) -> ItemsView[Hashable, T]:
        return self._items.items()

    def __len__(self) -> int:
        return len(self._items)


class Breakers(PerProvider[CircuitBreaker]):
    """A breaker per provider system, all with ``settings`` unless ``overrides`` say otherwise."""

    __slots__ = ()

    def __init__(
        self,
        settings: BreakerSettings | None = None,
        *,
        overrides: Mapping[Hashable, BreakerSettings] | None = None,
        clock: Clock = time.monotonic,
        on_transition: Callable[[Hashable, BreakerState], None] | None = None,
    ) -> None:
        shared = settings or BreakerSettings()
        special = dict(overrides or {})

        def make(key: Hashable) -> CircuitBreaker:
            hook = None
            if on_transition is not None:

                def hook(state: BreakerState) -> None:
                    on_transition(key, state)

            return CircuitBreaker(special.get(key, shared), clock=clock, on_transition=hook)

        super().__init__(make)

    def states(self) -> dict[Hashable, BreakerState]:
        """Every known breaker's state, for metrics and the operator's health page."""
        return {key: breaker.state for key, breaker in self.items()}


# --- bulkhead ---------------------------------------------------------------------------------


class Bulkhead:
    """At most ``limit`` calls in flight to one provider; the next one is refused at once.

    With ``max_wait > 0`` a call over the limit waits up to that long for a slot (at most
    ``max_waiters`` of them, first come first served) before it is refused.  ``async with
    bulkhead.slot():`` releases on every exit, cancellation included.
    """

    __slots__ = ("_waiters", "in_use", "limit", "max_wait", "max_waiters", "refused", "retry_after")

    def __init__(
        self,
        limit: int,
        *,
        max_wait: float = 0.0,
        max_waiters: int | None = None,
        retry_after: float = 1.0,
    ) -> None:
        if limit < 1 or max_wait < 0:
            raise ValueError("a bulkhead needs a limit of at least 1 and max_wait >= 0")
        self.limit = limit
        self.max_wait = max_wait
        self.max_waiters = limit if max_waiters is None else max_waiters
        self.retry_after = retry_after
        self.in_use = 0
        self.refused = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        if self.in_use < self.limit:
            self.in_use += 1
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, or raise :class:`BulkheadFull`."""
        if self.in_use < self.limit:
            self.in_use += 1
            return
        if self.max_wait > 0 and len(self._waiters) < self.max_waiters:
            await self._wait()
            return
        self.refused += 1
        raise BulkheadFull(self.retry_after, "Too many inquiries are in flight to this provider.")

    def release(self) -> None:
        """Give the slot back; a waiting call, if any, takes it over directly."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        if self.in_use <= 0:
            raise RuntimeError("bulkhead released more often than acquired")
        self.in_use -= 1

    def slot(self) -> Bulkhead:
        """``async with bulkhead.slot():`` (the bulkhead is its own context manager)."""
        return self

    async def __aenter__(self) -> None:
        if self.in_use < self.limit:  # the fast path, without the extra coroutine
            self.in_use += 1
            return
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    async def _wait(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.max_wait):
                await waiter
        except TimeoutError:
            self._abandon(waiter)
            self.refused += 1
            raise BulkheadFull(
                self.retry_after, "Too many inquiries are in flight to this provider."
            ) from None
        except BaseException:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled():
            self.release()  # the slot was handed over just as we gave up: pass it on
            return
        waiter.cancel()
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)


class Bulkheads(PerProvider[Bulkhead]):
    """A bulkhead per provider system: ``default_limit`` unless ``limits`` names the provider."""

    __slots__ = ()

    def __init__(
        self,
        default_limit: int = 128,
        *,
        limits: Mapping[Hashable, int] | None = None,
        max_wait: float = 0.0,
        retry_after: float = 1.0,
    ) -> None:
        special = dict(limits or {})

        def make(key: Hashable) -> Bulkhead:
            limit = special.get(key, default_limit)
            return Bulkhead(limit, max_wait=max_wait, retry_after=retry_after)

        super().__init__(make)

    def in_use(self) -> dict[Hashable, int]:
        return {key: bulkhead.in_use for key, bulkhead in self.items()}


# --- retries ----------------------------------------------------------------------------------


class RetryBudget:
    """Retries may be at most ``ratio`` of recent requests, plus ``min_per_second`` (Finagle).

    Over the rolling ``window``: retries <= ratio x requests + min_per_second x window.  A
    failing provider thus sees at most ~20% more load from retries, never a retry storm.
    """

    __slots__ = ("_clock", "_floor", "_ratio", "_window", "refused")

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        min_per_second: float = 10.0,
        window: float = 10.0,
        buckets: int = 10,
        clock: Clock = time.monotonic,
    ) -> None:
        if ratio < 0 or min_per_second < 0:
            raise ValueError("ratio and min_per_second must not be negative")
        self._ratio = ratio
        self._floor = min_per_second * window
        self._clock = clock
        self._window = _Window(window, buckets, clock())
        self.refused = 0

    def record_request(self) -> None:
        """One first attempt (not a retry)."""
        window = self._window  # _Window.add, inlined: this runs on every inquiry
        tick = int(self._clock() * window.per_second)
        if tick > window.tick:
            window.roll(tick)
        window.a_buckets[window.index] += 1
        window.a += 1

    def try_spend(self) -> bool:
        """Take one retry from the budget, if it holds one."""
        now = self._clock()
        window = self._window
        window.advance(now)
        if window.b + 1 <= self._ratio * window.a + self._floor:
            window.add(now, 0, 1)
            return True
        self.refused += 1
        return False

    @property
    def requests(self) -> int:
        self._window.advance(self._clock())
        return self._window.a

    @property
    def retries(self) -> int:
        self._window.advance(self._clock())
        return self._window.b


class RetryBudgets(PerProvider[RetryBudget]):
    """A retry budget per provider system, so one failing agency spends only its own."""

    __slots__ = ()

    def __init__(
        self,
        *,
        ratio: float = 0.2,
        min_per_second: float = 10.0,
        window: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        def make(key: Hashable) -> RetryBudget:
            return RetryBudget(
                ratio=ratio, min_per_second=min_per_second, window=window, clock=clock
            )

        super().__init__(make)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits U(0, 1) x min(cap, base x factor^n)."""

    base: float = 0.025
    factor: float = 2.0
    cap: float = 0.5
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1 for the first retry)."""
        return self.jitter() * min(self.cap, self.base * self.factor ** (retry - 1))


async def call_with_retries(
    call: Callable[[float], Awaitable[T]],
    *,
    deadline: float,
    retryable: Callable[[T | Exception], bool],
    attempts: int = 2,
    budget: RetryBudget | None = None,
    backoff: Backoff | None = None,
    min_attempt_time: float = 0.0,
    clock: Clock = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Call ``call(seconds_left)`` up to ``attempts`` times, never past ``deadline``.

    ``retryable`` sees each exception or result: a retryable exception on the last attempt is
    raised, a retryable result is returned.  A retry happens only if its backoff still leaves
    ``min_attempt_time`` before ``deadline`` and ``budget`` holds a retry; the first attempt is
    counted in ``budget``.  Cancellation is never retried.  Pass ``attempts=1`` for a service
    that is not idempotent, so that it is still counted in the budget.
    """
    backoff = backoff or _DEFAULT_BACKOFF
    if budget is not None:
        budget.record_request()
    attempt = 1
    while True:
        try:
            result = await call(deadline - clock())
        except Exception as exc:
            if not retryable(exc):
                raise
            delay = _retry_delay(attempt, attempts, backoff, deadline, min_attempt_time, clock)
            if delay is None or (budget is not None and not budget.try_spend()):
                raise
        else:
            if not retryable(result):
                return result
            delay = _retry_delay(attempt, attempts, backoff, deadline, min_attempt_time, clock)
            if delay is None or (budget is not None and not budget.try_spend()):
                return result
        await sleep(delay)
        attempt += 1


_DEFAULT_BACKOFF = Backoff()


def _retry_delay(
    attempt: int, attempts: int, backoff: Backoff, deadline: float, least: float, clock: Clock
) -> float | None:
    """The wait before the next attempt, or None if there is no next attempt."""
    if attempt >= attempts:
        return None
    delay = backoff.delay(attempt)
    if clock() + delay + least >= deadline:
        return None
    return delay


# --- admission control (load shedding) --------------------------------------------------------


class LoopLag:
    """How late the event loop wakes a sleeper, in seconds: a saturated loop answers late.

    Run :meth:`run` as a background task (or :meth:`start` it); read :attr:`lag`.
    """

    __slots__ = ("_clock", "_sleep", "_task", "interval", "lag")

    def __init__(
        self,
        interval: float = 0.1,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.lag = 0.0
        self._clock = clock
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        clock = self._clock or asyncio.get_running_loop().time
        while True:
            started = clock()
            await self._sleep(self.interval)
            self.lag = max(0.0, clock() - started - self.interval)

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="loop-lag")
        return self._task

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class AdmissionControl:
    """At most ``limit`` inquiries in flight in this worker; beyond that, refuse at once.

    A refused inquiry costs the worker almost nothing, where a queued one would wait for
    everyone ahead of it and time out anyway.  With a :class:`LoopLag` and ``max_lag``, also
    refuse while the event loop is late by more than ``max_lag`` seconds.  ``with
    admission.slot():`` or :meth:`enter` / :meth:`leave`.
    """

    __slots__ = ("_lag", "in_flight", "limit", "max_lag", "refused", "retry_after")

    def __init__(
        self,
        limit: int = 512,
        *,
        retry_after: float = 1.0,
        lag: LoopLag | None = None,
        max_lag: float = 0.5,
    ) -> None:
        if limit < 1:
            raise ValueError("admission needs a limit of at least 1")
        self.limit = limit
        self.retry_after = retry_after
        self.max_lag = max_lag
        self._lag = lag
        self.in_flight = 0
        self.refused = 0

    def try_enter(self) -> bool:
        if self.in_flight >= self.limit or (self._lag is not None and self._lag.lag > self.max_lag):
            self.refused += 1
            return False
        self.in_flight += 1
        return True

    def enter(self) -> None:
        """Admit one inquiry or raise :class:`Overloaded`."""
        if not self.try_enter():
            raise Overloaded(self.retry_after, "The exchange is overloaded; retry shortly.")

    def leave(self) -> None:
        if self.in_flight <= 0:
            raise RuntimeError("admission left more often than entered")
        self.in_flight -= 1

    def slot(self) -> AdmissionControl:
        """``with admission.slot():`` (admission control is its own context manager)."""
        return self

    def __enter__(self) -> None:
        self.enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.leave()
