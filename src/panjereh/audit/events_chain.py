"""The chain of control-plane events (registry changes, sign-ins, key rotations).

Control-plane events are chained like audit records, in a stream of their own (one stream,
``control-plane``; writers serialize on its head, which is fine: such events are rare)::

    record_hash = SHA-256(previous record_hash || canonical bytes)

with 32 zero bytes before the first event.  The canonical bytes (version 1) are the compact
JSON array, UTF-8, keys of every object sorted, of exactly these values in this order::

    ["panjereh.event/1", stream, seq, at, actor, action, object_type, object_id, reason,
     before, after, outcome]

- ``at``: UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (six fraction digits, as audit records);
- ``before`` and ``after``: the JSON objects (or ``null``) with their keys sorted at every
  level (orjson's ``OPT_SORT_KEYS``), so a database that reorders keys (JSONB) changes nothing;
- strings as JSON strings with no escaping beyond what JSON requires.

`EventChainVerifier` recomputes a stream and names what was altered, deleted, inserted or
moved, in the style of `panjereh.audit.verify`; with the heads the signed checkpoints pinned
(`check_pins`), also a stream rewritten or cut off by someone who recomputed its chain and its
head row, which the chain alone cannot show.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Any

import orjson

from panjereh.domain.events import AuditEvent

FORMAT = "panjereh.event/1"
STREAM = "control-plane"
GENESIS = bytes(32)


def _json(value: Mapping[str, Any] | None) -> Any:
    return None if value is None else dict(value)


def canonical_event_bytes(event: AuditEvent, stream: str, seq: int) -> bytes:
    """The bytes an event's hash covers (module docstring: format version 1)."""
    if event.at.utcoffset() is None:
        raise ValueError("an event's time must be timezone-aware")
    return orjson.dumps(
        [
            FORMAT,
            stream,
            seq,
            event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            event.actor,
            event.action,
            event.object_type,
            event.object_id,
            event.reason,
            _json(event.before),
            _json(event.after),
            event.outcome.value,
        ],
        option=orjson.OPT_SORT_KEYS,
    )


def event_hash(previous: bytes, canonical: bytes) -> bytes:
    if len(previous) != 32:
        raise ValueError("a previous hash is 32 bytes")
    return hashlib.sha256(previous + canonical).digest()


class EventProblem(StrEnum):
    BROKEN_LINK = "event-broken-link"  # this event, or the one before it, altered or moved
    MISSING = "event-missing"  # sequence numbers skipped: events deleted
    BAD_HASH = "event-bad-hash"  # a stored hash that is not 64 hex digits
    UNCHAINED = "event-unchained"  # an event without stream or number (inserted around us)
    REORDERED = "event-reordered"  # numbers that do not follow the order the rows were written
    TRUNCATED = "event-truncated"  # the stream's head names events that are gone
    HEAD = "event-head"  # the stream's head does not match its last event
    REWRITTEN = "event-rewritten"  # a head a signed checkpoint pinned has another hash now


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: AuditEvent
    stream: str | None
    seq: int | None
    record_hash: str | None
    row_id: int


@dataclass(frozen=True, slots=True)
class EventFinding:
    problem: EventProblem
    stream: str | None
    seq: int | None
    row_id: int | None
    detail: str

    def line(self) -> str:
        where = f"stream {self.stream}" if self.stream else "no stream"
        if self.seq is not None:
            where += f", event #{self.seq}"
        if self.row_id is not None:
            where += f" (row {self.row_id})"
        return f"{self.problem.value}: {where}: {self.detail}"


@dataclass(slots=True)
class EventSummary:
    events: int = 0
    last_seq: int = 0
    head: str = ""  # hex of the last stored hash


class EventChainVerifier:
    """Fed one stream's rows ordered by number (unchained rows anywhere), one at a time;
    `finish` compares the end with the stream's head row."""

    def __init__(self, stream: str = STREAM, pinned: Iterable[int] = ()) -> None:
        """``pinned``: the numbers whose stored hashes `check_pins` will compare."""
        self.stream = stream
        self.summary = EventSummary()
        self._expected, self._head = 1, GENESIS
        self._last_row_id = 0
        self._pinned = set(pinned)
        self._at_pins: dict[int, str] = {}  # pinned seq -> the hash stored at it

    def feed(self, row: StoredEvent) -> list[EventFinding]:
        self.summary.events += 1
        if row.stream is None or row.seq is None or row.record_hash is None:
            return [
                EventFinding(
                    EventProblem.UNCHAINED,
                    row.stream,
                    row.seq,
                    row.row_id,
                    "this event has no place in the chain (written around the event writer)",
                )
            ]
        found: list[EventFinding] = []
        seq = row.seq
        if seq != self._expected:
            found.append(
                EventFinding(
                    EventProblem.MISSING,
                    row.stream,
                    self._expected,
                    None,
                    f"events #{self._expected} to #{seq - 1} are missing (deleted)",
                )
            )
        if row.row_id < self._last_row_id:
            found.append(
                EventFinding(
                    EventProblem.REORDERED,
                    row.stream,
                    seq,
                    row.row_id,
                    "numbered after an event that was written later: events were moved",
                )
            )
        self._last_row_id = max(self._last_row_id, row.row_id)
        stored = _stored_hash(row.record_hash)
        if stored is None:
            found.append(
                EventFinding(
                    EventProblem.BAD_HASH,
                    row.stream,
                    seq,
                    row.row_id,
                    "the stored hash is not 64 hex digits",
                )
            )
            self._expected, self._head = seq + 1, GENESIS
            return found
        computed = event_hash(self._head, canonical_event_bytes(row.event, row.stream, seq))
        if seq == self._expected and not hmac.compare_digest(computed, stored):
            found.append(
                EventFinding(
                    EventProblem.BROKEN_LINK,
                    row.stream,
                    seq,
                    row.row_id,
                    "its hash does not follow from the event before it: this event (or, if its "
                    "hash was recomputed, the previous one) was altered, inserted or moved",
                )
            )
        self.summary.last_seq, self.summary.head = seq, stored.hex()
        self._expected, self._head = seq + 1, stored
        if seq in self._pinned:
            self._at_pins.setdefault(seq, row.record_hash)
        return found

    def finish(self, head: tuple[int, str] | None) -> list[EventFinding]:
        """``head``: the stream's head row (last number, hash), None if there is none."""
        last = self.summary.last_seq
        digest = self.summary.head if last else GENESIS.hex()  # an empty stream's head
        if head is None:
            if last == 0:
                return []
            return [
                EventFinding(
                    EventProblem.HEAD, self.stream, None, None, "the stream has no head row"
                )
            ]
        head_seq, head_hash = head
        if head_seq > last:
            return [
                EventFinding(
                    EventProblem.TRUNCATED,
                    self.stream,
                    last + 1,
                    None,
                    f"the head says {head_seq} events, the last one left is #{last}: "
                    "events at the end were deleted",
                )
            ]
        if head_seq != last or head_hash != digest:
            return [
                EventFinding(
                    EventProblem.HEAD,
                    self.stream,
                    last,
                    None,
                    f"the head (#{head_seq}, {head_hash[:16]}...) is not the last event's",
                )
            ]
        return []

    def check_pins(self, pins: Iterable[tuple[int, int, str]]) -> list[EventFinding]:
        """The heads signed checkpoints pinned, ``(checkpoint number, last seq, head hash)``
        (each number passed as ``pinned`` first), against the stored stream: one finding per
        pinned head it no longer has, naming the first checkpoint that pinned it, oldest
        first.  A head pinned at 0 (the stream was empty) pins nothing."""
        failing: dict[tuple[int, str], list[int]] = {}
        intact: set[int] = set()
        for number, seq, head in sorted(pins):
            if seq == 0:
                continue
            if self._at_pins.get(seq) == head:
                intact.add(seq)
            else:
                failing.setdefault((seq, head), []).append(number)
        found = []
        for (seq, head), numbers in sorted(failing.items(), key=lambda item: item[1][0]):
            more = f" (and {len(numbers) - 1} later ones)" if len(numbers) > 1 else ""
            label = f"checkpoint {numbers[0]}{more}"
            if seq not in self._at_pins:
                tail = seq > self.summary.last_seq
                detail = f"{label} pinned this event as the stream's head; it is gone" + (
                    ": events at the end were deleted" if tail else ""
                )
                found.append(EventFinding(EventProblem.TRUNCATED, self.stream, seq, None, detail))
                continue
            before = max((s for s in intact if s < seq), default=0)
            after = f" (after #{before}, which an earlier checkpoint pinned and still holds)"
            detail = (
                f"{label} pinned this head with another hash ({head[:16]}...): the stream was "
                f"rewritten at or before this event{after if before else ''}"
            )
            found.append(EventFinding(EventProblem.REWRITTEN, self.stream, seq, None, detail))
        return found


def _stored_hash(text: str) -> bytes | None:
    if len(text) != 64:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None
