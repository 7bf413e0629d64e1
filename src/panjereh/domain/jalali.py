"""Solar Hijri (Jalali) dates for people; UTC instants for machines.

Iranian government pages show dates in the Solar Hijri calendar, in English
pages too, so views format through this module. Storage and APIs keep aware
UTC datetimes and Gregorian ``date`` objects; a datetime is converted to
Tehran time before it becomes a calendar day, because "today" in Iran starts
3.5 hours before it does in UTC.

The calendar arithmetic is jdatetime's (see docs/adr/0002-jalali-library.md);
this module is the only place that imports it, so it can be replaced here.
Every parser refuses bad input with :class:`InvalidValue` and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Final, Literal
from zoneinfo import ZoneInfo

import jdatetime

from panjereh.domain.clock import ensure_aware_utc
from panjereh.domain.errors import InvalidValue, is_english
from panjereh.domain.text import normalize, persian_digits

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "TEHRAN",
    "JalaliDate",
    "check_day",
    "format_date",
    "format_datetime",
    "parse_jalali_date",
    "parse_jalali_datetime",
    "to_jalali",
]

TEHRAN: Final = ZoneInfo("Asia/Tehran")

Style = Literal["numeric", "long"]

MONTHS_FA: Final = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
MONTHS_EN: Final = (
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
)
GREGORIAN_MONTHS_FA: Final = (
    "ژانویه",
    "فوریه",
    "مارس",
    "آوریل",
    "مه",
    "ژوئن",
    "ژوئیه",
    "اوت",
    "سپتامبر",
    "اکتبر",
    "نوامبر",
    "دسامبر",
)
GREGORIAN_MONTHS_EN: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Far longer than any date spelling; stops work on huge input.
_MAX_RAW_LENGTH: Final = 64
_DATE = r"([0-9]{4}) ?([/-]) ?([0-9]{1,2}) ?\2 ?([0-9]{1,2})"
_DATE_RE = re.compile(_DATE, re.ASCII)
_DATETIME_RE = re.compile(_DATE + r"[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?", re.ASCII)


def _invalid_date() -> InvalidValue:
    return InvalidValue(
        "jalali.invalid-date",
        message_en="This date does not exist in the Solar Hijri calendar.",
        message_fa="این تاریخ در تقویم هجری شمسی وجود ندارد.",
    )


def _out_of_range() -> InvalidValue:
    return InvalidValue(
        "jalali.range",
        message_en="The date is outside the supported range.",
        message_fa="تاریخ خارج از بازهٔ پشتیبانی‌شده است.",
    )


@dataclass(frozen=True, slots=True)
class JalaliDate:
    """A valid day of the Solar Hijri calendar (year 1 to 9377, jdatetime's range)."""

    year: int
    month: int
    day: int

    def __post_init__(self) -> None:
        # bool is an int; a JalaliDate(True, 1, 1) is a bug, not a date.
        fields = (self.year, self.month, self.day)
        if not all(type(v) is int for v in fields):
            raise _invalid_date()
        try:
            jdatetime.date(self.year, self.month, self.day)
        except (ValueError, OverflowError):
            raise _invalid_date() from None

    def isoformat(self) -> str:
        """Return ``YYYY/MM/DD`` with ASCII digits, the usual Iranian numeric form."""
        return f"{self.year:04d}/{self.month:02d}/{self.day:02d}"

    def to_gregorian(self) -> date:
        """Return the same day in the Gregorian calendar."""
        gregorian: date = jdatetime.date(self.year, self.month, self.day).togregorian()
        return gregorian


def to_jalali(d: date | datetime) -> JalaliDate:
    """Return the Jalali day of ``d``; an aware datetime counts in Tehran time.

    Naive datetimes are refused: their day depends on a time zone nobody stated.
    """
    day = _tehran_day(d)
    try:
        j = jdatetime.date.fromgregorian(date=day)
    except (ValueError, OverflowError):
        raise _out_of_range() from None
    return JalaliDate(j.year, j.month, j.day)


# Periods ------------------------------------------------------------------------------------

#: The first and last days a period may name (Tehran days; 1278/10/11 and 2378/10/10 in the
#: Solar Hijri calendar). Every day a record or an event can carry is inside; the start of any
#: of them, or an instant on it at any UTC offset, converts to UTC and back without leaving
#: Python's calendar (years 1 to 9999), which days at the very ends of it do not.
FIRST_DAY: Final = date(1900, 1, 1)
LAST_DAY: Final = date(2999, 12, 31)


def check_day(day: date, *, code: str, field: str) -> date:
    """``day`` if a period may name it (`FIRST_DAY` to `LAST_DAY`), else `InvalidValue`
    ``code`` for ``field`` saying the range in both calendars."""
    if FIRST_DAY <= day <= LAST_DAY:
        return day
    raise InvalidValue(
        code,
        message_en=(
            f"The date must be a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()} "
            "(1278/10/11 to 2378/10/10 in the Solar Hijri calendar)."
        ),
        message_fa=persian_digits(
            "تاریخ باید روزی از ۱۲۷۸/۱۰/۱۱ تا ۲۳۷۸/۱۰/۱۰ باشد "
            f"({FIRST_DAY.isoformat()} تا {LAST_DAY.isoformat()} میلادی)."
        ),
        field=field,
    )


def _tehran_day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return _tehran_time(value).date()
    return value


def _tehran_time(value: datetime) -> datetime:
    ensure_aware_utc(value)
    try:
        return value.astimezone(TEHRAN)
    except OverflowError:
        raise _out_of_range() from None


def _digits(text: str, lang: str) -> str:
    return text if is_english(lang) else persian_digits(text)


def format_date(
    value: date | datetime,
    lang: str = "fa",
    *,
    style: Style = "numeric",
    gregorian: bool = False,
) -> str:
    """Format a day for people: Jalali by default, in both languages.

    ``fa``: ``۱۴۰۵/۰۹/۰۷`` or (long) ``۷ آذر ۱۴۰۵``; ``en``: ``1405/09/07`` or
    ``7 Azar 1405``, because Iranian government English pages still use the
    Solar Hijri calendar. ``gregorian=True`` gives ``2026-11-28`` or
    ``28 November 2026`` (Persian digits and month names for ``fa``).
    """
    if gregorian:
        return _format_gregorian(_tehran_day(value), lang, style)
    j = to_jalali(value)
    if style == "long":
        months = MONTHS_EN if is_english(lang) else MONTHS_FA
        return _digits(f"{j.day} {months[j.month - 1]} {j.year}", lang)
    return _digits(j.isoformat(), lang)


def _format_gregorian(day: date, lang: str, style: Style) -> str:
    if style == "long":
        months = GREGORIAN_MONTHS_EN if is_english(lang) else GREGORIAN_MONTHS_FA
        return _digits(f"{day.day} {months[day.month - 1]} {day.year}", lang)
    return _digits(day.isoformat(), lang)


def format_datetime(value: datetime, lang: str = "fa") -> str:
    """Format an instant as Tehran wall time: ``۱۴۰۵/۰۹/۰۷ ۱۸:۰۹`` / ``1405/09/07 18:09``."""
    local = _tehran_time(value)
    text = f"{to_jalali(local.date()).isoformat()} {local:%H:%M}"
    return _digits(text, lang)


def _format_error() -> InvalidValue:
    return InvalidValue(
        "jalali.format",
        message_en="Write the date like 1405/09/07.",
        message_fa="تاریخ را مانند ۱۴۰۵/۰۹/۰۷ بنویسید.",
    )


def _prepare(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue(
            "jalali.type",
            message_en="The date must be given as text.",
            message_fa="تاریخ باید به صورت متن داده شود.",
        )
    if len(raw) > _MAX_RAW_LENGTH:
        raise _format_error()
    return normalize(raw)


def _gregorian_day(year: str, month: str, day: str) -> date:
    # The pattern allows at most four ASCII digits per part, so int() is safe
    # and every valid Jalali day (years 1-9377) maps into datetime's range.
    return JalaliDate(int(year), int(month), int(day)).to_gregorian()


def parse_jalali_date(raw: object) -> date:
    """Parse ``1405/09/07`` or ``1405-9-7`` (any digits) into a Gregorian ``date``.

    Refuses a wrong shape with ``jalali.format`` and a day the calendar lacks
    (``1404/12/30``, ``1405/13/01``, ``1405/07/31``) with ``jalali.invalid-date``.
    """
    match = _DATE_RE.fullmatch(_prepare(raw))
    if match is None:
        raise _format_error()
    year, _sep, month, day = match.groups()
    return _gregorian_day(year, month, day)


def parse_jalali_datetime(raw: object, tz: tzinfo = TEHRAN) -> datetime:
    """Parse ``1405/09/07 18:09`` (or ``18:09:30``) as wall time in ``tz``; return aware UTC.

    Wall times that a DST change skipped or repeated (Iran used DST until
    1401/2022) are resolved by ``zoneinfo`` with ``fold=0``.
    """
    match = _DATETIME_RE.fullmatch(_prepare(raw))
    if match is None:
        raise _format_error()
    year, _sep, month, day, hour, minute, second = match.groups()
    day_ = _gregorian_day(year, month, day)
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        raise InvalidValue(
            "jalali.invalid-time",
            message_en="This time of day does not exist; use 00:00 to 23:59.",
            message_fa="این ساعت وجود ندارد؛ از ۰۰:۰۰ تا ۲۳:۵۹ بنویسید.",
        )
    local = datetime(
        day_.year, day_.month, day_.day, int(hour), int(minute), int(second or 0), tzinfo=tz
    )
    return ensure_aware_utc(local)
