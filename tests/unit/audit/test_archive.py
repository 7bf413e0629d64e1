"""The archive's months and its streaming Merkle root (panjereh.audit.archive)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from panjereh.audit import merkle
from panjereh.audit.archive import (
    ArchivedCuts,
    MerkleStream,
    Month,
    record_fields,
    record_from_fields,
)


@pytest.mark.parametrize("size", range(0, 41))
def test_the_streamed_root_is_the_rfc_9162_root(size: int) -> None:
    leaves = [merkle.leaf_hash(hashlib.sha256(bytes([n])).digest()) for n in range(size)]
    stream = MerkleStream()
    for leaf in leaves:
        stream.add(leaf)
    assert stream.size == size
    assert stream.root() == merkle.root(leaves)


def test_a_month_runs_from_the_first_at_midnight_utc_to_the_next_first() -> None:
    december = Month.parse("2026-12")
    assert (december.start, december.end) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert str(december) == "2026-12"
    assert december.partition == "audit_records_y2026m12"
    assert Month.of(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)) == Month(2026, 11)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-01", "2026/01", "۲۰۲۶-۰۱", "1969-12"])
def test_a_month_that_is_not_yyyy_mm_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a month"):
        Month.parse(text)


def test_the_cuts_answer_which_records_are_archived_and_their_kept_hashes() -> None:
    cuts = ArchivedCuts(cuts={"a": (4, "44" * 32)}, boundary={"a": {3: "33" * 32}})
    assert (cuts.archived("a", 4), cuts.archived("a", 5), cuts.archived("b", 1)) == (
        True,
        False,
        False,
    )
    assert [cuts.hash_at("a", n) for n in (2, 3, 4)] == [None, "33" * 32, "44" * 32]
    assert cuts.starts() == {"a": (4, bytes.fromhex("44" * 32))}
    assert cuts.wholly_archived({"a": (1, 4)})
    assert not cuts.wholly_archived({"a": (3, 5)})
    assert list(cuts.archived_leaves("a", 2, 3)) == [
        None,
        merkle.leaf_hash(bytes.fromhex("33" * 32)),
    ]


def test_a_record_comes_back_from_its_archived_fields_and_a_time_in_another_form_is_refused() -> (
    None
):
    from tests.integration.storage.test_audit_verify import _record

    record = _record(3)
    fields = record_fields(record)
    assert fields["created_at"] == "2026-12-02T09:00:03.000000Z"
    assert record_from_fields(fields) == record
    with pytest.raises(ValueError, match=r"YYYY-MM-DDTHH:MM:SS\.ffffffZ"):
        record_from_fields({**fields, "created_at": "2026-12-02T09:00:03Z"})
