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

import hmac
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
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


class ChainVerifier:
    """Fed the rows ordered by shard, then seq (unchained rows anywhere), one at a time, so
    a log of any size streams through; `finish` adds what only the end can show."""

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
        self._shard: str | None = None
        self._expected, self._head = 1, GENESIS

    def feed(self, row: StoredRecord) -> list[Finding]:
        found: list[Finding] = []
        self.summary.records += 1
        record = row.record
        if row.shard is None or row.seq is None or row.record_hash is None:
            found.append(
                Finding(
                    Problem.UNCHAINED,
                    row.shard,
                    row.seq,
                    record.exchange_id,
                    f"row {row.row_id} has no place in any chain (written around the writer)",
                )
            )
            return found
        shard = row.shard
        if shard != self._shard:
            begin, head = self.starts.get(shard, (0, GENESIS))
            self._shard, self._expected, self._head = shard, begin + 1, head
            self._seen.add(shard)
            self.summary.shards += 1
            if shard not in self._registered:
                found.append(
                    Finding(
                        Problem.UNKNOWN_SHARD,
                        shard,
                        None,
                        None,
                        "no writer registered this shard (audit_shards has no row for it)",
                    )
                )
        if row.seq < self._expected:
            found.append(
                Finding(
                    Problem.BROKEN_LINK,
                    shard,
                    row.seq,
                    record.exchange_id,
                    f"numbered before #{self._expected}, where this shard's chain "
                    + (
                        "continues after the records verified elsewhere"
                        if shard in self.starts
                        else "begins"
                    )
                    + ": inserted or moved",
                )
            )
            return found
        if row.seq != self._expected:
            found.append(
                Finding(
                    Problem.MISSING,
                    shard,
                    self._expected,
                    None,
                    f"records #{self._expected} to #{row.seq - 1} are missing (deleted)",
                )
            )
        stored = _stored_hash(row.record_hash)
        if stored is None:
            found.append(
                Finding(
                    Problem.BAD_HASH,
                    shard,
                    row.seq,
                    record.exchange_id,
                    "the stored hash is not 64 hex digits",
                )
            )
            self._expected, self._head = row.seq + 1, GENESIS
            return found
        computed = chain_hash(self._head, canonical_bytes(record, shard, row.seq))
        if row.seq == self._expected and not hmac.compare_digest(computed, stored):
            found.append(
                Finding(
                    Problem.BROKEN_LINK,
                    shard,
                    row.seq,
                    record.exchange_id,
                    "its hash does not follow from the record before it: this record (or, if "
                    "its hash was recomputed, the previous one) was altered, inserted or moved",
                )
            )
        assert self.summary.heads is not None  # noqa: S101 - set in __init__
        self.summary.heads[shard] = (row.seq, stored.hex())
        self._expected, self._head = row.seq + 1, stored
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
