"""Iranian identifiers: one parse per type, InvalidValue and nothing else on bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain import (
    InvalidValue,
    LegalId,
    MobileNumber,
    NationalCode,
    PostalCode,
    legal_id_check_digit,
    national_code_check_digit,
    persian_digits,
)

Parser = Callable[[object], object]
PARSERS: list[Parser] = [NationalCode.parse, LegalId.parse, PostalCode.parse, MobileNumber.parse]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def reference_national_check(first_nine: str) -> int:
    """The published rule, written independently of the code under test."""
    r = sum(int(first_nine[i]) * (10 - i) for i in range(9)) % 11
    return r if r < 2 else 11 - r


def reference_legal_check(first_ten: str) -> int:
    d = int(first_ten[9]) + 2
    weights = [29, 27, 23, 19, 17] * 2
    r = sum((int(first_ten[i]) + d) * weights[i] for i in range(10)) % 11
    return 0 if r == 10 else r


def error_of(raw: object, parse: Callable[..., object]) -> InvalidValue:
    with pytest.raises(InvalidValue) as info:
        parse(raw)
    return info.value


def code_of(raw: object, parse: Callable[..., object]) -> str:
    return error_of(raw, parse).code


def outcome(parse: Parser, raw: object) -> InvalidValue | None:
    """Run ``parse``; return the InvalidValue it raised, let any other exception escape."""
    try:
        parse(raw)
    except InvalidValue as err:
        return err
    return None


# --- national code -----------------------------------------------------------------

VALID_NATIONAL_CODES = ["0013542419", "1234567891", "0000000019", "9876543210", "1000000109"]


@pytest.mark.parametrize("code", VALID_NATIONAL_CODES)
def test_it_accepts_valid_national_codes(code: str) -> None:
    assert NationalCode.parse(code).value == code


@pytest.mark.parametrize(
    "raw",
    [
        "۰۰۱۳۵۴۲۴۱۹",
        "٠٠١٣٥٤٢٤١٩",
        "۰۰۱-۳۵۴۲۴۱-۹",
        "001-354241-9",
        " 001 354 2419 ",
        "001\u200c3542419",
        "\u200f001\u00a03542419\u200e",
        "001–354—241‐9",
        "۰۰1354٢٤19",
    ],
)
def test_it_accepts_a_national_code_written_with_other_digits_spaces_or_dashes(raw: str) -> None:
    assert NationalCode.parse(raw) == NationalCode("0013542419")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "national-code.type"),
        (13542419, "national-code.type"),
        (b"0013542419", "national-code.type"),
        (["0013542419"], "national-code.type"),
        ("", "national-code.empty"),
        ("   ", "national-code.empty"),
        ("- -", "national-code.empty"),
        ("\u200c\u200b", "national-code.empty"),
        ("abc", "national-code.not-digits"),
        ("00135a2419", "national-code.not-digits"),
        ("001.3542419", "national-code.not-digits"),
        ("+0013542419", "national-code.not-digits"),
        ("١٢٣\x00", "national-code.not-digits"),
        ("१२३४५६७८९०", "national-code.not-digits"),  # Devanagari digits: int() takes them
        ("０１２３４５６７８９", "national-code.not-digits"),  # full-width digits
        ("13542419", "national-code.length"),  # 8 digits: never left-padded
        ("013542419", "national-code.length"),  # 9 digits: never left-padded
        ("00135424190", "national-code.length"),
        ("0" * 65, "national-code.length"),
        ("0013542418", "national-code.checksum"),
        ("0013542410", "national-code.checksum"),
        ("1234567890", "national-code.checksum"),
    ],
)
def test_it_refuses_invalid_national_codes_with_a_specific_code(raw: object, code: str) -> None:
    assert code_of(raw, NationalCode.parse) == code


@pytest.mark.parametrize("digit", list("0123456789"))
def test_it_rejects_all_ten_repeated_digit_codes_although_they_pass_the_checksum(
    digit: str,
) -> None:
    assert national_code_check_digit(digit * 9) == digit  # the reason for the rule
    assert code_of(digit * 10, NationalCode.parse) == "national-code.repeated"


def test_it_rejects_a_code_whose_check_digit_is_wrong() -> None:
    err = error_of("0013542418", NationalCode.parse)
    assert err.code == "national-code.checksum"
    assert str(err).startswith("The national code's check digit is wrong.")
    assert err.message("fa").startswith("رقم کنترل کد ملی درست نیست.")


def test_the_length_message_says_ten_digits_in_both_languages() -> None:
    err = error_of("13542419", NationalCode.parse)
    assert "10 digits" in err.message_en
    assert "۱۰ رقم" in err.message_fa


def test_error_messages_do_not_echo_the_input() -> None:
    err = error_of("0013542418", NationalCode.parse)
    assert "0013542418" not in err.message_en + err.message_fa


def test_masked_shows_the_first_and_last_three_digits() -> None:
    assert NationalCode.parse("0013542419").masked() == "001****419"


def test_str_is_the_canonical_value() -> None:
    assert str(NationalCode.parse("۰۰۱-۳۵۴۲۴۱-۹")) == "0013542419"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("۰۰۱۳۵۴۲۴۱۹", "national-code.not-digits"),
        (" 0013542419", "national-code.not-digits"),
        ("0013542418", "national-code.checksum"),
        (13542419, "national-code.type"),
    ],
)
def test_direct_construction_only_accepts_the_canonical_valid_form(
    value: object, code: str
) -> None:
    assert code_of(value, NationalCode) == code


def test_identifiers_are_immutable_and_hashable() -> None:
    code = NationalCode.parse("0013542419")
    with pytest.raises(AttributeError):
        code.value = "1234567891"  # type: ignore[misc]
    assert {code, NationalCode("0013542419")} == {code}


@pytest.mark.parametrize("prefix", ["", "00135424", "0013542411", "۰۰۱۳۵۴۲۴۱", "00135424a", None])
def test_national_code_check_digit_needs_nine_ascii_digits(prefix: object) -> None:
    assert code_of(prefix, national_code_check_digit) == "national-code.prefix"


@given(st.text("0123456789", min_size=9, max_size=9))
def test_every_prefix_with_its_check_digit_parses_and_no_other_digit_does(prefix: str) -> None:
    check = national_code_check_digit(prefix)
    assert int(check) == reference_national_check(prefix)
    if prefix == prefix[0] * 9 and check == prefix[0]:
        return  # repeated-digit codes are refused for another reason
    if prefix[3:9] == "000000":
        assert code_of(prefix + check, NationalCode.parse) == "national-code.serial"
    else:
        assert NationalCode.parse(prefix + check).value == prefix + check
    for wrong in "0123456789".replace(check, ""):
        assert code_of(prefix + wrong, NationalCode.parse) == "national-code.checksum"


@given(st.text("0123456789", min_size=9, max_size=9))
def test_persian_and_arabic_indic_renderings_parse_to_the_same_value(prefix: str) -> None:
    code = prefix + national_code_check_digit(prefix)
    if code == code[0] * 10 or code[3:9] == "000000":
        return
    assert NationalCode.parse(persian_digits(code)).value == code
    assert NationalCode.parse(code.translate(ARABIC_INDIC)).value == code
    assert NationalCode.parse(f"{persian_digits(code[:3])}-{code[3:9]}-{code[9]}").value == code


# --- legal-entity national ID --------------------------------------------------------

VALID_LEGAL_IDS = ["10100001007", "10101863245", "14100123454", "10862017542", "00000000106"]


@pytest.mark.parametrize("legal_id", VALID_LEGAL_IDS)
def test_it_accepts_valid_legal_ids(legal_id: str) -> None:
    assert LegalId.parse(legal_id).value == legal_id
    assert LegalId.parse(persian_digits(legal_id)).value == legal_id
    assert str(LegalId.parse(f" {legal_id[:5]}-{legal_id[5:]} ")) == legal_id


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "legal-id.type"),
        (10100000006, "legal-id.type"),
        ("", "legal-id.empty"),
        ("1010000000x", "legal-id.not-digits"),
        ("1010000000", "legal-id.length"),
        ("101000000060", "legal-id.length"),
        ("1" * 100, "legal-id.length"),
        ("10100000007", "legal-id.checksum"),
        ("10101863240", "legal-id.checksum"),
    ],
)
def test_it_refuses_invalid_legal_ids_with_a_specific_code(raw: object, code: str) -> None:
    assert code_of(raw, LegalId.parse) == code


@pytest.mark.parametrize("digit", list("0123456789"))
def test_it_rejects_every_repeated_digit_legal_id(digit: str) -> None:
    assert code_of(digit * 11, LegalId.parse) == "legal-id.repeated"


def test_only_one_repeated_digit_legal_id_would_pass_the_checksum() -> None:
    passing = [d for d in "0123456789" if legal_id_check_digit(d * 10) == d]
    assert passing == ["3"]


@pytest.mark.parametrize("prefix", ["", "101000000", "10100000000", "۱۰۱۰۰۰۰۰۰۰", None])
def test_legal_id_check_digit_needs_ten_ascii_digits(prefix: object) -> None:
    assert code_of(prefix, legal_id_check_digit) == "legal-id.prefix"


@given(st.text("0123456789", min_size=10, max_size=10))
def test_every_legal_id_prefix_with_its_check_digit_parses_and_no_other_digit_does(
    prefix: str,
) -> None:
    check = legal_id_check_digit(prefix)
    assert int(check) == reference_legal_check(prefix)
    if prefix == prefix[0] * 10:
        return
    if prefix[3:9] == "000000":
        assert code_of(prefix + check, LegalId.parse) == "legal-id.serial"
    else:
        assert LegalId.parse(prefix + check).value == prefix + check
    for wrong in "0123456789".replace(check, ""):
        assert code_of(prefix + wrong, LegalId.parse) == "legal-id.checksum"


# --- postal code -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1193653471", "1193653471"),
        ("۱۱۹۳۶-۵۳۴۷۱", "1193653471"),
        (" 11936 53471 ", "1193653471"),
        ("1234567890", "1234567890"),
    ],
)
def test_it_accepts_ten_digit_postal_codes(raw: str, value: str) -> None:
    assert PostalCode.parse(raw).value == value


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (1193653471, "postal-code.type"),
        ("", "postal-code.empty"),
        ("11936-5347a", "postal-code.not-digits"),
        ("119365347", "postal-code.length"),
        ("11936534710", "postal-code.length"),
        ("1111111111", "postal-code.repeated"),
        ("0000000000", "postal-code.repeated"),
    ],
)
def test_it_refuses_invalid_postal_codes_with_a_specific_code(raw: object, code: str) -> None:
    assert code_of(raw, PostalCode.parse) == code


# --- mobile number ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "09121234567",
        "9121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "+98 912 123 4567",
        "+98 (0) 912-123-4567",
        "(0912) 123-4567",
        "0098-912-123-45-67",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸۹۱۲۱۲۳۴۵۶۷",
        "\u200f۰۹۱۲ ۱۲۳ ۴۵۶۷",
    ],
)
def test_it_accepts_every_usual_spelling_of_a_mobile_number(raw: str) -> None:
    number = MobileNumber.parse(raw)
    assert number.value == "+989121234567"
    assert str(number) == "+989121234567"
    assert number.local() == "09121234567"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "mobile.type"),
        (9121234567, "mobile.type"),
        ("", "mobile.empty"),
        ("() - ", "mobile.empty"),
        ("0912-123-456x", "mobile.not-digits"),
        ("0912+1234567", "mobile.not-digits"),
        ("++989121234567", "mobile.not-digits"),
        ("+19121234567", "mobile.country"),
        ("00449121234567", "mobile.country"),
        ("02112345678", "mobile.not-mobile"),
        ("+982112345678", "mobile.not-mobile"),
        ("0912123456", "mobile.length"),
        ("091212345678", "mobile.length"),
        ("+98912123456", "mobile.length"),
        ("0" * 65, "mobile.length"),
    ],
)
def test_it_refuses_invalid_mobile_numbers_with_a_specific_code(raw: object, code: str) -> None:
    assert code_of(raw, MobileNumber.parse) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("09121234567", "mobile.not-canonical"),
        ("+98912123456", "mobile.not-canonical"),
        ("+۹۸۹۱۲۱۲۳۴۵۶۷", "mobile.not-canonical"),
        (989121234567, "mobile.type"),
    ],
)
def test_direct_mobile_construction_needs_the_e164_form(value: object, code: str) -> None:
    assert code_of(value, MobileNumber) == code


@given(st.text("0123456789", min_size=9, max_size=9))
def test_all_spellings_of_one_mobile_number_give_the_same_value(rest: str) -> None:
    national = "9" + rest
    spellings = [
        "0" + national,
        national,
        "+98" + national,
        "0098" + national,
        "98" + national,
        "+980" + national,
        persian_digits("0" + national),
        f"0{national[:3]} {national[3:6]}-{national[6:]}",
        f"+98 ({national[:3]}) {national[3:]}",
    ]
    values = {MobileNumber.parse(s).value for s in spellings}
    assert values == {"+98" + national}
    assert MobileNumber.parse(spellings[0]).local() == "0" + national


# --- robustness ------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=()))
IDENTIFIER_LIKE = st.text(st.sampled_from(list("0123456789۰۹٠٩+-() ()\u200c\u00a0a.")))
NON_TEXT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(),
    st.lists(st.integers()),
    st.dictionaries(st.text(), st.integers()),
    st.builds(object),
)


@pytest.mark.parametrize("parse", PARSERS)
@given(raw=st.one_of(ANY_TEXT, IDENTIFIER_LIKE, NON_TEXT))
def test_parse_raises_nothing_but_invalid_value(parse: Parser, raw: object) -> None:
    err = outcome(parse, raw)
    if err is not None:
        assert err.code
        assert err.message_en
        assert err.message_fa


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    "raw", ["\ud800" * 3, "\x00" * 10, "۰" * 10_000_000, "\u202e0912\u202c", "0\u0301" * 10]
)
def test_parse_survives_hostile_strings(parse: Parser, raw: str) -> None:
    with pytest.raises(InvalidValue):
        parse(raw)
