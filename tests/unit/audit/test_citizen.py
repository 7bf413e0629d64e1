"""The citizen view's rules: which records are withheld, how pages are addressed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.audit.citizen import (
    INVALID_PURPOSE,
    CitizenPurpose,
    ConfidentialGrant,
    ConfidentialGrants,
    Cursor,
    Period,
    SubjectRecord,
    Withholding,
    check_limit,
    check_reason,
    citizen_purpose,
    tehran_day,
)
from panjereh.domain.errors import InvalidValue

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SECRET = ConfidentialGrant(7, "judiciary/cases", "traffic-police.vehicles.v1", date(2027, 3, 21))
UNDATED = ConfidentialGrant(8, "police/intel", "civil-registry.person.v1", None)


def record(n: int, consumer: str | None, service: str | None) -> SubjectRecord:
    return SubjectRecord(f"x-{n}", AT, consumer, service, "p", "ok", "ab" * 32)


def test_a_confidential_grant_withholds_until_its_disclosure_day_and_not_on_it() -> None:
    assert SECRET.withholds_on(date(2027, 3, 20)) is True
    assert SECRET.withholds_on(date(2027, 3, 21)) is False
    assert SECRET.withholds_on(date(2027, 3, 22)) is False


def test_a_confidential_grant_without_a_date_withholds_indefinitely() -> None:
    assert UNDATED.withholds_on(date(9999, 12, 31)) is True


def test_only_records_under_a_confidential_pair_are_withheld() -> None:
    grants = ConfidentialGrants([SECRET, UNDATED])
    records = [
        record(1, "judiciary/cases", "traffic-police.vehicles.v1"),
        record(2, "judiciary/cases", "civil-registry.person.v1"),  # another service
        record(3, "police/intel", "civil-registry.person.v1"),
        record(4, None, "civil-registry.person.v1"),  # an unknown caller
        record(5, "judiciary/cases", None),
    ]
    today, disclosed = date(2026, 12, 2), date(2027, 3, 21)
    assert [grants.withholding(r, today) for r in records] == [
        Withholding("x-1", "ab" * 32, 7, date(2027, 3, 21), "judiciary/cases", SECRET.service_id),
        None,
        Withholding("x-3", "ab" * 32, 8, None, "police/intel", "civil-registry.person.v1"),
        None,
        None,
    ]
    assert [grants.withholding(r, disclosed) is None for r in records] == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert grants.withheld_pairs(today) == (
        ("judiciary/cases", "traffic-police.vehicles.v1"),
        ("police/intel", "civil-registry.person.v1"),
    )
    assert grants.withheld_pairs(disclosed) == (("police/intel", "civil-registry.person.v1"),)
    assert ConfidentialGrants([]).withheld_pairs(today) == ()


def test_the_day_that_counts_is_tehrans() -> None:
    assert tehran_day(datetime(2027, 3, 20, 20, 29, tzinfo=UTC)) == date(2027, 3, 20)
    assert tehran_day(datetime(2027, 3, 20, 20, 30, tzinfo=UTC)) == date(2027, 3, 21)


def test_a_period_runs_from_tehran_midnight_to_the_next_one() -> None:
    period = Period(date(2026, 12, 2), date(2026, 12, 2))
    assert period.start == datetime(2026, 12, 1, 20, 30, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 2, 20, 30, tzinfo=UTC)
    assert Period().start is None
    assert Period().end is None


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidValue) as caught:
        Period(date(2026, 12, 3), date(2026, 12, 2))
    assert caught.value.code == "citizen.period"
    assert caught.value.message_fa == "آغاز بازه پس از پایان آن است."


def test_a_cursor_comes_back_as_it_went() -> None:
    cursor = Cursor(datetime(2026, 12, 2, 9, 0, 0, 120000, tzinfo=UTC), "0190f3c2-1111")
    token = cursor.encode()
    assert token == "WyIyMDI2LTEyLTAyVDA5OjAwOjAwLjEyMDAwMFoiLCIwMTkwZjNjMi0xMTExIl0"
    assert Cursor.decode(token) == cursor


@given(st.text(max_size=300))
def test_any_other_cursor_is_refused_with_a_clear_error(token: str) -> None:
    code = None
    try:
        found = Cursor.decode(token)
    except InvalidValue as exc:  # the one way it may fail
        code = exc.code
    else:
        assert Cursor.decode(found.encode()) == found
    assert code in (None, "citizen.cursor")


@pytest.mark.parametrize("token", ["", "!!!", "W10", "WyJ4IiwieSJd", "a" * 201])
def test_malformed_cursors_are_refused(token: str) -> None:
    with pytest.raises(InvalidValue, match="not valid"):
        Cursor.decode(token)


def test_limits_and_reasons_are_checked() -> None:
    assert check_limit(1) == 1
    assert check_limit(200) == 200
    for bad in (0, 201):
        with pytest.raises(InvalidValue):
            check_limit(bad)
    assert check_reason("  I never\n asked  ") == "I never asked"
    for reason in ("ab", "x" * 1001):
        with pytest.raises(InvalidValue) as caught:
            check_reason(reason)
        assert caught.value.field == "reason"


# Declared purposes ----------------------------------------------------------------------------

NAMES = {"benefit-eligibility": ("تعیین استحقاق مزایا", "Benefit eligibility")}


def test_a_registered_purpose_reads_as_its_registered_names() -> None:
    shown = citizen_purpose("benefit-eligibility", NAMES)
    assert shown == CitizenPurpose("benefit-eligibility", *NAMES["benefit-eligibility"])
    assert shown is not None
    assert (shown.registered, shown.name("fa"), shown.name("en")) == (
        True,
        "تعیین استحقاق مزایا",
        "Benefit eligibility",
    )


@pytest.mark.parametrize(
    "declared", ["Your account is frozen - call 021-8888-0000", "Benefit eligibility", ""]
)
def test_anything_else_declared_reads_as_invalid_purpose_never_as_its_text(declared: str) -> None:
    shown = citizen_purpose(declared, NAMES)
    assert shown == INVALID_PURPOSE
    assert shown is not None
    assert (shown.code, shown.registered) == (None, False)
    assert (shown.name("fa"), shown.name("en")) == ("هدف نامعتبر", "Invalid purpose")


def test_no_declared_purpose_is_none() -> None:
    assert citizen_purpose(None, NAMES) is None
