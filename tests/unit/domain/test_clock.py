"""Clocks: every instant is aware UTC; tests pin time with FixedClock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from panjereh.domain import (
    TEHRAN,
    Clock,
    FixedClock,
    InvalidValue,
    SystemClock,
    ensure_aware_utc,
    utc_now,
)


def test_utc_now_is_aware_utc_and_current() -> None:
    now = utc_now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_both_clocks_satisfy_the_clock_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FixedClock(), Clock)


def test_the_system_clock_tells_the_current_utc_time() -> None:
    now = SystemClock().now()
    assert now.utcoffset() == timedelta(0)
    assert abs(now - utc_now()) < timedelta(seconds=5)


def test_a_fixed_clock_stays_put_until_moved() -> None:
    clock = FixedClock(datetime(2026, 11, 28, 14, 39, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 11, 28, 14, 39, tzinfo=UTC)


def test_a_fixed_clock_has_a_sensible_default() -> None:
    assert FixedClock().now() == FixedClock.DEFAULT
    assert FixedClock.DEFAULT.tzinfo is UTC


def test_advance_moves_the_clock_forward_and_back() -> None:
    clock = FixedClock(datetime(2026, 11, 28, 14, 39, tzinfo=UTC))
    assert clock.advance(90) == datetime(2026, 11, 28, 14, 40, 30, tzinfo=UTC)
    assert clock.advance(-0.5) == datetime(2026, 11, 28, 14, 40, 29, 500_000, tzinfo=UTC)
    assert clock.now() == datetime(2026, 11, 28, 14, 40, 29, 500_000, tzinfo=UTC)


def test_set_pins_the_clock_and_converts_to_utc() -> None:
    clock = FixedClock()
    clock.set(datetime(2026, 11, 28, 18, 9, tzinfo=TEHRAN))
    assert clock.now() == datetime(2026, 11, 28, 14, 39, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_a_fixed_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(InvalidValue):
        FixedClock(datetime(2026, 11, 28, 14, 39))  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidValue):
        FixedClock().set(datetime(2026, 11, 28, 14, 39))  # noqa: DTZ001


def test_fixed_clock_repr_shows_the_instant() -> None:
    assert repr(FixedClock()) == "FixedClock(2026-11-28T14:39:00+00:00)"


def test_ensure_aware_utc_converts_other_zones_to_utc() -> None:
    tehran = datetime(2026, 11, 28, 18, 9, tzinfo=TEHRAN)
    result = ensure_aware_utc(tehran)
    assert result == datetime(2026, 11, 28, 14, 39, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_ensure_aware_utc_refuses_naive_datetimes_with_a_value_error() -> None:
    with pytest.raises(ValueError, match="no time zone") as info:
        ensure_aware_utc(datetime(2026, 11, 28))  # noqa: DTZ001
    assert isinstance(info.value, InvalidValue)
    assert info.value.code == "datetime.naive"


def test_ensure_aware_utc_refuses_what_is_not_a_datetime() -> None:
    with pytest.raises(InvalidValue) as info:
        ensure_aware_utc("2026-11-28T14:39Z")  # type: ignore[arg-type]
    assert info.value.code == "datetime.type"


def test_ensure_aware_utc_refuses_instants_beyond_the_datetime_range() -> None:
    edge = datetime.min.replace(tzinfo=timezone(timedelta(hours=3, minutes=30)))
    with pytest.raises(InvalidValue) as info:
        ensure_aware_utc(edge)
    assert info.value.code == "datetime.range"
