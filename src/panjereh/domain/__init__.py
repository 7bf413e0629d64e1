"""Domain primitives of Panjereh: errors, Persian text, identifiers, time and the Jalali calendar.

This package depends only on the standard library and ``jdatetime`` so every
other layer (exchange, registry, web, storage) can use it without pulling in
infrastructure.
"""

from __future__ import annotations

from panjereh.domain.clock import Clock, FixedClock, SystemClock, ensure_aware_utc, utc_now
from panjereh.domain.errors import InvalidValue, PanjerehError
from panjereh.domain.identifiers import (
    LegalId,
    MobileNumber,
    NationalCode,
    PostalCode,
    legal_id_check_digit,
    national_code_check_digit,
)
from panjereh.domain.jalali import (
    TEHRAN,
    JalaliDate,
    format_date,
    format_datetime,
    parse_jalali_date,
    parse_jalali_datetime,
    to_jalali,
)
from panjereh.domain.text import (
    ascii_digits,
    identifier_text,
    normalize,
    number_text,
    persian_digits,
    search_key,
)

__all__ = [
    "TEHRAN",
    "Clock",
    "FixedClock",
    "InvalidValue",
    "JalaliDate",
    "LegalId",
    "MobileNumber",
    "NationalCode",
    "PanjerehError",
    "PostalCode",
    "SystemClock",
    "ascii_digits",
    "ensure_aware_utc",
    "format_date",
    "format_datetime",
    "identifier_text",
    "legal_id_check_digit",
    "national_code_check_digit",
    "normalize",
    "number_text",
    "parse_jalali_date",
    "parse_jalali_datetime",
    "persian_digits",
    "search_key",
    "to_jalali",
    "utc_now",
]
