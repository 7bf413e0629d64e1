"""The canonical bytes of an audit record, and the hash chain that links a shard's records.

Every writer process appends to its own chain (a *shard*); each record carries its shard, its
sequence number in that shard (1, 2, 3, ... without gaps) and

    record_hash = SHA-256(previous record_hash || canonical bytes)

with 32 zero bytes before a shard's first record.  Changing, deleting, inserting or reordering
any record changes every later hash of its shard; signed checkpoints (docs/audit-log.md) pin
the heads, so a rewritten chain is caught even by someone who can write to the database.

The canonical bytes (version 1) are the compact JSON array, UTF-8, of exactly these values in
this order (docs/audit-log.md has a worked example)::

    ["panjereh.audit/1", shard, seq, exchange_id, created_at, consumer, service_id, purpose,
     subject_hash, outcome, status_code, error_type, duration_us, request_hash, response_hash,
     request_id, auth_method, replay_of, cached, provider_us]

- ``created_at``: UTC, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits);
- ``duration_us`` and ``provider_us``: the durations in whole microseconds (the records keep
  milliseconds with three decimals), so no float formatting is ever part of a hash;
- absent values are ``null``; ``cached`` is ``true`` or ``false``; strings as JSON strings
  with no escaping beyond what JSON requires (orjson's output, which any JSON encoder with
  ``ensure_ascii`` off and no spaces reproduces for these types).

Version 2 (``panjereh.audit/2``, what the exchange writes now) is the same array with its own
tag and five more values at the end, each ``null`` when unknown::

    ["panjereh.audit/2", ...the nineteen values above..., context, request_bytes,
     response_bytes, operation, projection_id]

The tag is the record's ``format`` (a column of its own; empty for records written before
version 2), so a version-1 record keeps exactly the bytes, and the hash, it was written with.

A verifier needs nothing else: the record as stored, and the previous record's hash.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import orjson

from panjereh.audit.records import AuditRecord

FORMAT = "panjereh.audit/1"
FORMAT_V2 = "panjereh.audit/2"
FORMATS = {1: FORMAT, 2: FORMAT_V2}
CURRENT = 2  # the format the exchange writes
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
GENESIS = bytes(32)  # the "previous hash" of every shard's first record


def _microseconds(milliseconds: float | None) -> int | None:
    return None if milliseconds is None else round(milliseconds * 1000)


def canonical_bytes(record: AuditRecord, shard: str, seq: int) -> bytes:
    """The bytes a record's hash covers (module docstring: its format, 1 or 2)."""
    moment = record.created_at
    if moment.tzinfo is not UTC:
        if moment.utcoffset() is None:
            raise ValueError("an audit record's time must be timezone-aware")
        moment = moment.astimezone(UTC)
    # orjson leaves out a zero fraction; the format always has six digits
    created: datetime | str = moment if moment.microsecond else moment.strftime(_TIME)
    tag = FORMATS.get(record.format)
    if tag is None:
        raise ValueError(f"unknown audit record format {record.format!r}")
    values: list[object] = [
        tag,
        shard,
        seq,
        record.exchange_id,
        created,  # orjson writes a UTC datetime as the format says, ~15x faster than strftime
        record.consumer,
        record.service_id,
        record.purpose,
        record.subject_hash,
        record.outcome,  # a StrEnum: orjson writes its value
        record.status_code,
        record.error_type,
        _microseconds(record.duration_ms),
        record.request_hash,
        record.response_hash,
        record.request_id,
        record.auth_method,
        record.replay_of,
        record.cached,
        _microseconds(record.provider_ms),
    ]
    if record.format == 2:
        values += [
            record.context,
            record.request_bytes,
            record.response_bytes,
            record.operation,
            record.projection_id,
        ]
    return orjson.dumps(values, option=orjson.OPT_UTC_Z)


def chain_hash(previous: bytes, canonical: bytes) -> bytes:
    """A record's hash: SHA-256 over the previous record's hash and its canonical bytes."""
    if len(previous) != 32:
        raise ValueError("a previous hash is 32 bytes")
    return hashlib.sha256(previous + canonical).digest()
