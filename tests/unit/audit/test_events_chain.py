"""The control-plane chain: canonical bytes pinned, and what the verifier names."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from panjereh.audit.events_chain import (
    GENESIS,
    STREAM,
    EventChainVerifier,
    EventProblem,
    StoredEvent,
    canonical_event_bytes,
    event_hash,
)
from panjereh.domain.events import AuditEvent, EventOutcome

EVENT = AuditEvent(
    datetime(2026, 12, 2, 7, 30, 0, 123456, tzinfo=UTC),
    "cli:maryam",
    "service.update",
    "service",
    "civil-registry.person.v1",
    "timeout raised",
    {"timeout_ms": 2000, "name_fa": "استعلام"},
    {"timeout_ms": 5000, "a": [2, {"z": 1, "b": None}]},
)
CANONICAL = (
    '["panjereh.event/1","control-plane",7,"2026-12-02T07:30:00.123456Z","cli:maryam",'
    '"service.update","service","civil-registry.person.v1","timeout raised",'
    '{"name_fa":"استعلام","timeout_ms":2000},{"a":[2,{"b":null,"z":1}],"timeout_ms":5000},'
    '"succeeded"]'
).encode()


def test_the_canonical_bytes_are_the_documented_sorted_json_array() -> None:
    assert canonical_event_bytes(EVENT, STREAM, 7) == CANONICAL


def test_the_time_is_written_in_utc_whatever_zone_it_came_in() -> None:
    tehran = EVENT.at.astimezone(timezone(timedelta(hours=3, minutes=30)))
    assert canonical_event_bytes(dataclasses.replace(EVENT, at=tehran), STREAM, 7) == CANONICAL


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_event_bytes(dataclasses.replace(EVENT, at=datetime(2026, 12, 2)), STREAM, 1)  # noqa: DTZ001


def test_an_events_hash_is_sha256_over_the_previous_hash_and_its_bytes() -> None:
    assert event_hash(GENESIS, CANONICAL) == hashlib.sha256(bytes(32) + CANONICAL).digest()


def chain(count: int) -> list[StoredEvent]:
    rows, head = [], GENESIS
    for seq in range(1, count + 1):
        event = dataclasses.replace(
            EVENT, object_id=f"s{seq}", outcome=EventOutcome.SUCCEEDED, before=None
        )
        head = event_hash(head, canonical_event_bytes(event, STREAM, seq))
        rows.append(StoredEvent(event, STREAM, seq, head.hex(), row_id=seq * 10))
    return rows


def check(rows: list[StoredEvent], head: tuple[int, str] | None) -> list[tuple[str, int | None]]:
    verifier = EventChainVerifier()
    found = [f for row in rows for f in verifier.feed(row)]
    found += verifier.finish(head)
    return [(f.problem.value, f.seq) for f in found]


def head_of(rows: list[StoredEvent]) -> tuple[int, str]:
    last = rows[-1]
    assert last.seq is not None
    assert last.record_hash is not None
    return last.seq, last.record_hash


def test_an_untouched_stream_has_no_findings() -> None:
    rows = chain(5)
    verifier = EventChainVerifier()
    assert [f for row in rows for f in verifier.feed(row)] == []
    assert verifier.finish(head_of(rows)) == []
    assert (verifier.summary.events, verifier.summary.last_seq) == (5, 5)
    assert verifier.summary.head == rows[-1].record_hash


def test_an_empty_stream_without_a_head_or_with_the_genesis_head_is_fine() -> None:
    assert check([], None) == []
    assert check([], (0, "00" * 32)) == []
    assert check([], (0, "ab" * 32)) == [("event-head", 0)]


def test_an_altered_event_is_named() -> None:
    rows = chain(5)
    rows[2] = dataclasses.replace(rows[2], event=dataclasses.replace(rows[2].event, actor="x"))
    assert check(rows, head_of(rows)) == [("event-broken-link", 3)]


def test_a_deleted_event_is_named() -> None:
    rows = chain(5)
    del rows[1]
    assert check(rows, head_of(rows)) == [("event-missing", 2)]


def test_an_event_inserted_without_a_place_is_named() -> None:
    rows = chain(3)
    stray = StoredEvent(EVENT, None, None, None, row_id=99)
    assert check([*rows, stray], head_of(rows)) == [("event-unchained", None)]


def test_two_swapped_events_are_named() -> None:
    rows = chain(4)
    a, b = rows[1], rows[2]
    rows[1] = dataclasses.replace(b, seq=2, record_hash=b.record_hash)
    rows[2] = dataclasses.replace(a, seq=3, record_hash=a.record_hash)
    assert check(rows, head_of(chain(4))) == [
        ("event-broken-link", 2),
        ("event-reordered", 3),
        ("event-broken-link", 3),
        ("event-broken-link", 4),
    ]


def test_a_truncated_tail_is_named_against_the_head() -> None:
    rows = chain(5)
    assert check(rows[:3], head_of(rows)) == [("event-truncated", 4)]


def test_a_head_that_is_not_the_last_events_is_named() -> None:
    rows = chain(3)
    assert check(rows, (3, "0" * 64)) == [("event-head", 3)]
    assert check(rows, None) == [("event-head", None)]


def test_a_malformed_stored_hash_is_named() -> None:
    rows = chain(2)
    rows[1] = dataclasses.replace(rows[1], record_hash="zz")
    assert check(rows, None)[0] == ("event-bad-hash", 2)
    assert EventProblem.BAD_HASH.value == "event-bad-hash"


# Heads pinned by signed checkpoints --------------------------------------------------------


def pinned_findings(rows: list[StoredEvent], pins: list[tuple[int, int, str]]) -> list[str]:
    verifier = EventChainVerifier(pinned=[seq for _, seq, _ in pins])
    for row in rows:
        verifier.feed(row)
    return [f.line() for f in verifier.check_pins(pins)]


def test_heads_pinned_by_checkpoints_that_the_stream_still_has_pass() -> None:
    rows = chain(6)
    pins = [(1, 0, "00" * 32), (2, 3, rows[2].record_hash or ""), (3, 6, head_of(rows)[1])]
    assert pinned_findings(rows, pins) == []


def test_a_stream_rewritten_with_its_chain_recomputed_is_named_at_the_first_pin() -> None:
    """Event 5 altered and every hash from it on recomputed: the chain verifies, the pins of
    checkpoints 3 and 4 (both at #6) do not; checkpoint 2's pin at #3 still holds."""
    original = chain(6)
    rewritten = chain(4)
    head = bytes.fromhex(rewritten[-1].record_hash or "")
    for seq in (5, 6):
        event = dataclasses.replace(original[seq - 1].event, reason="rewritten")
        head = event_hash(head, canonical_event_bytes(event, STREAM, seq))
        rewritten.append(StoredEvent(event, STREAM, seq, head.hex(), row_id=seq * 10))
    assert check(rewritten, head_of(rewritten)) == []
    pinned = head_of(original)[1]
    pins = [(2, 3, original[2].record_hash or ""), (3, 6, pinned), (4, 6, pinned)]
    assert pinned_findings(rewritten, pins) == [
        "event-rewritten: stream control-plane, event #6: checkpoint 3 (and 1 later ones) "
        f"pinned this head with another hash ({pinned[:16]}...): the stream was rewritten at "
        "or before this event (after #3, which an earlier checkpoint pinned and still holds)"
    ]


def test_a_tail_cut_off_with_its_head_row_is_named_by_the_pin() -> None:
    rows = chain(6)
    assert check(rows[:4], head_of(rows[:4])) == []
    assert pinned_findings(rows[:4], [(5, 6, head_of(rows)[1])]) == [
        "event-truncated: stream control-plane, event #6: checkpoint 5 pinned this event as "
        "the stream's head; it is gone: events at the end were deleted"
    ]
    assert EventProblem.REWRITTEN.value == "event-rewritten"
