"""Jalali dates: formatting for people, parsing their input, UTC underneath."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain import (
    TEHRAN,
    InvalidValue,
    JalaliDate,
    format_date,
    format_datetime,
    parse_jalali_date,
    parse_jalali_datetime,
    to_jalali,
)
from panjereh.domain.jalali import FIRST_DAY, LAST_DAY, check_day

NOW = datetime(2026, 11, 28, 14, 39, tzinfo=UTC)  # 18:09 in Tehran, 1405/09/07
DATES_1900_2100 = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


def code_of(call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(InvalidValue) as info:
        call(*args)
    return info.value.code


def test_tehran_is_the_iana_zone() -> None:
    assert str(TEHRAN) == "Asia/Tehran"
    assert NOW.astimezone(TEHRAN).utcoffset() == timedelta(hours=3, minutes=30)


@pytest.mark.parametrize(
    ("gregorian", "jalali"),
    [
        (date(2026, 11, 28), JalaliDate(1405, 9, 7)),
        (date(2026, 3, 21), JalaliDate(1405, 1, 1)),
        (date(2026, 3, 20), JalaliDate(1404, 12, 29)),
        (date(2025, 3, 20), JalaliDate(1403, 12, 30)),  # leap year
        (date(2024, 3, 20), JalaliDate(1403, 1, 1)),
        (date(2021, 3, 20), JalaliDate(1399, 12, 30)),
        (date(1979, 2, 11), JalaliDate(1357, 11, 22)),
        (date(1921, 3, 21), JalaliDate(1300, 1, 1)),
        (date(1900, 1, 1), JalaliDate(1278, 10, 11)),
        (date(2100, 12, 31), JalaliDate(1479, 10, 10)),
    ],
)
def test_it_converts_known_days_both_ways(gregorian: date, jalali: JalaliDate) -> None:
    assert to_jalali(gregorian) == jalali
    assert jalali.to_gregorian() == gregorian


def test_an_aware_datetime_counts_in_tehran_time() -> None:
    late_evening_utc = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)  # 00:30 next day in Tehran
    assert to_jalali(late_evening_utc) == JalaliDate(1405, 9, 8)
    assert to_jalali(NOW) == JalaliDate(1405, 9, 7)


def test_to_jalali_refuses_naive_datetimes() -> None:
    assert code_of(to_jalali, datetime(2026, 11, 28, 12)) == "datetime.naive"  # noqa: DTZ001


@pytest.mark.parametrize("day", [date.min, date.max])
def test_to_jalali_refuses_days_outside_the_supported_range(day: date) -> None:
    assert code_of(to_jalali, day) == "jalali.range"


def test_to_jalali_refuses_instants_that_overflow_in_tehran() -> None:
    assert code_of(to_jalali, datetime.max.replace(tzinfo=UTC)) == "jalali.range"


def test_jalali_date_isoformat_pads_with_zeros() -> None:
    assert JalaliDate(1405, 9, 7).isoformat() == "1405/09/07"


@pytest.mark.parametrize(
    ("year", "month", "day"),
    [(1404, 12, 30), (1405, 13, 1), (1405, 7, 31), (1405, 0, 1), (1405, 1, 0), (0, 1, 1)],
)
def test_a_jalali_date_must_exist(year: int, month: int, day: int) -> None:
    assert code_of(JalaliDate, year, month, day) == "jalali.invalid-date"


def test_a_jalali_date_refuses_non_integers() -> None:
    assert code_of(JalaliDate, True, 1, 1) == "jalali.invalid-date"
    assert code_of(JalaliDate, "1405", 1, 1) == "jalali.invalid-date"


@pytest.mark.parametrize(
    ("lang", "style", "gregorian", "expected"),
    [
        ("fa", "numeric", False, "۱۴۰۵/۰۹/۰۷"),
        ("fa", "long", False, "۷ آذر ۱۴۰۵"),
        ("en", "numeric", False, "1405/09/07"),
        ("en", "long", False, "7 Azar 1405"),
        ("en-US", "long", False, "7 Azar 1405"),
        ("en", "numeric", True, "2026-11-28"),
        ("en", "long", True, "28 November 2026"),
        ("fa", "numeric", True, "۲۰۲۶-۱۱-۲۸"),
        ("fa", "long", True, "۲۸ نوامبر ۲۰۲۶"),
    ],
)
def test_format_date_in_each_language_and_style(
    lang: str, style: str, gregorian: bool, expected: str
) -> None:
    day = date(2026, 11, 28)
    assert format_date(day, lang, style=style, gregorian=gregorian) == expected  # type: ignore[arg-type]
    assert format_date(NOW, lang, style=style, gregorian=gregorian) == expected  # type: ignore[arg-type]


def test_format_date_defaults_to_persian_numeric() -> None:
    assert format_date(date(2026, 11, 28)) == "۱۴۰۵/۰۹/۰۷"


def test_format_date_uses_the_tehran_day_of_a_datetime() -> None:
    after_tehran_midnight = datetime(2026, 11, 28, 20, 31, tzinfo=UTC)
    assert format_date(after_tehran_midnight, "en") == "1405/09/08"
    assert format_date(after_tehran_midnight, "en", gregorian=True) == "2026-11-29"


def test_format_date_refuses_naive_datetimes() -> None:
    naive = datetime(2026, 11, 28, 12)  # noqa: DTZ001
    assert code_of(format_date, naive) == "datetime.naive"
    assert code_of(lambda: format_date(naive, "en", gregorian=True)) == "datetime.naive"


@pytest.mark.parametrize(
    ("lang", "expected"), [("fa", "۱۴۰۵/۰۹/۰۷ ۱۸:۰۹"), ("en", "1405/09/07 18:09")]
)
def test_format_datetime_shows_tehran_wall_time(lang: str, expected: str) -> None:
    assert format_datetime(NOW, lang) == expected
    assert format_datetime(NOW.astimezone(timezone(timedelta(hours=-5))), lang) == expected


def test_format_datetime_refuses_naive_datetimes() -> None:
    assert code_of(format_datetime, datetime(2026, 11, 28, 12)) == "datetime.naive"  # noqa: DTZ001


def test_format_datetime_refuses_instants_that_overflow_in_tehran() -> None:
    assert code_of(format_datetime, datetime.max.replace(tzinfo=UTC)) == "jalali.range"


@pytest.mark.parametrize(
    "raw",
    [
        "1405/09/07",
        "1405-09-07",
        "1405-9-7",
        "1405/9/7",
        "۱۴۰۵/۰۹/۰۷",
        "١٤٠٥/٠٩/٠٧",
        " 1405/09/07 ",
        "1405 / 09 / 07",
        "\u200f۱۴۰۵/۹/۷\u200e",
    ],
)
def test_it_parses_the_usual_spellings_of_a_jalali_date(raw: str) -> None:
    assert parse_jalali_date(raw) == date(2026, 11, 28)


def test_it_parses_the_leap_day_of_a_leap_year() -> None:
    assert parse_jalali_date("1403/12/30") == date(2025, 3, 20)


@pytest.mark.parametrize(
    "raw",
    [
        "1404/12/30",
        "1405/13/01",
        "1405/07/31",
        "1405/11/31",
        "1405/00/10",
        "1405/01/00",
        "0000/01/01",
    ],
)
def test_it_refuses_days_the_calendar_does_not_have(raw: str) -> None:
    assert code_of(parse_jalali_date, raw) == "jalali.invalid-date"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1405/09",
        "1405/9-7",
        "05/09/07",
        "1405.09.07",
        "14050907",
        "1405/09/07x",
        "1405/009/07",
        "07/09/1405",
        "1405/09/07 18:09",
        "۱۴۰۵/۰۹/۰۷" * 20,
    ],
)
def test_it_refuses_badly_shaped_dates(raw: str) -> None:
    assert code_of(parse_jalali_date, raw) == "jalali.format"


@pytest.mark.parametrize("raw", [None, 14050907, date(2026, 11, 28), b"1405/09/07"])
def test_it_refuses_dates_that_are_not_text(raw: object) -> None:
    assert code_of(parse_jalali_date, raw) == "jalali.type"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1405/09/07 18:09", datetime(2026, 11, 28, 14, 39, tzinfo=UTC)),
        ("1405/09/07 18:09:30", datetime(2026, 11, 28, 14, 39, 30, tzinfo=UTC)),
        ("۱۴۰۵/۰۹/۰۷ ۱۸:۰۹", datetime(2026, 11, 28, 14, 39, tzinfo=UTC)),
        ("1405-9-7T8:05", datetime(2026, 11, 28, 4, 35, tzinfo=UTC)),
        ("1405/09/07   00:00", datetime(2026, 11, 27, 20, 30, tzinfo=UTC)),
        ("1400/01/02 12:00", datetime(2021, 3, 22, 7, 30, tzinfo=UTC)),  # Iran had DST then
    ],
)
def test_it_parses_tehran_wall_time_into_utc(raw: str, expected: datetime) -> None:
    parsed = parse_jalali_datetime(raw)
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_it_parses_wall_time_in_another_zone_when_asked() -> None:
    assert parse_jalali_datetime("1405/09/07 18:09", tz=UTC) == datetime(
        2026, 11, 28, 18, 9, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1405/09/07 24:00", "jalali.invalid-time"),
        ("1405/09/07 18:60", "jalali.invalid-time"),
        ("1405/09/07 18:09:60", "jalali.invalid-time"),
        ("1404/12/30 10:00", "jalali.invalid-date"),
        ("1405/09/07", "jalali.format"),
        ("1405/09/07 18", "jalali.format"),
        ("1405/09/07 18:9", "jalali.format"),
        ("1405/09/07 18:09 PM", "jalali.format"),
        (None, "jalali.type"),
    ],
)
def test_it_refuses_bad_date_times_with_a_specific_code(raw: object, code: str) -> None:
    assert code_of(parse_jalali_datetime, raw) == code


@given(DATES_1900_2100)
def test_to_jalali_and_back_gives_the_same_day(day: date) -> None:
    assert to_jalali(day).to_gregorian() == day


@given(DATES_1900_2100)
def test_parsing_a_formatted_date_gives_the_same_day(day: date) -> None:
    assert parse_jalali_date(format_date(day, "fa")) == day
    assert parse_jalali_date(format_date(day, "en")) == day


@given(
    st.datetimes(
        min_value=datetime(2023, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2100, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_parsing_a_formatted_datetime_gives_the_same_minute(instant: datetime) -> None:
    # From 2023 Iran keeps +03:30 all year, so every wall time is unambiguous.
    assert parse_jalali_datetime(format_datetime(instant)) == instant.replace(
        second=0, microsecond=0
    )


@given(
    st.one_of(
        st.text(st.characters(exclude_categories=())),
        st.text(st.sampled_from(list("0123456789۱۴۰۵/- :T"))),
        st.none(),
        st.integers(),
        st.binary(),
    )
)
def test_parsers_raise_nothing_but_invalid_value(raw: object) -> None:
    for parse in (parse_jalali_date, parse_jalali_datetime):
        err: InvalidValue | None = None
        try:
            parse(raw)
        except InvalidValue as caught:
            err = caught
        assert err is None or err.code.startswith("jalali.")


# Periods: the days a period may name ------------------------------------------------------


def test_the_first_and_last_days_of_a_period_are_the_same_days_in_both_calendars() -> None:
    assert to_jalali(FIRST_DAY) == JalaliDate(1278, 10, 11)
    assert to_jalali(LAST_DAY) == JalaliDate(2378, 10, 10)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(3000, 1, 1), date.max])
def test_a_day_outside_the_range_is_refused_naming_the_field_and_the_range(day: date) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_day(day, code="audit.period-range", field="until")
    error = refused.value
    assert (error.code, error.field) == ("audit.period-range", "until")
    assert "1900-01-01 to 2999-12-31" in error.message_en
    assert "۱۲۷۸/۱۰/۱۱ تا ۲۳۷۸/۱۰/۱۰" in error.message_fa


@given(st.dates(min_value=FIRST_DAY, max_value=LAST_DAY), st.integers(-14 * 60, 14 * 60))
def test_any_instant_of_a_day_in_the_range_converts_to_utc_and_tehran(
    day: date, offset_minutes: int
) -> None:
    assert check_day(day, code="x", field="since") == day
    zone = timezone(timedelta(minutes=offset_minutes))
    for moment in (
        datetime.combine(day, datetime.min.time(), tzinfo=zone),
        datetime.combine(day, datetime.max.time(), tzinfo=zone),
    ):
        assert moment.astimezone(UTC).astimezone(TEHRAN).tzinfo is TEHRAN
    after = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=TEHRAN)
    assert after.astimezone(UTC).tzinfo is UTC
