"""The audit stream's messages, and how a consumer checks the chains it receives.

The exchange publishes every audit record to a JetStream stream (docs/audit-log.md, "Stream
export"), one message per record on the subject ``<prefix>.<shard>``, with the header
``Nats-Msg-Id`` = the record's exchange id (JetStream drops a re-sent copy within its
duplicate window).  The body, format ``panjereh.audit.stream/1``, is a JSON object:

    {"format": "panjereh.audit.stream/1", "shard": ..., "seq": ..., "record_hash": ...,
     "record": {"exchange_id": ..., "created_at": "2026-12-02T08:30:00.120000Z", ...}}

``record`` holds every field of `panjereh.audit.records.AuditRecord` by name (times in UTC
with six fraction digits, ``outcome`` as its value, absent values ``null``), which is all a
consumer needs to recompute the record's canonical bytes and, with the previous record's hash
of the same shard, its ``record_hash``.  A new field may appear in ``record`` without a new
format version; a change to an existing field's meaning gets one.

Delivery is at least once: a consumer may see a record twice (a retry outside JetStream's
duplicate window) and, after a publisher failure, a record before one it skipped.
`ChainFollower` sorts that out per shard by ``seq``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.records import AuditRecord, Outcome, field_names
from panjereh.domain.errors import PanjerehError

FORMAT = "panjereh.audit.stream/1"
_FIELDS = tuple(f.name for f in dataclasses.fields(AuditRecord))
_REQUIRED = frozenset(
    f.name
    for f in dataclasses.fields(AuditRecord)
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
)


class BadMessage(PanjerehError):
    """A stream message that is not a ``panjereh.audit.stream/1`` record."""


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """One record as the stream carries it: the record and its place in its shard's chain."""

    record: AuditRecord
    shard: str
    seq: int
    record_hash: str


def _time(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError("an audit record's time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode(item: StreamRecord) -> bytes:
    """The message body of one record (module docstring)."""
    record: dict[str, Any] = {name: getattr(item.record, name) for name in field_names(item.record)}
    record["created_at"] = _time(item.record.created_at)
    record["outcome"] = item.record.outcome.value
    return orjson.dumps(
        {
            "format": FORMAT,
            "shard": item.shard,
            "seq": item.seq,
            "record_hash": item.record_hash,
            "record": record,
        }
    )


def decode(body: bytes) -> StreamRecord:
    """A message body back into its record; `BadMessage` names what is wrong."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadMessage("not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadMessage(f"not a {FORMAT} message")
    shard, seq, digest, fields = (data.get(k) for k in ("shard", "seq", "record_hash", "record"))
    if not isinstance(shard, str) or not isinstance(digest, str):
        raise BadMessage("shard and record_hash must be strings")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise BadMessage("seq must be a positive integer")
    if not isinstance(fields, dict):
        raise BadMessage("record must be an object")
    return StreamRecord(_record(fields), shard, seq, digest)


def _record(fields: Mapping[str, Any]) -> AuditRecord:
    missing = sorted(_REQUIRED - fields.keys())
    if missing:
        raise BadMessage(f"record lacks {', '.join(missing)}")
    values = {name: fields[name] for name in _FIELDS if name in fields}
    try:
        created = datetime.fromisoformat(values["created_at"])
        values["outcome"] = Outcome(values["outcome"])
    except (TypeError, ValueError):
        raise BadMessage("record has a bad created_at or outcome") from None
    if created.utcoffset() is None:
        raise BadMessage("record's created_at has no time zone")
    values["created_at"] = created
    return AuditRecord(**values)


class Verdict(StrEnum):
    VERIFIED = "verified"  # the next record of its shard, and its hash follows: ack it
    DUPLICATE = "duplicate"  # a number already verified: ack it and move on
    EARLY = "early"  # an earlier record of its shard has not arrived yet: redeliver it later
    BROKEN = "broken"  # its hash does not follow from the previous one: the log was altered


@dataclass
class ChainFollower:
    """Follows every shard's chain across messages; ``heads`` is its whole state
    (shard -> [last verified seq, its hash hex]), so a consumer can save and reload it."""

    heads: dict[str, list[Any]] = field(default_factory=dict)

    def check(self, item: StreamRecord) -> Verdict:
        seq, head = self.heads.get(item.shard, (0, GENESIS.hex()))
        if item.seq <= seq:
            return Verdict.DUPLICATE
        if item.seq > seq + 1:
            return Verdict.EARLY
        digest = chain_hash(
            bytes.fromhex(head), canonical_bytes(item.record, item.shard, item.seq)
        ).hex()
        if digest != item.record_hash:
            return Verdict.BROKEN
        self.heads[item.shard] = [item.seq, digest]
        return Verdict.VERIFIED
