"""Time as a dependency.

Everything that stamps, expires or schedules asks a :class:`Clock` instead of
calling ``datetime.now()``, so tests can pin and move time, and every instant
in the system is timezone-aware UTC (local time is a view concern; see
:mod:`panjereh.domain.jalali`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from panjereh.domain.errors import InvalidValue

__all__ = ["Clock", "FixedClock", "SystemClock", "ensure_aware_utc", "utc_now"]


def utc_now() -> datetime:
    """Return the current instant as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def ensure_aware_utc(dt: datetime) -> datetime:
    """Return ``dt`` converted to UTC; refuse naive datetimes.

    A naive datetime has no defined instant (server local? Tehran? UTC?), and
    guessing silently shifts deadlines by 3.5 hours, so it is an error.
    """
    if not isinstance(dt, datetime):
        raise InvalidValue(
            "datetime.type",
            message_en="A date and time was expected.",
            message_fa="تاریخ و ساعت انتظار می‌رفت.",
        )
    if dt.utcoffset() is None:
        raise InvalidValue(
            "datetime.naive",
            message_en="The date and time has no time zone.",
            message_fa="تاریخ و ساعت منطقهٔ زمانی ندارد.",
        )
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise InvalidValue(
            "datetime.range",
            message_en="The date and time is out of the supported range.",
            message_fa="تاریخ و ساعت خارج از بازهٔ پشتیبانی‌شده است.",
        ) from None


@runtime_checkable
class Clock(Protocol):
    """Something that tells the current instant (aware, UTC)."""

    def now(self) -> datetime:
        """Return the current instant as an aware UTC datetime."""
        ...


class SystemClock:
    """The real clock, for production wiring."""

    __slots__ = ()

    def now(self) -> datetime:
        """Return the current instant from the operating system."""
        return utc_now()


class FixedClock:
    """A clock that only moves when told to: deterministic tests of expiry and stamps."""

    __slots__ = ("_now",)

    DEFAULT = datetime(2026, 11, 28, 14, 39, tzinfo=UTC)

    def __init__(self, at: datetime = DEFAULT) -> None:
        self._now = ensure_aware_utc(at)

    def now(self) -> datetime:
        """Return the pinned instant."""
        return self._now

    def set(self, at: datetime) -> None:
        """Pin the clock to ``at`` (aware; converted to UTC)."""
        self._now = ensure_aware_utc(at)

    def advance(self, seconds: float) -> datetime:
        """Move the clock by ``seconds`` (may be negative) and return the new instant."""
        self._now = self._now + timedelta(seconds=seconds)
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"
