"""Persian normalization: the one place where keyboard and encoding noise is removed."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain import (
    ascii_digits,
    identifier_text,
    normalize,
    number_text,
    persian_digits,
    search_key,
)

# Every code point, surrogates and control characters included.
ANY_TEXT = st.text(st.characters(exclude_categories=()))
# Text made mostly of the characters the functions touch, to reach the tricky paths.
PERSIAN_NOISE = st.text(
    st.sampled_from(
        "يىكەةئۀآأإؤاهیکبن ۱٤9"
        "\u200c\u200d\u200b\u0640\u00a0\u2009\t\n"
        "\u064b\u064e\u0651\u0653\u0654\u0670\ufefb\ufef1"
        "\u0301IİßﬀＡ"
    )
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("موسى", "موسی"),  # alef maksura
        ("كتاب", "کتاب"),  # Arabic kaf
        ("خانە", "خانه"),  # U+06D5 ae
        ("دایرةالمعارف", "دایرةالمعارف"),  # teh marbuta is kept for display
        ("مسئله", "مسئله"),  # hamza on yeh is kept
        ("خانۀ", "خانۀ"),  # heh with yeh above is kept
        ("مُحَمَّد", "مُحَمَّد"),  # diacritics are kept
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("تهـــران", "تهران"),  # tatweel
        ("a\u00a0b\u2009c\u202fd\u3000e", "a b c d e"),  # NBSP, thin, narrow NBSP, ideographic
        ("  a \t\n b  ", "a b"),
        ("می\u200c\u200c\u200cخواهم", "می\u200cخواهم"),
        ("کتاب\u200c ها", "کتاب ها"),
        ("کتاب \u200cها", "کتاب ها"),
        ("\u200cکتاب\u200c", "کتاب"),
        ("\u200c \u200c", ""),
        ("a\u200bb\ufeffc\u200ed\u200ff\u061cg", "abcdfg"),
        ("\u202bسلام\u202c", "سلام"),
        ("\u2067سلام\u2069", "سلام"),
        ("👨\u200d👩", "👨\u200d👩"),  # ZWJ is kept for emoji
        ("\ufefb", "\ufefb"),  # presentation forms survive (NFC only)
        ("\u0627\u0653", "\u0622"),  # decomposed alef with madda is composed
        ("\u064a\u0654", "\u0626"),  # decomposed yeh + hamza stays a hamza yeh
        ("ا\u0640\u0653", "\u0622"),  # composed again after tatweel goes
        ("", ""),
    ],
)
def test_normalize_removes_keyboard_and_encoding_noise(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("می\u200cخواهم", "میخواهم"),
        ("مُحَمَّد", "محمد"),
        ("آب", "اب"),
        ("أحمد", "احمد"),
        ("إسلام", "اسلام"),
        ("مؤسسه", "موسسه"),
        ("پائیز", "پاییز"),
        ("دایرةالمعارف", "دایرهالمعارف"),
        ("خانۀ", "خانه"),
        ("خانهٔ", "خانه"),
        ("\ufefb", "لا"),  # lam-alef ligature
        ("\ufe91\ufe8e\ufe91", "باب"),  # positional forms
        ("علي كريمي", "علی کریمی"),
        ("TEHRAN", "tehran"),
        ("Ａｂｃ", "abc"),
        ("قرآنٰ", "قران"),
        ("تهران  ۱۴۰۵", "تهران 1405"),
        ("a \u064b b", "a b"),  # a lone mark between spaces does not leave two spaces
    ],
)
def test_search_key_matches_spelling_variants(a: str, b: str) -> None:
    assert search_key(a) == search_key(b)


def test_search_key_does_not_merge_different_words() -> None:
    assert search_key("کتاب") != search_key("کباب")


def test_ascii_digits_only_changes_digits() -> None:
    assert ascii_digits("کد ۰۱۲۳۴۵۶۷۸۹ / ٠١٢٣٤٥٦٧٨٩ ي") == "کد 0123456789 / 0123456789 ي"


def test_persian_digits_only_changes_ascii_digits() -> None:
    assert persian_digits("1405/09/07 ab") == "۱۴۰۵/۰۹/۰۷ ab"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("۰۰۱-۳۵۴۲۴۱-۹", "0013542419"),
        (" 001 354 2419 ", "0013542419"),
        ("001‐354‑241–9—", "0013542419"),
        ("001−3542419", "0013542419"),
        ("001\u200c354\u200d2419", "0013542419"),
        ("001\u00a03542419", "0013542419"),
        ("001.3542419", "001.3542419"),  # dots are not removed, so they fail validation
        ("001/3542419", "001/3542419"),
    ],
)
def test_identifier_text_drops_spaces_dashes_and_zero_width_characters(
    raw: str, expected: str
) -> None:
    assert identifier_text(raw) == expected


@given(st.one_of(ANY_TEXT, PERSIAN_NOISE))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@given(st.one_of(ANY_TEXT, PERSIAN_NOISE))
def test_search_key_is_idempotent(text: str) -> None:
    once = search_key(text)
    assert search_key(once) == once


@given(st.one_of(ANY_TEXT, PERSIAN_NOISE))
def test_normalize_output_has_no_noise_left(text: str) -> None:
    out = normalize(text)
    assert not set(out) & set("يىكە\u0640\u200b\ufeff\u200e\u200f۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")
    assert out == out.strip(" \u200c")
    assert "  " not in out
    assert "\u200c\u200c" not in out
    assert " \u200c" not in out
    assert "\u200c " not in out
    assert unicodedata.is_normalized("NFC", out)


@given(st.one_of(ANY_TEXT, PERSIAN_NOISE))
def test_search_key_ignores_zwnj_and_diacritics(text: str) -> None:
    assert "\u200c" not in search_key(text)
    assert not any("\u064b" <= c <= "\u065f" for c in search_key(text))


@given(st.text(st.characters(codec="ascii")))
def test_ascii_and_persian_digits_round_trip(text: str) -> None:
    assert ascii_digits(persian_digits(text)) == text


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1299, "fa", "۱٬۲۹۹"),
        (1_300_000, "fa", "۱٬۳۰۰٬۰۰۰"),
        (12, "fa", "۱۲"),
        (1299, "en", "1,299"),
        (1299, "en-US", "1,299"),
        (3.25, "fa", "۳٫۲۵"),
        (1234.5, "en", "1,234.5"),
        (2.0, "fa", "۲"),
    ],
)
def test_number_text_groups_thousands_in_each_languages_own_marks(
    value: float, lang: str, expected: str
) -> None:
    assert number_text(value, lang) == expected


def test_a_persian_number_holds_no_latin_comma_and_no_persian_comma() -> None:
    text = number_text(987_654_321, "fa")
    assert "," not in text
    assert "،" not in text
    assert ascii_digits(text).replace("\u066c", "") == "987654321"


def test_number_text_keeps_the_places_asked_for() -> None:
    assert number_text(12.0, "fa", decimals=1) == "۱۲٫۰"
    assert number_text(99.95, "en", decimals=0) == "100"
