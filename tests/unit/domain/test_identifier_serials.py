"""Digits 4-9 of a national code or a legal ID are a serial number that is never all zero
(docs/domain.md, "Why digits 4-9 may not all be zero"): the rule persian-tools'
`verifyIranianNationalId` and `verifyIranianLegalId` apply, so that Panjereh and the agencies
that validate with persian-tools accept exactly the same identifiers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain import InvalidValue, LegalId, NationalCode
from panjereh.domain.identifiers import (
    issuable_legal_id,
    issuable_national_code,
    legal_id_check_digit,
    national_code_check_digit,
    recorded_legal_id,
    recorded_national_code,
)

DIGITS = "0123456789"
ZERO_SERIAL_CODE = "0010000003"  # office 001, serial 000000, a correct check digit
ZERO_SERIAL_LEGAL_ID = "14000000003"


def persian_tools_national_id(code: str) -> bool:
    """persian-tools' verifyIranianNationalId on 10 ASCII digits, restated from its published
    rules (prefix list off): not one of the ten repeated-digit codes, digits 4-9 not all zero,
    the mod-11 check digit."""
    if len(set(code)) == 1 or int(code[3:9]) == 0:
        return False
    r = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
    return int(code[9]) == (r if r < 2 else 11 - r)


def persian_tools_legal_id(legal_id: str) -> bool:
    """persian-tools' verifyIranianLegalId on 11 ASCII digits, restated: not zero, digits 4-9
    not all zero, the weighted check digit (10 counts as 0)."""
    if int(legal_id) == 0 or int(legal_id[3:9]) == 0:
        return False
    d = int(legal_id[9]) + 2
    weights = (29, 27, 23, 19, 17) * 2
    r = sum((d + int(legal_id[i])) * weights[i] for i in range(10)) % 11
    return int(legal_id[10]) == (0 if r == 10 else r)


def accepts(parse: type[NationalCode] | type[LegalId], raw: str) -> bool:
    try:
        parse.parse(raw)
    except InvalidValue:
        return False
    return True


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


# A serial that is often all zero, and a last digit that is often the right check digit:
# uniform digits would almost never reach the cases that matter.
SERIALS = st.one_of(st.just("000000"), digits(6))


@st.composite
def national_codes(draw: st.DrawFn) -> str:
    first_nine = draw(digits(3)) + draw(SERIALS)
    last = draw(st.one_of(st.just(national_code_check_digit(first_nine)), digits(1)))
    return first_nine + last


@st.composite
def legal_ids(draw: st.DrawFn) -> str:
    first_ten = draw(digits(3)) + draw(SERIALS) + draw(digits(1))
    last = draw(st.one_of(st.just(legal_id_check_digit(first_ten)), digits(1)))
    return first_ten + last


def test_it_refuses_a_national_code_whose_serial_is_all_zero_despite_its_check_digit() -> None:
    assert national_code_check_digit(ZERO_SERIAL_CODE[:9]) == ZERO_SERIAL_CODE[9]
    with pytest.raises(InvalidValue) as info:
        NationalCode.parse(ZERO_SERIAL_CODE)
    assert info.value.code == "national-code.serial"
    assert info.value.message("en") == "A national code's digits 4 to 9 cannot all be zero."
    assert info.value.message("fa") == "رقم‌های چهارم تا نهم کد ملی نمی‌توانند همه صفر باشند."
    assert ZERO_SERIAL_CODE not in info.value.message_en + info.value.message_fa


def test_it_refuses_a_legal_id_whose_digits_4_to_9_are_all_zero_despite_its_check_digit() -> None:
    assert legal_id_check_digit(ZERO_SERIAL_LEGAL_ID[:10]) == ZERO_SERIAL_LEGAL_ID[10]
    with pytest.raises(InvalidValue) as info:
        LegalId.parse(ZERO_SERIAL_LEGAL_ID)
    assert info.value.code == "legal-id.serial"
    assert info.value.message("en") == "A legal-entity ID's digits 4 to 9 cannot all be zero."
    assert info.value.message("fa") == "رقم‌های چهارم تا نهم شناسه ملی نمی‌توانند همه صفر باشند."


def test_a_wrong_check_digit_is_named_before_a_zero_serial() -> None:
    with pytest.raises(InvalidValue) as info:
        NationalCode.parse("0010000004")
    assert info.value.code == "national-code.checksum"


def test_the_serial_rule_also_holds_for_direct_construction_and_persian_digits() -> None:
    with pytest.raises(InvalidValue):
        NationalCode(ZERO_SERIAL_CODE)
    with pytest.raises(InvalidValue):
        LegalId.parse("۱۴۰۰۰۰۰۰۰۰۳")


@given(national_codes())
def test_national_codes_are_accepted_exactly_when_persian_tools_accepts_them(code: str) -> None:
    assert accepts(NationalCode, code) == persian_tools_national_id(code)


@given(legal_ids())
def test_legal_ids_are_accepted_exactly_when_persian_tools_accepts_them_and_are_not_one_digit(
    legal_id: str,
) -> None:
    # persian-tools accepts 33333333333 (it passes the checksum); a placeholder is refused here.
    expected = persian_tools_legal_id(legal_id) and len(set(legal_id)) > 1
    assert accepts(LegalId, legal_id) == expected


# Values recorded before the rule ------------------------------------------------------------


@given(national_codes())
def test_a_recorded_national_code_passes_every_rule_but_the_serial(code: str) -> None:
    """What the audit log's search by national code accepts: records about a code that was
    valid before the serial rule can still be found."""
    old_rules = len(set(code)) > 1 and code[9] == national_code_check_digit(code[:9])
    if old_rules:
        assert recorded_national_code(code) == code
    else:
        with pytest.raises(InvalidValue) as info:
            recorded_national_code(code)
        assert info.value.code in ("national-code.repeated", "national-code.checksum")


def test_a_recorded_legal_id_may_have_a_zero_serial_but_not_a_wrong_check_digit() -> None:
    assert recorded_legal_id(" ۱۴۰۰۰-۰۰۰۰۰۳ ") == ZERO_SERIAL_LEGAL_ID
    assert recorded_national_code(ZERO_SERIAL_CODE) == ZERO_SERIAL_CODE
    with pytest.raises(InvalidValue) as info:
        recorded_legal_id("14000000004")
    assert info.value.code == "legal-id.checksum"
    with pytest.raises(InvalidValue) as repeated:
        recorded_national_code("1111111111")
    assert repeated.value.code == "national-code.repeated"


# Generators (the simulator, the benchmarks) -------------------------------------------------


@given(digits(9))
def test_an_issuable_national_code_is_one_that_parses(first_nine: str) -> None:
    made = issuable_national_code(first_nine)
    complete = first_nine + national_code_check_digit(first_nine)
    if made is None:
        assert not accepts(NationalCode, complete)
        assert first_nine[3:] == "000000" or len(set(complete)) == 1
    else:
        assert made == NationalCode.parse(complete)


@given(digits(10))
def test_an_issuable_legal_id_is_one_that_parses(first_ten: str) -> None:
    made = issuable_legal_id(first_ten)
    complete = first_ten + legal_id_check_digit(first_ten)
    assert (made is None) == (not accepts(LegalId, complete))
    if made is not None:
        assert made.value == complete


def test_prefixes_with_a_zero_serial_are_not_issuable() -> None:
    assert issuable_national_code(ZERO_SERIAL_CODE[:9]) is None
    assert issuable_legal_id(ZERO_SERIAL_LEGAL_ID[:10]) is None
    assert issuable_national_code("999999999") is None  # 9999999999: one digit
