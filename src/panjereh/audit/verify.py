"""Recomputing the audit chains: what was altered, deleted, inserted or moved.

The rows of one shard, in sequence order, must number 1, 2, 3, ... and each stored hash must
be SHA-256 over the previous row's stored hash and the row's canonical bytes
(`panjereh.audit.chain`).  Each row is checked against its predecessor's *stored* hash, so one
altered record is named once instead of making every later record fail, and several
independent changes are all found.

What chains alone cannot show is a tail cut off or a rewritten suffix with hashes recomputed
from the altered point on: the signed checkpoints (docs/audit-log.md) pin the heads for that.

A shard may start later than its first record: ``starts={shard: (seq, head)}`` says records up
to ``seq`` were verified elsewhere (an archive, or a window check trusting the record before
the window) and the last of them has the hash ``head``; that shard's rows then begin at
``seq + 1`` and the first links to ``head``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from panjereh.audit import merkle
from panjereh.audit.chain import FORMAT, FORMATS, GENESIS, canonical_bytes, chain_hash
from panjereh.audit.records import AuditRecord


class Problem(StrEnum):
    BROKEN_LINK = "broken-link"  # this record, or the one before it, was altered or moved
    MISSING = "missing"  # sequence numbers skipped: records deleted
    BAD_HASH = "bad-hash"  # a stored hash that is not 64 hex digits
    UNCHAINED = "unchained"  # a record without shard or sequence (inserted around the writer)
    UNKNOWN_SHARD = "unknown-shard"  # records of a shard no writer registered
    EMPTY_SHARD = "empty-shard"  # a registered shard without any record: all of it deleted
    # Against the signed checkpoints:
    BAD_SIGNATURE = "bad-signature"  # a checkpoint the exchange's published keys did not sign
    CHECKPOINT_CHAIN = "checkpoint-chain"  # a checkpoint that does not follow the one before
    TRUNCATED = "truncated"  # a head a checkpoint pinned is gone: records at the end deleted
    REWRITTEN = "rewritten"  # a pinned head has another hash now: the chain was rewritten
    MERKLE = "merkle"  # the records a checkpoint covers no longer give its Merkle root
    CHECKPOINT_COPY = "checkpoint-copy"  # the log's checkpoint differs from the copy kept
    # Against the signed shard heads (panjereh.audit.heads), stored or published:
    UNSIGNED = "unsigned"  # records after the shard's last signed head: not vouched for
    UNCLOSED = "unclosed"  # the writer is gone and its shard has no closing head


@dataclass(frozen=True, slots=True)
class StoredRecord:
    record: AuditRecord
    shard: str | None
    seq: int | None
    record_hash: str | None
    row_id: int


@dataclass(frozen=True, slots=True)
class Finding:
    problem: Problem
    shard: str | None
    seq: int | None
    exchange_id: str | None
    detail: str

    def line(self) -> str:
        if self.shard is None and self.seq is None and self.exchange_id is None:
            return f"{self.problem.value}: {self.detail}"
        where = f"shard {self.shard}" if self.shard else "no shard"
        if self.seq is not None:
            where += f", #{self.seq}"
        if self.exchange_id:
            where += f" ({self.exchange_id})"
        return f"{self.problem.value}: {where}: {self.detail}"


@dataclass(slots=True)
class Summary:
    records: int = 0
    shards: int = 0
    heads: dict[str, tuple[int, str]] | None = None  # shard -> (last seq, head hash hex)


# The columns of a raw row for `ChainVerifier.feed_rows`, in this order: what a storage
# reader selects straight from the driver.  ``created_at`` is already the canonical text
# (``YYYY-MM-DDTHH:MM:SS.ffffffZ``); ``cached`` is a bool or 0/1.
RAW_COLUMNS = (
    "id",
    "seq",
    "record_hash",
    "exchange_id",
    "created_at",
    "consumer",
    "service_id",
    "purpose",
    "subject_hash",
    "outcome",
    "status_code",
    "error_type",
    "duration_ms",
    "request_hash",
    "response_hash",
    "request_id",
    "auth_method",
    "replay_of",
    "cached",
    "provider_ms",
    "format",
    "context",
    "request_bytes",
    "response_bytes",
    "operation",
    "projection_id",
)
RawRow = Sequence[Any]


def raw_canonical(shard: str, row: RawRow) -> bytes:
    """The canonical bytes (`panjereh.audit.chain.canonical_bytes`) of a raw row, its values
    normalized the way reading it as an `AuditRecord` would (a time in another ISO form,
    ``cached`` stored as any integer)."""
    (_, seq, _, xid, created, consumer, service, purpose, subject, outcome, status) = row[:11]
    (error, duration, request, response, request_id, auth, replay, cached, provider) = row[11:20]
    version = row[20] or 1
    values: list[object] = [
        FORMATS.get(version, f"panjereh.audit/{version}"),  # an unknown one can only fail
        shard,
        seq,
        xid,
        _canonical_time(created),
        consumer,
        service,
        purpose,
        subject,
        outcome,
        status,
        error,
        None if duration is None else round(duration * 1000),
        request,
        response,
        request_id,
        auth,
        replay,
        bool(cached),
        None if provider is None else round(provider * 1000),
    ]
    if version == 2:
        values.extend(row[21:26])
    return orjson.dumps(values)


def _canonical_time(value: object) -> object:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.removesuffix("Z"))
        except ValueError:
            return value  # not a time: it can only fail, which is what it should do
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        return value
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored_leaf(digest: object) -> bytes:
    """A record's Merkle leaf: over its stored chain hash (a damaged hash still makes a
    leaf, so the root shows the damage)."""
    try:
        value = bytes.fromhex(str(digest))
    except ValueError:
        value = str(digest).encode("utf-8", "replace")
    return merkle.leaf_hash(value)


class ChainVerifier:
    """Fed each shard's rows in sequence order, one at a time (`feed`) or a batch of raw rows
    at once (`feed_rows`, the fast path), so a log of any size streams through; shards may
    be interleaved, and unchained rows come anywhere.  `finish` adds what only the end can
    show."""

    def __init__(
        self,
        registered_shards: Iterable[str],
        *,
        starts: Mapping[str, tuple[int, bytes]] | None = None,
    ) -> None:
        self.starts: dict[str, tuple[int, bytes]] = dict(starts or {})
        for shard, (seq, head) in self.starts.items():
            if seq < 0 or len(head) != 32:
                raise ValueError(f"a start is a sequence number >= 0 and a 32-byte hash: {shard}")
        self.summary = Summary(
            heads={shard: (seq, head.hex()) for shard, (seq, head) in self.starts.items() if seq}
        )
        self._registered = set(registered_shards)
        self._seen: set[str] = set(self.starts)  # a started shard's records are elsewhere
        self._state: dict[str, tuple[int, bytes]] = {}  # shard -> (next seq, previous hash)

    @property
    def entered(self) -> list[str]:
        """The shards that had rows fed."""
        return list(self._state)

    def feed(self, row: StoredRecord) -> list[Finding]:
        self.summary.records += 1
        record = row.record
        shard = row.shard
        return self._check(
            shard,
            row.seq,
            row.record_hash,
            record.exchange_id,
            row.row_id,
            lambda seq: canonical_bytes(record, shard or "", seq),
        )

    def feed_rows(
        self, shard: str | None, rows: Sequence[RawRow], leaves: list[bytes] | None = None
    ) -> list[Finding]:
        """Raw rows (`RAW_COLUMNS`) of ``shard``, in sequence order, continuing where the
        shard's last rows stopped; with ``leaves``, each row's Merkle leaf is appended to it.
        Same findings as `feed` row by row; an intact row costs one canonical encoding and
        two SHA-256."""
        if not rows:
            return []
        if shard is None:
            return self.feed_loose(None, rows, leaves)
        self.summary.records += len(rows)
        found = self._enter(shard)
        expected, head = self._state[shard]
        sha256, dumps, fmt, leaf = hashlib.sha256, orjson.dumps, FORMAT, b"\x00"
        fast = False
        for row in rows:
            (
                _,
                seq,
                digest,
                xid,
                created,
                consumer,
                service,
                purpose,
                subject,
                outcome,
                status,
                error,
                duration,
                request,
                response,
                request_id,
                auth,
                replay,
                cached,
                provider,
                version,
            ) = row[:21]
            if seq == expected:
                values = [
                    fmt if version is None or version == 1 else FORMATS.get(version, ""),
                    shard,
                    seq,
                    xid,
                    created,
                    consumer,
                    service,
                    purpose,
                    subject,
                    outcome,
                    status,
                    error,
                    None if duration is None else round(duration * 1000),
                    request,
                    response,
                    request_id,
                    auth,
                    replay,
                    cached == 1,
                    None if provider is None else round(provider * 1000),
                ]
                if version == 2:  # panjereh.audit/2: five values more
                    values.extend(row[21:26])
                computed = sha256(head + dumps(values)).digest()
                if computed.hex() == digest:
                    head, expected, fast = computed, seq + 1, True
                    if leaves is not None:
                        leaves.append(sha256(leaf + computed).digest())
                    continue
            # Anything else (a broken link, a gap, a bad or missing hash, a value stored in
            # an unusual form) takes the row-by-row path, which names it.
            self._state[shard] = (expected, head)
            found.extend(self._check_raw(shard, row))
            expected, head = self._state[shard]
            fast = False
            if leaves is not None:
                leaves.append(stored_leaf(digest))
        self._state[shard] = (expected, head)
        if fast:
            assert self.summary.heads is not None  # noqa: S101 - set in __init__
            self.summary.heads[shard] = (expected - 1, head.hex())
        return found

    def feed_loose(
        self, shard: str | None, rows: Sequence[RawRow], leaves: list[bytes] | None = None
    ) -> list[Finding]:
        """Raw rows one at a time (as `feed`), e.g. rows without a sequence number."""
        found: list[Finding] = []
        self.summary.records += len(rows)
        for row in rows:
            found.extend(self._check_raw(shard, row))
            if leaves is not None:
                leaves.append(stored_leaf(row[2]))
        return found

    def _check_raw(self, shard: str | None, row: RawRow) -> list[Finding]:
        return self._check(
            shard, row[1], row[2], row[3], row[0], lambda _: raw_canonical(shard or "", row)
        )

    def _enter(self, shard: str) -> list[Finding]:
        if shard in self._state:
            return []
        begin, head = self.starts.get(shard, (0, GENESIS))
        self._state[shard] = (begin + 1, head)
        self._seen.add(shard)
        self.summary.shards += 1
        if shard in self._registered:
            return []
        return [
            Finding(
                Problem.UNKNOWN_SHARD,
                shard,
                None,
                None,
                "no writer registered this shard (audit_shards has no row for it)",
            )
        ]

    def _check(
        self,
        shard: str | None,
        seq: int | None,
        record_hash: str | None,
        exchange_id: str | None,
        row_id: int,
        canonical: Callable[[int], bytes],
    ) -> list[Finding]:
        if shard is None or seq is None or record_hash is None:
            return [
                Finding(
                    Problem.UNCHAINED,
                    shard,
                    seq,
                    exchange_id,
                    f"row {row_id} has no place in any chain (written around the writer)",
                )
            ]
        found = self._enter(shard)
        expected, head = self._state[shard]
        if seq < expected:
            found.append(
                Finding(
                    Problem.BROKEN_LINK,
                    shard,
                    seq,
                    exchange_id,
                    f"numbered before #{expected}, where this shard's chain "
                    + (
                        "continues after the records verified elsewhere"
                        if shard in self.starts
                        else "begins"
                    )
                    + ": inserted or moved",
                )
            )
            return found
        if seq != expected:
            found.append(
                Finding(
                    Problem.MISSING,
                    shard,
                    expected,
                    None,
                    f"records #{expected} to #{seq - 1} are missing (deleted)",
                )
            )
        stored = _stored_hash(record_hash)
        if stored is None:
            found.append(
                Finding(
                    Problem.BAD_HASH,
                    shard,
                    seq,
                    exchange_id,
                    "the stored hash is not 64 hex digits",
                )
            )
            self._state[shard] = (seq + 1, GENESIS)
            return found
        computed = chain_hash(head, canonical(seq))
        if seq == expected and not hmac.compare_digest(computed, stored):
            found.append(
                Finding(
                    Problem.BROKEN_LINK,
                    shard,
                    seq,
                    exchange_id,
                    "its hash does not follow from the record before it: this record (or, if "
                    "its hash was recomputed, the previous one) was altered, inserted or moved",
                )
            )
        assert self.summary.heads is not None  # noqa: S101 - set in __init__
        self.summary.heads[shard] = (seq, stored.hex())
        self._state[shard] = (seq + 1, stored)
        return found

    def finish(self) -> list[Finding]:
        return [
            Finding(Problem.EMPTY_SHARD, shard, None, None, "a registered shard has no records")
            for shard in sorted(self._registered - self._seen)
        ]


def verify(
    rows: Iterable[StoredRecord], registered_shards: Iterable[str], summary: Summary
) -> Iterator[Finding]:
    """Every finding over ``rows`` (see `ChainVerifier`); ``summary`` is filled in."""
    checker = ChainVerifier(registered_shards)
    for row in rows:
        yield from checker.feed(row)
    yield from checker.finish()
    summary.records, summary.shards = checker.summary.records, checker.summary.shards
    summary.heads = checker.summary.heads


def _stored_hash(text: str) -> bytes | None:
    if len(text) != 64:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None
