"""Iranian identifiers as value objects: national code, legal-entity ID, postal code, mobile.

Each type has one way in, ``parse``, which accepts whatever a person or a
partner system sent (Persian or Arabic-Indic digits, spaces, dashes) and
returns the canonical value or raises :class:`InvalidValue` - never anything
else, whatever the input. Constructing a type directly validates too, but only
accepts the canonical form, so an instance always holds a valid value.

Validation happens on ASCII text after :func:`identifier_text`, with
``re.ASCII`` patterns: Python's ``int()`` and ``\\d`` would otherwise accept
Persian digits and other scripts' digits.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Final, Self

from panjereh.domain.errors import InvalidValue
from panjereh.domain.text import identifier_text, persian_digits

__all__ = [
    "LegalId",
    "MobileNumber",
    "NationalCode",
    "PostalCode",
    "issuable_legal_id",
    "issuable_national_code",
    "legal_id_check_digit",
    "national_code_check_digit",
    "recorded_legal_id",
    "recorded_national_code",
]

# Far longer than any accepted spelling; stops work on megabyte-sized input.
_MAX_RAW_LENGTH: Final = 64

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MOBILE_CHARS = re.compile(r"\+?[0-9]+", re.ASCII)
_E164_MOBILE = re.compile(r"\+989[0-9]{9}", re.ASCII)
_LEGAL_ID_WEIGHTS: Final = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


@dataclass(frozen=True, slots=True)
class _Labels:
    """How one identifier is named in error codes and messages."""

    slug: str
    name_en: str
    name_fa: str
    length: int


_NATIONAL_CODE = _Labels("national-code", "national code", "کد ملی", 10)
_LEGAL_ID = _Labels("legal-id", "legal-entity ID", "شناسه ملی", 11)
_POSTAL_CODE = _Labels("postal-code", "postal code", "کد پستی", 10)


# --- shared checks -------------------------------------------------------------


def _error(labels: _Labels, reason: str, en: str, fa: str) -> InvalidValue:
    return InvalidValue(f"{labels.slug}.{reason}", message_en=en, message_fa=fa)


def _clean(raw: object, labels: _Labels) -> str:
    """Turn raw input into ASCII identifier text or refuse its type/size."""
    if not isinstance(raw, str):
        raise _type_error(labels)
    if len(raw) > _MAX_RAW_LENGTH:
        raise _length_error(labels)
    if raw.isascii() and raw.isdigit():  # already clean: what systems send (the hot path)
        return raw
    return identifier_text(raw)


def _type_error(labels: _Labels) -> InvalidValue:
    return _error(
        labels,
        "type",
        f"The {labels.name_en} must be given as text.",
        f"{labels.name_fa} باید به صورت متن داده شود.",
    )


def _length_error(labels: _Labels) -> InvalidValue:
    return _error(
        labels,
        "length",
        f"The {labels.name_en} must have {labels.length} digits.",
        f"{labels.name_fa} باید {persian_digits(str(labels.length))} رقم باشد.",
    )


def _check_digits(text: object, labels: _Labels) -> str:
    """Check presence, digits only, length and not one repeated digit."""
    if not isinstance(text, str):
        raise _type_error(labels)
    if not text:
        raise _error(
            labels, "empty", f"Enter the {labels.name_en}.", f"{labels.name_fa} را وارد کنید."
        )
    if not _DIGITS.fullmatch(text):
        raise _error(
            labels,
            "not-digits",
            f"The {labels.name_en} may contain only digits.",
            f"{labels.name_fa} فقط می‌تواند رقم داشته باشد.",
        )
    if len(text) != labels.length:
        raise _length_error(labels)
    if text == text[0] * labels.length:
        raise _error(
            labels,
            "repeated",
            f"A {labels.name_en} cannot be one digit repeated.",
            f"{labels.name_fa} نمی‌تواند تکرار یک رقم باشد.",
        )
    return text


def _checksum_error(labels: _Labels) -> InvalidValue:
    return _error(
        labels,
        "checksum",
        f"The {labels.name_en}'s check digit is wrong. Please check the number.",
        f"رقم کنترل {labels.name_fa} درست نیست. لطفاً عدد را بررسی کنید.",
    )


def _check_serial(text: str, labels: _Labels) -> None:
    """Digits 4-9 are a serial number, never all zero (docs/domain.md, "Why digits 4-9 may
    not all be zero"); checked after the check digit, so a typo is named as one."""
    if text[3:9] == "000000":
        raise _error(
            labels,
            "serial",
            f"A {labels.name_en}'s digits 4 to 9 cannot all be zero.",
            f"رقم‌های چهارم تا نهم {labels.name_fa} نمی‌توانند همه صفر باشند.",
        )


def _prefix_error(labels: _Labels, length: int) -> InvalidValue:
    return _error(
        labels,
        "prefix",
        f"A check digit needs exactly {length} ASCII digits.",
        f"برای رقم کنترل دقیقاً {persian_digits(str(length))} رقم لاتین لازم است.",
    )


# --- national code (کد ملی) ---------------------------------------------------


_NC_WEIGHTS = tuple(range(10, 1, -1))
_NC_WEIGHT_SUM = sum(_NC_WEIGHTS)


def national_code_check_digit(first_nine: str) -> str:
    """Return the check digit that completes a national code.

    Weights 10..2 over the first nine digits, r = sum mod 11; the check digit
    is r when r < 2, else 11 - r. Used by generators and test-data builders.
    """
    if not isinstance(first_nine, str) or not (
        len(first_nine) == 9 and _DIGITS.fullmatch(first_nine)
    ):
        raise _prefix_error(_NATIONAL_CODE, 9)
    # ASCII digits (checked above): each byte minus 48 is its digit.
    total = sum(map(operator.mul, first_nine.encode("ascii"), _NC_WEIGHTS)) - 48 * _NC_WEIGHT_SUM
    r = total % 11
    return str(r if r < 2 else 11 - r)


def _check_national_code(text: object, *, serial: bool) -> str:
    text = _check_digits(text, _NATIONAL_CODE)
    if national_code_check_digit(text[:9]) != text[9]:
        raise _checksum_error(_NATIONAL_CODE)
    if serial:
        _check_serial(text, _NATIONAL_CODE)
    return text


@dataclass(frozen=True, slots=True)
class NationalCode:
    """A person's 10-digit national code (کد ملی), check digit verified.

    Inputs with 8 or 9 digits are refused rather than left-padded: a missing
    leading zero and a missing digit look the same, and guessing would attach
    a record to the wrong person. The ten repeated-digit codes pass the
    checksum but are never issued, so they are refused too, and so are codes
    whose six-digit serial (digits 4-9, after the issuing office's three) is
    all zero.
    """

    value: str

    def __post_init__(self) -> None:
        _check_national_code(self.value, serial=True)

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Parse what a person typed; raise InvalidValue on anything invalid."""
        return cls(_clean(raw, _NATIONAL_CODE))

    def masked(self) -> str:
        """Return e.g. ``001****419``: enough to recognise, not enough to abuse in logs."""
        return f"{self.value[:3]}****{self.value[-3:]}"

    def __str__(self) -> str:
        return self.value


# --- legal-entity national ID (شناسه ملی اشخاص حقوقی) -------------------------


def legal_id_check_digit(first_ten: str) -> str:
    """Return the check digit that completes an 11-digit legal-entity national ID.

    d = 10th digit + 2; sum of (digit + d) x weight over the first ten digits
    with weights 29, 27, 23, 19, 17 repeating; r = sum mod 11 and 10 counts as 0.
    """
    if not isinstance(first_ten, str) or not (
        len(first_ten) == 10 and _DIGITS.fullmatch(first_ten)
    ):
        raise _prefix_error(_LEGAL_ID, 10)
    d = int(first_ten[9]) + 2
    total = sum((int(c) + d) * w for c, w in zip(first_ten, _LEGAL_ID_WEIGHTS, strict=True))
    return str(total % 11 % 10)


def _check_legal_id(text: object, *, serial: bool) -> str:
    text = _check_digits(text, _LEGAL_ID)
    if legal_id_check_digit(text[:10]) != text[10]:
        raise _checksum_error(_LEGAL_ID)
    if serial:
        _check_serial(text, _LEGAL_ID)
    return text


@dataclass(frozen=True, slots=True)
class LegalId:
    """The 11-digit national ID of a legal entity (شناسه ملی), check digit verified.

    One-digit-repeated IDs are refused as implausible, with their own error
    code, even though only ``"33333333333"`` would pass the checksum: these
    are placeholders typed into forms and must never reach a registry. IDs
    whose digits 4-9 are all zero are refused too (persian-tools' rule).
    """

    value: str

    def __post_init__(self) -> None:
        _check_legal_id(self.value, serial=True)

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Parse what a person typed; raise InvalidValue on anything invalid."""
        return cls(_clean(raw, _LEGAL_ID))

    def __str__(self) -> str:
        return self.value


# --- values recorded under the earlier rules, and generators -------------------------


def recorded_national_code(raw: object) -> str:
    """The canonical digits of ``raw`` if it passes every rule but the zero-serial one (added
    later): for finding what was recorded about it before (the audit log's search), never for
    accepting new input."""
    return _check_national_code(_clean(raw, _NATIONAL_CODE), serial=False)


def recorded_legal_id(raw: object) -> str:
    """The canonical digits of ``raw`` if it passes every rule but the zero-serial one: how a
    legal ID stored before that rule is read back (``panjereh registry check`` lists them)."""
    return _check_legal_id(_clean(raw, _LEGAL_ID), serial=False)


def issuable_national_code(first_nine: str) -> NationalCode | None:
    """The national code that completes ``first_nine``, or None when no valid code starts so
    (one repeated digit, or a zero serial): what generators of synthetic people draw from."""
    try:
        return NationalCode(first_nine + national_code_check_digit(first_nine))
    except InvalidValue:
        return None


def issuable_legal_id(first_ten: str) -> LegalId | None:
    """The legal ID that completes ``first_ten``, or None when no valid ID starts so."""
    try:
        return LegalId(first_ten + legal_id_check_digit(first_ten))
    except InvalidValue:
        return None


# --- postal code (کد پستی) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostalCode:
    """A 10-digit Iranian postal code (کد پستی).

    Checked: exactly ten digits, not one digit repeated. Not checked: the digit
    patterns often quoted (no 0 or 2 in the first five digits, and so on) -
    we could not confirm them from Iran Post, and a wrong rule would refuse
    real addresses. Whether a code exists is the postal service's inquiry's job.
    """

    value: str

    def __post_init__(self) -> None:
        _check_digits(self.value, _POSTAL_CODE)

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Parse what a person typed; raise InvalidValue on anything invalid."""
        return cls(_clean(raw, _POSTAL_CODE))

    def __str__(self) -> str:
        return self.value


# --- mobile number -------------------------------------------------------------


def _mobile_error(reason: str, en: str, fa: str) -> InvalidValue:
    return InvalidValue(f"mobile.{reason}", message_en=en, message_fa=fa)


def _mobile_type_error() -> InvalidValue:
    return _mobile_error(
        "type",
        "The mobile number must be given as text.",
        "شماره همراه باید به صورت متن داده شود.",
    )


def _mobile_length_error() -> InvalidValue:
    return _mobile_error(
        "length",
        "The mobile number has the wrong number of digits; write it like 09121234567.",
        "تعداد رقم‌های شماره همراه درست نیست؛ آن را مانند ۰۹۱۲۱۲۳۴۵۶۷ بنویسید.",
    )


def _mobile_chars(raw: object) -> str:
    """Return ``+`` and digits only, or refuse type, emptiness and other characters."""
    if not isinstance(raw, str):
        raise _mobile_type_error()
    if len(raw) > _MAX_RAW_LENGTH:
        raise _mobile_length_error()
    text = identifier_text(raw).replace("(", "").replace(")", "")
    if not text:
        raise _mobile_error("empty", "Enter the mobile number.", "شماره همراه را وارد کنید.")
    if not _MOBILE_CHARS.fullmatch(text):
        raise _mobile_error(
            "not-digits",
            "The mobile number may contain only digits and a leading +.",
            "شماره همراه فقط می‌تواند رقم و یک + در ابتدا داشته باشد.",
        )
    return text


def _national_part(text: str) -> str:
    """Strip the country code (+98, 0098, 98) and the trunk 0, refusing other countries."""
    if text.startswith(("+", "00")):
        international = text.removeprefix("+") if text[0] == "+" else text[2:]
        if not international.startswith("98"):
            raise _mobile_error(
                "country",
                "Only Iranian mobile numbers (+98) are accepted.",
                "فقط شماره همراه ایران (+۹۸) پذیرفته می‌شود.",
            )
        text = international[2:]
    elif text.startswith("98") and len(text) in (12, 13):
        text = text[2:]
    return text.removeprefix("0")


def _to_e164(raw: object) -> str:
    rest = _national_part(_mobile_chars(raw))
    if not rest.startswith("9"):
        raise _mobile_error(
            "not-mobile",
            "This is not a mobile number; Iranian mobile numbers start with 09.",
            "این شماره همراه نیست؛ شماره همراه در ایران با ۰۹ شروع می‌شود.",
        )
    if len(rest) != 10:
        raise _mobile_length_error()
    return f"+98{rest}"


@dataclass(frozen=True, slots=True)
class MobileNumber:
    """An Iranian mobile number, stored in E.164 form (``+989121234567``).

    Accepted spellings: ``09121234567``, ``9121234567``, ``+989121234567``,
    ``00989121234567``, ``989121234567``, also ``+98 (0) 912 ...``, with
    Persian digits, spaces, dashes and parentheses. Any ``9`` prefix is
    accepted: operators' prefix ranges change faster than this code would.
    """

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise _mobile_type_error()
        if not _E164_MOBILE.fullmatch(self.value):
            raise _mobile_error(
                "not-canonical",
                "Internal error: build mobile numbers with MobileNumber.parse.",
                "خطای داخلی: شماره همراه را با MobileNumber.parse بسازید.",
            )

    @classmethod
    def parse(cls, raw: object) -> Self:
        """Parse what a person typed; raise InvalidValue on anything invalid."""
        return cls(_to_e164(raw))

    def local(self) -> str:
        """Return the domestic form ``09121234567`` used in Persian views and SMS gateways."""
        return "0" + self.value[3:]

    def __str__(self) -> str:
        return self.value
