"""Signed archives of one month of audit records, and checking them (docs/audit-log.md,
"Volume and retention").

An archive, format ``panjereh.audit-archive/1`` (or ``/2`` for a month with kept payloads),
is a JSON Lines file:

1. a header: ``{"format", "month", "from", "until", "created_at", "records", "shards":
   {shard: {"first", "last", "records", "previous", "head"}}, "checkpoints": [numbers]}`` —
   per shard the first and last sequence number archived, the hash of the record before the
   first (32 zero bytes for a shard's #1) and the last record's hash;
2. one line ``{"checkpoint": {...}}`` per signed checkpoint covering any of those records, as
   published (`panjereh.audit.checkpoints`);
3. one line per record, ordered by shard then sequence: ``{"id", "shard", "seq",
   "record_hash", "record": {the record's fields, times as ...Z}, "extra": {other columns}}``;
   in format 2 each followed by its kept payloads (``audit_payloads``, request before
   response), still sealed: ``{"payload": {"exchange_id", "kind", "key_id", "nonce",
   "ciphertext"}}``, nonce and ciphertext in base64 as stored;
4. a trailer ``{"trailer": {"sha256", "records_sha256", "key_id", "signature"}}``: SHA-256 of
   every byte before the trailer, SHA-256 of the record lines alone, and the exchange's Ed25519
   signature over ``panjereh.audit-archive/1 sha256:<hex>`` with the key id.  Format 2 adds
   ``payloads_sha256`` (the payload lines alone), its header a ``payloads`` count, and signs
   ``panjereh.audit-archive/2 sha256:<hex>``.

A month without kept payloads is written in format 1, exactly as before format 2 existed.

`ArchiveChecker` reads it back line by line (a month may not fit in memory): the signature and
digests, every record's chain link, every payload line after its record, that the records are
the whole month's of each shard without gaps, every head a checkpoint pinned within the
archive, and the Merkle root of each checkpoint whose records are all in the archive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import nacl.bindings
import nacl.exceptions
import orjson

from panjereh.audit import merkle
from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.records import AuditRecord, Outcome, field_names

FORMAT = "panjereh.audit-archive/1"  # records only
FORMAT_WITH_PAYLOADS = "panjereh.audit-archive/2"  # records, each with its kept payloads
_FORMATS = (FORMAT, FORMAT_WITH_PAYLOADS)
_KINDS = ("request", "response")  # in this order after their record
NONCE_BYTES, TAG_BYTES = 12, 16  # AES-256-GCM as `panjereh.audit.payloads` seals
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A UTC calendar month: partitions and archives are cut at 00:00 UTC on the 1st."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1970:
            raise ValueError(f"{text!r} is not a month (YYYY-MM)")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def partition(self) -> str:
        """The name of this month's partition of audit_records (PostgreSQL)."""
        return f"audit_records_y{self.year:04d}m{self.month:02d}"


def statement(digest: str, archive_format: str = FORMAT) -> bytes:
    """What the exchange signs: the archive's SHA-256, under a prefix no other signed
    document of the exchange starts with (checkpoint bodies are JSON objects)."""
    return f"{archive_format} sha256:{digest}".encode("ascii")


_FIELDS = tuple(f.name for f in fields(AuditRecord))


def record_fields(record: AuditRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in field_names(record)}  # not asdict: slow
    values["outcome"] = record.outcome.value
    values["created_at"] = utc_text(record.created_at)
    return values


def record_from_fields(document: Mapping[str, Any]) -> AuditRecord:
    values = dict(document)
    values["outcome"] = Outcome(values["outcome"])
    text = str(values["created_at"])
    if len(text) != 27 or not text.endswith("Z"):  # YYYY-MM-DDTHH:MM:SS.ffffffZ
        raise ValueError("a record's time is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    values["created_at"] = datetime.fromisoformat(text)  # a tenth of strptime's cost
    return AuditRecord(**values)


def _json_default(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not archivable")


def record_line(
    row_id: int,
    shard: str,
    seq: int,
    record_hash: str,
    record: AuditRecord,
    extra: Mapping[str, Any],
) -> bytes:
    """One record's line (with its newline), exactly as the archive holds it."""
    return (
        orjson.dumps(
            {
                "id": row_id,
                "shard": shard,
                "seq": seq,
                "record_hash": record_hash,
                "record": record_fields(record),
                "extra": dict(extra),
            },
            default=_json_default,
            option=orjson.OPT_SORT_KEYS | orjson.OPT_UTC_Z,
        )
        + b"\n"
    )


def payload_line(
    exchange_id: str, kind: str, key_id: str, nonce: bytes, ciphertext: bytes
) -> bytes:
    """One kept payload's line (with its newline), sealed as stored."""
    return (
        orjson.dumps(
            {
                "payload": {
                    "exchange_id": exchange_id,
                    "kind": kind,
                    "key_id": key_id,
                    "nonce": base64.b64encode(nonce).decode("ascii"),
                    "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
                }
            },
            option=orjson.OPT_SORT_KEYS,
        )
        + b"\n"
    )


class ArchiveWriter:
    """Writes the lines in order and keeps the digests the trailer needs; with
    ``payloads``, format 2 (payload lines after their records)."""

    def __init__(self, sink: Callable[[bytes], object], *, payloads: bool = False) -> None:
        self._sink = sink
        self._all = hashlib.sha256()
        self._records = hashlib.sha256()
        self._payloads = hashlib.sha256() if payloads else None
        self.format = FORMAT_WITH_PAYLOADS if payloads else FORMAT

    def _put(self, line: bytes) -> None:
        self._all.update(line)
        self._sink(line)

    def header(self, document: Mapping[str, Any]) -> None:
        self._put(
            orjson.dumps({"format": self.format, **document}, option=orjson.OPT_SORT_KEYS) + b"\n"
        )

    def checkpoint(self, checkpoint: Checkpoint) -> None:
        self._put(
            orjson.dumps({"checkpoint": checkpoint.as_json()}, option=orjson.OPT_SORT_KEYS) + b"\n"
        )

    def record(self, line: bytes) -> None:
        self._records.update(line)
        self._put(line)

    def payload(self, line: bytes) -> None:
        if self._payloads is None:
            raise ValueError("a format 1 archive holds no payloads")
        self._payloads.update(line)
        self._put(line)

    def finish(self, key_id: str, sign: Callable[[bytes], bytes]) -> str:
        """Write the trailer; returns the archive's SHA-256 (hex)."""
        digest = self._all.hexdigest()
        trailer = {
            "sha256": digest,
            "records_sha256": self._records.hexdigest(),
            "key_id": key_id,
            "signature": base64.b64encode(sign(statement(digest, self.format))).decode("ascii"),
        }
        if self._payloads is not None:
            trailer["payloads_sha256"] = self._payloads.hexdigest()
        self._sink(orjson.dumps({"trailer": trailer}, option=orjson.OPT_SORT_KEYS) + b"\n")
        return digest


class MerkleStream:
    """The RFC 9162 root over leaves given one at a time, in O(log n) memory (the same
    stack of perfect subtrees as `panjereh.audit.merkle.root`)."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, leaf: bytes) -> None:
        height, value = 0, leaf
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            value = merkle.node_hash(left, value)
            height += 1
        self._stack.append((height, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return merkle.empty_root()
        stack = list(self._stack)
        _, value = stack.pop()
        while stack:
            _, left = stack.pop()
            value = merkle.node_hash(left, value)
        return value


class Problem(StrEnum):
    NOT_AN_ARCHIVE = "not-an-archive"  # not JSON Lines of this format, or cut short
    DIGEST = "digest"  # the content is not what the trailer's SHA-256 says
    BAD_SIGNATURE = "bad-signature"  # the archive or a checkpoint not signed by a published key
    HEADER = "header"  # the records differ from what the header says
    BROKEN_LINK = "broken-link"  # a record's hash does not follow from the one before it
    MISSING = "missing"  # sequence numbers skipped or out of order
    OUTSIDE_MONTH = "outside-month"  # a record of another month
    CHECKPOINT_CHAIN = "checkpoint-chain"  # a checkpoint that does not name the one before
    PINNED_HEAD = "pinned-head"  # a head a checkpoint pinned has another hash here
    MERKLE = "merkle"  # the records of a checkpoint do not give its Merkle root
    UNCOVERED = "uncovered"  # records no checkpoint in the archive covers
    PAYLOAD = "payload"  # a payload line not after its record, repeated, or malformed


@dataclass(frozen=True, slots=True)
class ArchiveFinding:
    problem: Problem
    line: int | None
    detail: str

    def text(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{self.problem.value}{where}: {self.detail}"


@dataclass(frozen=True, slots=True)
class ShardRange:
    first: int
    last: int
    records: int
    previous: str  # hex: the hash of the record before `first`
    head: str  # hex: the hash of `last`


@dataclass
class ArchiveReport:
    findings: list[ArchiveFinding] = field(default_factory=list)
    format: str = FORMAT
    month: Month | None = None
    records: int = 0
    payloads: int = 0  # kept payloads (format 2)
    payloads_sha256: str = ""  # SHA-256 of the payload lines (format 2)
    shards: dict[str, ShardRange] = field(default_factory=dict)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    merkle_checked: list[int] = field(default_factory=list)  # checkpoints wholly inside
    sha256: str = ""
    records_sha256: str = ""
    key_id: str = ""
    signature: str = ""
    # Chain hashes of archived records that checkpoints reaching past the archive cover.
    boundary: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings


def _shard_ranges(header: Mapping[str, Any]) -> dict[str, ShardRange]:
    return {
        str(shard): ShardRange(
            first=int(v["first"]),
            last=int(v["last"]),
            records=int(v["records"]),
            previous=str(v["previous"]),
            head=str(v["head"]),
        )
        for shard, v in header["shards"].items()
    }


class ArchiveChecker:
    """Fed the archive's lines one by one (`check_lines`)."""

    def __init__(self, public_key_for: Callable[[str], bytes | None]) -> None:
        self._keys = public_key_for
        self.report = ArchiveReport()
        self._all = hashlib.sha256()
        self._records = hashlib.sha256()
        self._n = 0
        self._stage = "header"
        self._shard: str | None = None
        self._done_shards: list[str] = []
        self._expected, self._head = 1, GENESIS
        self._count = 0
        self._streams: dict[int, MerkleStream] = {}
        self._pins: dict[tuple[str, int], list[tuple[int, str]]] = {}
        self._partial: list[Checkpoint] = []
        self._previous: Checkpoint | None = None
        self._ranges: dict[str, list[tuple[int, int, int]]] | None = None
        self._at: dict[str, int] = {}
        self._payloads = hashlib.sha256()
        self._payload_count = 0
        self._exchange_id: str | None = None  # the last record's, for its payload lines
        self._kinds: list[str] = []  # the kinds of its payloads seen so far

    def _find(self, problem: Problem, detail: str, *, line: bool = True) -> None:
        self.report.findings.append(ArchiveFinding(problem, self._n if line else None, detail))

    def feed(self, raw: bytes) -> None:
        self._n += 1
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._find(Problem.NOT_AN_ARCHIVE, "not a JSON line")
            self._stage = "broken"
            return
        if self._stage == "broken":
            return
        if not isinstance(document, dict):
            self._find(Problem.NOT_AN_ARCHIVE, "not a JSON object")
            self._stage = "broken"
            return
        if "trailer" in document:
            self._trailer(document["trailer"])
            return
        if self._stage == "end":
            self._find(Problem.NOT_AN_ARCHIVE, "lines after the trailer")
            return
        self._all.update(raw)
        try:
            if self._stage == "header":
                self._header(document)
            elif "checkpoint" in document and self._stage == "checkpoints":
                self._checkpoint(document["checkpoint"])
            elif "payload" in document:
                self._payloads.update(raw)
                self._payload(document["payload"])
            else:
                self._stage = "records"
                self._records.update(raw)
                self._record(document)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            self._find(Problem.NOT_AN_ARCHIVE, f"malformed line ({exc.__class__.__name__})")
            self._stage = "broken"

    def _header(self, document: Mapping[str, Any]) -> None:
        if document.get("format") not in _FORMATS:
            raise ValueError("format")
        self.report.format = str(document["format"])
        self.report.month = Month.parse(str(document["month"]))
        self.report.shards = _shard_ranges(document)
        self.report.records = int(document["records"])
        if self.report.format == FORMAT_WITH_PAYLOADS:
            self.report.payloads = int(document["payloads"])
        self._wanted = [int(n) for n in document["checkpoints"]]
        self._stage = "checkpoints"

    def _checkpoint(self, document: Mapping[str, Any]) -> None:
        checkpoint = Checkpoint.from_json(document)
        self.report.checkpoints.append(checkpoint)
        label = f"checkpoint {checkpoint.number}"
        if not checkpoint.signature_valid(self._keys):
            self._find(
                Problem.BAD_SIGNATURE,
                f"{label}: the signature does not verify with the published key "
                f"{checkpoint.key_id!r}",
            )
        before = self._previous
        follows = before is not None and before.number + 1 == checkpoint.number
        if follows and before is not None and checkpoint.previous != before.hash:
            self._find(
                Problem.CHECKPOINT_CHAIN,
                f"{label} does not name checkpoint {before.number} as its previous",
            )
        self._previous = checkpoint
        shards = self.report.shards
        inside = all(
            s in shards and shards[s].first <= a and b <= shards[s].last
            for s, (a, b) in checkpoint.ranges.items()
        )
        if inside:
            self._streams[checkpoint.number] = MerkleStream()
        else:
            self._partial.append(checkpoint)
        for shard, (seq, head) in checkpoint.heads.items():
            if shard in shards and shards[shard].first <= seq <= shards[shard].last:
                self._pins.setdefault((shard, seq), []).append((checkpoint.number, head))

    def _record(self, document: Mapping[str, Any]) -> None:
        shard, seq = str(document["shard"]), int(document["seq"])
        stored_text = str(document["record_hash"])
        record = record_from_fields(document["record"])
        month = self.report.month
        if month is not None and not month.start <= record.created_at < month.end:
            self._find(Problem.OUTSIDE_MONTH, f"shard {shard} #{seq} is of another month")
        if shard != self._shard:
            self._begin_shard(shard, seq)
        self._count += 1
        if seq != self._expected:
            self._find(
                Problem.MISSING,
                f"shard {shard}: #{seq} where #{self._expected} was expected",
            )
        try:
            stored = bytes.fromhex(stored_text)
        except ValueError:
            stored = b""
        if len(stored) != 32:
            self._find(Problem.BROKEN_LINK, f"shard {shard} #{seq}: the hash is not 64 hex digits")
            stored = GENESIS
        computed = chain_hash(self._head, canonical_bytes(record, shard, seq))
        if not hmac.compare_digest(computed, stored):
            self._find(
                Problem.BROKEN_LINK,
                f"shard {shard} #{seq} ({record.exchange_id}): its hash does not follow from "
                "the record before it",
            )
        self._pinned(shard, seq, stored_text)
        covering = self._covering(shard, seq)
        if covering is not None:
            stream = self._streams.get(covering)
            if stream is not None:
                stream.add(merkle.leaf_hash(stored))
            else:
                self.report.boundary.setdefault(shard, {})[seq] = stored_text
        self._expected, self._head = seq + 1, stored
        self._exchange_id, self._kinds = record.exchange_id, []

    def _payload(self, document: Mapping[str, Any]) -> None:
        """A kept payload: right after its record (request, then response, each once),
        sealed (a 12-byte nonce, a ciphertext with at least its 16-byte tag)."""
        self._payload_count += 1
        exchange_id, kind = str(document["exchange_id"]), str(document["kind"])
        if self.report.format != FORMAT_WITH_PAYLOADS:
            self._find(Problem.PAYLOAD, f"a format 1 archive holds no payloads ({exchange_id})")
            return
        if self._stage != "records" or exchange_id != self._exchange_id:
            self._find(
                Problem.PAYLOAD,
                f"the {kind} payload of {exchange_id} does not follow its record",
            )
            return
        if kind not in _KINDS or (self._kinds and _KINDS.index(kind) <= _index(self._kinds[-1])):
            self._find(Problem.PAYLOAD, f"{exchange_id}: a {kind!r} payload here is not allowed")
            return
        self._kinds.append(kind)
        nonce = _base64(document["nonce"])
        sealed = _base64(document["ciphertext"])
        if (
            not str(document["key_id"])
            or nonce is None
            or len(nonce) != NONCE_BYTES
            or (sealed is None or len(sealed) < TAG_BYTES)
        ):
            self._find(Problem.PAYLOAD, f"{exchange_id}: the {kind} payload is not sealed")

    def _pinned(self, shard: str, seq: int, stored: str) -> None:
        for number, head in self._pins.get((shard, seq), ()):
            if head != stored:
                self._find(
                    Problem.PINNED_HEAD,
                    f"checkpoint {number} pinned shard {shard} #{seq} with another hash",
                )

    def _begin_shard(self, shard: str, seq: int) -> None:
        self._end_shard()
        if shard in self._done_shards or (self._done_shards and shard < self._done_shards[-1]):
            self._find(Problem.MISSING, f"shard {shard}: records out of order")
        expected = self.report.shards.get(shard)
        if expected is None:
            self._find(Problem.HEADER, f"shard {shard} is not in the header")
            self._expected, self._head = seq, GENESIS
        else:
            self._expected, self._head = expected.first, bytes.fromhex(expected.previous)
        self._shard, self._count = shard, 0

    def _covering(self, shard: str, seq: int) -> int | None:
        """The checkpoint whose range holds ``seq`` (a shard's ranges follow one another, and
        records come in order: one pointer per shard walks them)."""
        if self._ranges is None:
            self._ranges = {}
            for checkpoint in self.report.checkpoints:
                for s, (low, high) in checkpoint.ranges.items():
                    self._ranges.setdefault(s, []).append((low, high, checkpoint.number))
            for ranges in self._ranges.values():
                ranges.sort()
        ranges = self._ranges.get(shard, [])
        at = self._at.get(shard, 0)
        while at < len(ranges) and ranges[at][1] < seq:
            at += 1
        self._at[shard] = at
        if at < len(ranges) and ranges[at][0] <= seq:
            return ranges[at][2]
        return None

    def _end_shard(self) -> None:
        shard = self._shard
        if shard is None:
            return
        self._done_shards.append(shard)
        expected = self.report.shards.get(shard)
        if expected is None:
            return
        last = self._expected - 1
        if (last, self._head.hex(), self._count) != (
            expected.last,
            expected.head,
            expected.records,
        ):
            self._find(
                Problem.HEADER,
                f"shard {shard}: the records end at #{last} ({self._count} of them), the "
                f"header says #{expected.last} ({expected.records}) with another head",
                line=False,
            )

    def _trailer(self, trailer: Mapping[str, Any]) -> None:
        if self._stage in ("header", "end", "broken"):
            self._find(Problem.NOT_AN_ARCHIVE, "a trailer in the wrong place")
            return
        self._stage = "end"
        self._end_shard()
        report = self.report
        report.sha256 = str(trailer.get("sha256", ""))
        report.records_sha256 = str(trailer.get("records_sha256", ""))
        report.key_id = str(trailer.get("key_id", ""))
        report.signature = str(trailer.get("signature", ""))
        report.payloads_sha256 = str(trailer.get("payloads_sha256", ""))
        payloads = (
            report.format != FORMAT_WITH_PAYLOADS
            or report.payloads_sha256 == self._payloads.hexdigest()
        )
        if (
            report.sha256 != self._all.hexdigest()
            or report.records_sha256 != self._records.hexdigest()
            or not payloads
        ):
            self._find(Problem.DIGEST, "the content is not what the trailer's SHA-256 says")
        if not _signature_valid(report, self._keys):
            self._find(
                Problem.BAD_SIGNATURE,
                f"the archive's signature does not verify with the published key {report.key_id!r}",
            )

    def finish(self) -> ArchiveReport:
        report = self.report
        if self._stage != "end":
            if self._stage != "broken":
                self._find(Problem.NOT_AN_ARCHIVE, "no trailer: the file was cut short", line=False)
            return report
        seen = sum(r.records for r in report.shards.values())
        payloads = report.format != FORMAT_WITH_PAYLOADS or (self._payload_count == report.payloads)
        if (
            seen != report.records
            or {c.number for c in report.checkpoints} != set(self._wanted)
            or not payloads
        ):
            self._find(Problem.HEADER, "the header's counts do not match the file", line=False)
        missing = sorted(set(report.shards) - set(self._done_shards))
        if missing:
            self._find(Problem.HEADER, f"no records of shard(s) {', '.join(missing)}", line=False)
        for checkpoint in report.checkpoints:
            stream = self._streams.get(checkpoint.number)
            if stream is None:
                continue
            report.merkle_checked.append(checkpoint.number)
            if stream.size != checkpoint.tree_size or stream.root().hex() != checkpoint.merkle_root:
                self._find(
                    Problem.MERKLE,
                    f"checkpoint {checkpoint.number}: its {checkpoint.tree_size} records do not "
                    f"give its Merkle root ({stream.size} in the archive)",
                    line=False,
                )
        self._uncovered()
        return report

    def _uncovered(self) -> None:
        for shard, wanted in sorted(self.report.shards.items()):
            covered = [c.ranges[shard] for c in self.report.checkpoints if shard in c.ranges]
            reach = wanted.first
            for low, high in sorted(covered):
                if low <= reach <= high:
                    reach = high + 1
            if reach <= wanted.last:
                self._find(
                    Problem.UNCOVERED,
                    f"shard {shard}: #{reach} to #{wanted.last} are in no checkpoint here",
                    line=False,
                )


def _signature_valid(report: ArchiveReport, public_key_for: Callable[[str], bytes | None]) -> bool:
    public = public_key_for(report.key_id)
    try:
        signature = base64.b64decode(report.signature, validate=True)
    except ValueError:
        return False
    if public is None or len(public) != 32 or len(signature) != 64:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + statement(report.sha256, report.format), public)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def _index(kind: str) -> int:
    return _KINDS.index(kind) if kind in _KINDS else -1


def _base64(value: object) -> bytes | None:
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        return None


def check_lines(
    lines: Iterable[bytes], public_key_for: Callable[[str], bytes | None]
) -> ArchiveReport:
    checker = ArchiveChecker(public_key_for)
    for raw in lines:
        checker.feed(raw)
    return checker.finish()


@dataclass(frozen=True, slots=True)
class ArchivedCuts:
    """Where the live log starts after archives were detached: per shard the last archived
    sequence number and its hash, and the hashes checkpoints still need (`boundary`)."""

    cuts: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    boundary: Mapping[str, Mapping[int, str]] = field(default_factory=dict)

    def starts(self) -> dict[str, tuple[int, bytes]]:
        return {shard: (seq, bytes.fromhex(head)) for shard, (seq, head) in self.cuts.items()}

    def archived(self, shard: str, seq: int) -> bool:
        cut = self.cuts.get(shard)
        return cut is not None and seq <= cut[0]

    def hash_at(self, shard: str, seq: int) -> str | None:
        """The hash of an archived record, where one is kept (the cut, the boundary)."""
        cut = self.cuts.get(shard)
        if cut is not None and cut[0] == seq:
            return cut[1]
        return self.boundary.get(shard, {}).get(seq)

    def wholly_archived(self, ranges: Mapping[str, tuple[int, int]]) -> bool:
        return bool(ranges) and all(self.archived(s, b) for s, (_, b) in ranges.items())

    def archived_leaves(self, shard: str, first: int, last: int) -> Iterator[bytes | None]:
        """The leaves of archived records ``first``..``last`` (None where no hash is kept)."""
        for seq in range(first, last + 1):
            digest = self.hash_at(shard, seq)
            yield None if digest is None else merkle.leaf_hash(bytes.fromhex(digest))
