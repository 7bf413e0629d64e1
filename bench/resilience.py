"""Micro-benchmarks of the resilience primitives on the inquiry path (ns per operation, one core).

Each figure is the median of three runs; the clock is the real ``time.monotonic``, so the
breaker and budget figures include the clock reads they make.  The awaited figures include
awaiting one coroutine (see ``empty_coroutine_awaited_baseline``).  Results:
bench/results/resilience.json.
"""

from __future__ import annotations

import asyncio
import json
import platform
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path

from panjereh.exchange.resilience import (
    AdmissionControl,
    Breakers,
    Bulkhead,
    CircuitBreaker,
    RetryBudget,
    call_with_retries,
)

RESULTS = Path(__file__).parent / "results" / "resilience.json"
NUMBER = 200_000


def measure(action: Callable[[], object], number: int = NUMBER) -> float:
    """Median ns per call over three runs."""
    runs = sorted(timeit.repeat(action, number=number, repeat=3))
    return round(runs[1] / number * 1e9, 1)


def measure_async(action: Callable[[], Awaitable[object]], number: int = NUMBER) -> float:
    """Median ns per awaited call over three runs."""

    async def many() -> float:
        started = time.perf_counter()
        for _ in range(number):
            await action()
        return time.perf_counter() - started

    runs = sorted(asyncio.run(many()) for _ in range(3))
    return round(runs[1] / number * 1e9, 1)


class Subjects:
    """One of each primitive, with the per-inquiry use of each as a method."""

    def __init__(self) -> None:
        self.breaker = CircuitBreaker()
        self.breakers = Breakers()
        for provider in range(200):
            self.breakers.get(provider)
        self.bulkhead = Bulkhead(128)
        self.admission = AdmissionControl(512)
        self.budget = RetryBudget()

    def breaker_allow_record(self) -> None:
        if self.breaker.allow():
            self.breaker.record(True)

    def breaker_check_record_with_ticket(self) -> None:
        self.breaker.record(True, self.breaker.check())

    def breakers_lookup_check_record(self) -> None:
        breaker = self.breakers.get(117)
        breaker.record(True, breaker.check())

    def admission_enter_leave(self) -> None:
        self.admission.enter()
        self.admission.leave()

    def admission_with_slot(self) -> None:
        with self.admission.slot():
            pass

    def bulkhead_try_acquire_release(self) -> None:
        self.bulkhead.try_acquire()
        self.bulkhead.release()

    def budget_record_request(self) -> None:
        self.budget.record_request()

    def budget_try_spend(self) -> None:
        self.budget.record_request()  # keeps the budget from running dry
        self.budget.try_spend()

    async def bulkhead_async_with_slot(self) -> None:
        async with self.bulkhead.slot():
            pass

    async def nothing(self, seconds_left: float = 0.0) -> int:
        return 200

    async def call_with_retries_first_attempt_succeeds(self) -> int:
        return await call_with_retries(
            self.nothing,
            deadline=time.monotonic() + 5.0,
            retryable=lambda outcome: False,
            attempts=2,
            budget=self.budget,
        )


def main() -> dict[str, float]:
    s = Subjects()
    results = {
        "breaker_allow_record": measure(s.breaker_allow_record),
        "breaker_check_record_with_ticket": measure(s.breaker_check_record_with_ticket),
        "breakers_lookup_check_record": measure(s.breakers_lookup_check_record),
        "admission_enter_leave": measure(s.admission_enter_leave),
        "admission_with_slot": measure(s.admission_with_slot),
        "bulkhead_try_acquire_release": measure(s.bulkhead_try_acquire_release),
        "budget_record_request": measure(s.budget_record_request),
        "budget_record_request_and_try_spend": measure(s.budget_try_spend),
        "empty_coroutine_awaited_baseline": measure_async(s.nothing),
        "bulkhead_async_with_slot_awaited": measure_async(s.bulkhead_async_with_slot),
        "call_with_retries_one_attempt_awaited": measure_async(
            s.call_with_retries_first_attempt_succeeds
        ),
    }
    report = {
        "unit": "nanoseconds per operation (median of 3)",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return results


if __name__ == "__main__":
    for name, value in main().items():
        print(f"{name:42} {value:8.1f} ns")
