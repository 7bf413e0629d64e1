"""The canonical form of an audit record and the chain over a shard's records."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from panjereh.audit.chain import FORMAT, GENESIS, canonical_bytes, chain_hash
from panjereh.audit.records import Outcome
from tests.support import RECORD


def test_the_canonical_bytes_of_a_record_are_exactly_the_documented_form() -> None:
    assert canonical_bytes(RECORD, "w1", 7) == (
        b'["panjereh.audit/1","w1",7,"0190f3c2-1111-7000-8000-000000000001",'
        b'"2026-12-02T08:30:00.120000Z","social-security/benefits","civil-registry.person.v1",'
        b'"benefit-eligibility","' + b"ab" * 32 + b'","ok",200,null,3250,"' + b"cd" * 32
        + b'","' + b"ef" * 32 + b'","3f1e2d4c-5b6a-4798-8a7b-6c5d4e3f2a1b","api-key",null,'
        b"false,1500]"
    )  # fmt: skip
    assert FORMAT == "panjereh.audit/1"


def test_the_same_instant_in_another_zone_has_the_same_bytes() -> None:
    tehran = timezone(timedelta(hours=3, minutes=30))
    same = dataclasses.replace(RECORD, created_at=RECORD.created_at.astimezone(tehran))
    assert canonical_bytes(same, "w1", 7) == canonical_bytes(RECORD, "w1", 7)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 12, 2, 8, 30, tzinfo=UTC), b'"2026-12-02T08:30:00.000000Z"'),
        (
            datetime(2026, 12, 2, 8, 30, 0, 5, tzinfo=timezone(timedelta(0))),
            b'"2026-12-02T08:30:00.000005Z"',
        ),
        (
            datetime(2026, 12, 2, 12, 0, tzinfo=timezone(timedelta(hours=3, minutes=30))),
            b'"2026-12-02T08:30:00.000000Z"',
        ),
    ],
)
def test_the_time_always_has_six_fraction_digits_in_utc(moment: datetime, text: bytes) -> None:
    canonical = canonical_bytes(dataclasses.replace(RECORD, created_at=moment), "w1", 7)
    assert canonical.split(b",")[4] == text


def test_a_naive_time_is_refused() -> None:
    naive = dataclasses.replace(RECORD, created_at=datetime(2026, 12, 2, 8, 30))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_bytes(naive, "w1", 1)


def test_persian_text_is_kept_as_utf8() -> None:
    persian = dataclasses.replace(RECORD, purpose="بررسی-مستمری")
    assert '"بررسی-مستمری"'.encode() in canonical_bytes(persian, "w1", 1)


@pytest.mark.parametrize(
    "change",
    [
        {"exchange_id": "0190f3c2-1111-7000-8000-000000000002"},
        {"created_at": RECORD.created_at + timedelta(microseconds=1)},
        {"consumer": "welfare-organization/clients"},
        {"service_id": "civil-registry.person.v2"},
        {"purpose": "audit"},
        {"subject_hash": "ba" * 32},
        {"outcome": Outcome.DENIED},
        {"status_code": 403},
        {"error_type": "access-denied"},
        {"duration_ms": 3.251},
        {"request_hash": "dc" * 32},
        {"response_hash": "fe" * 32},
        {"request_id": None},
        {"auth_method": "signature"},
        {"replay_of": "0190f3c2-1111-7000-8000-000000000000"},
        {"cached": True},
        {"provider_ms": None},
    ],
)
def test_every_field_is_covered(change: dict[str, object]) -> None:
    changed = dataclasses.replace(RECORD, **change)  # type: ignore[arg-type]
    assert canonical_bytes(changed, "w1", 7) != canonical_bytes(RECORD, "w1", 7)


def test_shard_and_sequence_are_covered() -> None:
    assert canonical_bytes(RECORD, "w2", 7) != canonical_bytes(RECORD, "w1", 7)
    assert canonical_bytes(RECORD, "w1", 8) != canonical_bytes(RECORD, "w1", 7)


def test_the_chain_hash_is_sha256_over_the_previous_hash_and_the_bytes() -> None:
    first = chain_hash(GENESIS, canonical_bytes(RECORD, "w1", 1))
    assert first == hashlib.sha256(bytes(32) + canonical_bytes(RECORD, "w1", 1)).digest()
    second = chain_hash(first, canonical_bytes(RECORD, "w1", 2))
    assert second != chain_hash(GENESIS, canonical_bytes(RECORD, "w1", 2))
    with pytest.raises(ValueError, match="32 bytes"):
        chain_hash(b"short", b"[]")


V2 = dataclasses.replace(
    RECORD,
    format=2,
    context="application/0190f3c2-aaaa",
    request_bytes=41,
    response_bytes=308,
    operation="POST /exchange/v1/{service_id}",
    projection_id="basic",
)


def test_a_format_2_record_has_its_own_tag_and_five_values_at_the_end() -> None:
    v1 = canonical_bytes(RECORD, "w1", 7)
    v2 = canonical_bytes(V2, "w1", 7)
    assert v2 == (
        v1[:-1].replace(b"panjereh.audit/1", b"panjereh.audit/2", 1)
        + b',"application/0190f3c2-aaaa",41,308,"POST /exchange/v1/{service_id}","basic"]'
    )
    empty = dataclasses.replace(V2, context=None, request_bytes=None, operation=None)
    assert canonical_bytes(empty, "w1", 7).endswith(b',null,null,308,null,"basic"]')


def test_a_format_1_record_ignores_the_format_2_values() -> None:
    stray = dataclasses.replace(RECORD, request_bytes=41, operation="GET /x")
    assert canonical_bytes(stray, "w1", 7) == canonical_bytes(RECORD, "w1", 7)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown audit record format"):
        canonical_bytes(dataclasses.replace(RECORD, format=3), "w1", 7)
