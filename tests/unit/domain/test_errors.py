"""InvalidValue: one error type, a stable code, a sentence per language."""

from __future__ import annotations

import pickle

import pytest

from panjereh.domain import InvalidValue, PanjerehError


def _error(field: str | None = None) -> InvalidValue:
    return InvalidValue(
        "national-code.checksum",
        message_fa="رقم کنترل کد ملی درست نیست.",
        message_en="The national code's check digit is wrong.",
        field=field,
    )


def test_its_string_is_the_english_message() -> None:
    assert str(_error()) == "The national code's check digit is wrong."


def test_it_keeps_code_messages_and_field() -> None:
    err = _error(field="national_code")
    assert err.code == "national-code.checksum"
    assert err.message_fa == "رقم کنترل کد ملی درست نیست."
    assert err.message_en == "The national code's check digit is wrong."
    assert err.field == "national_code"


def test_field_defaults_to_none() -> None:
    assert _error().field is None


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "The national code's check digit is wrong."),
        ("EN", "The national code's check digit is wrong."),
        ("en-US", "The national code's check digit is wrong."),
        ("en_GB", "The national code's check digit is wrong."),
        ("fa", "رقم کنترل کد ملی درست نیست."),
        ("fa-IR", "رقم کنترل کد ملی درست نیست."),
        ("de", "رقم کنترل کد ملی درست نیست."),
        ("", "رقم کنترل کد ملی درست نیست."),
        ("eng", "رقم کنترل کد ملی درست نیست."),
    ],
)
def test_message_is_persian_unless_english_is_asked_for(lang: str, expected: str) -> None:
    assert _error().message(lang) == expected


def test_it_is_a_panjereh_error_and_a_value_error() -> None:
    err = _error()
    assert isinstance(err, PanjerehError)
    assert isinstance(err, ValueError)
    with pytest.raises(PanjerehError):
        raise err


def test_it_survives_pickling_with_all_attributes() -> None:
    copy = pickle.loads(pickle.dumps(_error(field="code")))  # noqa: S301 - our own bytes
    assert isinstance(copy, InvalidValue)
    assert (copy.code, copy.message_fa, copy.message_en, copy.field) == (
        "national-code.checksum",
        "رقم کنترل کد ملی درست نیست.",
        "The national code's check digit is wrong.",
        "code",
    )


def test_its_repr_names_the_code_but_not_the_messages() -> None:
    assert repr(_error()) == "InvalidValue(code='national-code.checksum', field=None)"
