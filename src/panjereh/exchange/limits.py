"""Per-grant rate limits and daily quotas: may this inquiry go on, and if not, for how long not.

A grant may carry ``rate_limit_per_minute`` and ``daily_quota``.  The exchange asks a
:class:`Limiter` once per inquiry, after authorization, with both numbers; the answer is
:data:`ADMITTED` or a refusal with the seconds the caller should wait (``Retry-After``).

- **Rate limit**: GCRA (the generic cell rate algorithm, a token bucket stored as one number,
  the "theoretical arrival time").  ``N`` per minute means one inquiry every ``60/N`` s on
  average, with a burst of ``burst`` inquiries (``N`` unless given) when the caller has been
  quiet.  A caller that has been idle can therefore send ``burst`` inquiries at once and then
  one every ``60/N`` s.
- **Daily quota**: at most ``daily_quota`` *admitted* inquiries per Tehran calendar day.  The
  day starts at midnight Asia/Tehran (20:30 UTC the day before; Iran has kept UTC+03:30 all
  year since 2022), so a quota refused at 23:00 Tehran time is restored an hour later.  A
  refused inquiry (rate-limited or over quota) does not count.

Both checks happen together: an inquiry is admitted only when both allow it, and only then is
it counted by both.  This module is the in-process implementation for a single worker; the
Redis one (:mod:`panjereh.storage.redis_state`) is shared by several workers and keeps the
same contract.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from enum import StrEnum
from typing import Final, Protocol

from panjereh.domain.clock import Clock
from panjereh.domain.errors import PanjerehError
from panjereh.domain.jalali import TEHRAN

__all__ = [
    "ADMITTED",
    "NO_RATE",
    "Admission",
    "Limiter",
    "LimiterUnavailable",
    "MemoryLimiter",
    "Refusal",
    "TehranDay",
]

_EPSILON: Final = 1e-9  # float noise in repeated additions must not admit one call too many


class Refusal(StrEnum):
    """Why an inquiry was not admitted; the values are the problem type codes."""

    RATE_LIMITED = "rate-limited"
    QUOTA_EXHAUSTED = "quota-exhausted"


@dataclass(frozen=True, slots=True)
class Admission:
    """The limiter's answer: admitted (``refusal`` is None) or refused for ``retry_after_s``."""

    refusal: Refusal | None = None
    retry_after_s: float = 0.0

    @property
    def admitted(self) -> bool:
        return self.refusal is None

    @property
    def retry_after(self) -> str:
        """The ``Retry-After`` header value: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s - _EPSILON)))


ADMITTED: Final = Admission()
NO_RATE: Final = Admission(Refusal.RATE_LIMITED, 60.0)  # a rate of 0 a minute admits nothing


class LimiterUnavailable(PanjerehError):
    """The shared limiter could not be asked (e.g. Redis is down) and was told to fail closed
    (the Redis limiter fails open by default: see `panjereh.storage.redis_state`)."""


class Limiter(Protocol):
    async def admit(
        self,
        key: str,
        *,
        per_minute: int | None,
        daily_quota: int | None,
        burst: int | None = None,
    ) -> Admission:
        """Admit one inquiry under ``key`` (the grant) or refuse it; counts only if admitted.

        ``per_minute`` / ``daily_quota`` None means no such limit; ``burst`` defaults to
        ``per_minute``.  A ``per_minute`` or ``daily_quota`` of 0 refuses every inquiry.
        """
        ...


class TehranDay:
    """Which Tehran calendar day an instant falls on, and when the next one starts.

    Cached between midnights, so asking costs one ``Clock.now()`` and a comparison.
    """

    __slots__ = ("_clock", "_end", "_start", "day")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._start = self._end = 0.0
        self.day = ""

    def now(self) -> float:
        """The wall-clock time (Unix seconds), moving ``day`` on when a midnight has passed."""
        now = self._clock.now().timestamp()
        if not self._start <= now < self._end:
            self._roll(now)
        return now

    def seconds_left(self, now: float) -> float:
        """Seconds from ``now`` (as returned by :meth:`now`) to the next Tehran midnight."""
        return self._end - now

    @property
    def ends_at(self) -> float:
        """Unix time of the next Tehran midnight."""
        return self._end

    def _roll(self, now: float) -> None:
        local = datetime.fromtimestamp(now, TEHRAN)
        midnight = datetime.combine(local.date(), clock_time(0), tzinfo=TEHRAN)
        self._start = midnight.timestamp()
        self._end = datetime.combine(
            local.date() + timedelta(days=1), clock_time(0), tzinfo=TEHRAN
        ).timestamp()
        self.day = local.date().strftime("%Y%m%d")


class MemoryLimiter:
    """GCRA and daily counters in two dicts: for the embedded single worker.

    ``monotonic`` drives the rate limit, ``clock`` (wall time) the Tehran day; both are
    injected so tests can move time.
    """

    __slots__ = ("_counts", "_counts_day", "_day", "_monotonic", "_tat")

    def __init__(self, *, clock: Clock, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._day = TehranDay(clock)
        self._tat: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._counts_day = ""

    async def admit(
        self,
        key: str,
        *,
        per_minute: int | None,
        daily_quota: int | None,
        burst: int | None = None,
    ) -> Admission:
        used = 0
        if daily_quota is not None:
            wall = self._day.now()
            if self._day.day != self._counts_day:  # a new Tehran day: every count starts at 0
                self._counts.clear()
                self._counts_day = self._day.day
            used = self._counts.get(key, 0)
            if used >= daily_quota:
                return Admission(Refusal.QUOTA_EXHAUSTED, self._day.seconds_left(wall))
        if per_minute is not None:
            if per_minute <= 0:
                return NO_RATE
            now = self._monotonic()
            interval = 60.0 / per_minute
            tolerance = ((burst or per_minute) - 1) * interval
            tat = self._tat.get(key, now)
            if tat < now:
                tat = now
            ahead = tat - now - tolerance
            if ahead > _EPSILON:
                return Admission(Refusal.RATE_LIMITED, ahead)
            self._tat[key] = tat + interval
            if len(self._tat) > 65_536:  # bounded: forget callers whose bucket is full again
                self._forget_idle(now)
        if daily_quota is not None:
            self._counts[key] = used + 1
        return ADMITTED

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]
