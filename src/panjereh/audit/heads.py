"""Signed shard heads: the writer vouching for what it wrote (docs/audit-log.md, "Signed heads").

The chain hash is unkeyed SHA-256 over a published format: anyone who can write to the
database can append a record with a correct hash.  So the writer also signs its shard's head
with the exchange's Ed25519 key, which the database does not hold: in the transaction of a
batch once ``PANJEREH_AUDIT_HEAD_SECONDS`` passed since its last signed head, on a timer for a
tail that waits longer, and a *closing* head when the shard closes (shutdown; a crashed
writer's shard is closed by the next start from its last signed head, ``closed_by`` naming the
shard that did it).  A record after a shard's last signed head was not vouched for.

The canonical body (format ``panjereh.head/1``) is the JSON object, keys sorted, no
whitespace::

    {"closed_by": null, "closing": false, "created_at": "2026-12-09T09:00:00.250000Z",
     "format": "panjereh.head/1", "head": "<record hash hex>", "seq": 1234, "shard": "<id>"}

The signature covers exactly those bytes.  Heads and checkpoints are also published outside
the database as they are made (`panjereh.audit.publish`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import nacl.bindings
import nacl.exceptions
import orjson

from panjereh.audit.verify import Finding, Problem

FORMAT = "panjereh.head/1"
NO_HEAD = "0" * 64
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"

Sign = Callable[[bytes], bytes]
SignerSource = Callable[[], tuple[str, Sign]]  # the active key id and its signing function


def signature_valid(
    public_key_for: Callable[[str], bytes | None], key_id: str, signature: str, body: bytes
) -> bool:
    """Whether ``signature`` (base64 Ed25519) over ``body`` verifies with key ``key_id``."""
    public = public_key_for(key_id)
    if public is None or len(public) != 32:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) != 64:
        return False
    try:
        nacl.bindings.crypto_sign_open(raw + body, public)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SignedHead:
    shard: str
    seq: int  # 0: the shard closed before any record
    head: str  # hex hash of record ``seq`` (64 zeros for seq 0)
    created_at: datetime
    closing: bool = False
    closed_by: str | None = None  # the shard whose writer closed a gone writer's shard
    key_id: str = ""
    signature: str = ""

    def body(self) -> bytes:
        if self.created_at.utcoffset() is None:
            raise ValueError("a head's time must be timezone-aware")
        return orjson.dumps(
            {
                "format": FORMAT,
                "shard": self.shard,
                "seq": self.seq,
                "head": self.head,
                "created_at": self.created_at.astimezone(UTC).strftime(_TIME),
                "closing": self.closing,
                "closed_by": self.closed_by,
            },
            option=orjson.OPT_SORT_KEYS,
        )

    def signed(self, key_id: str, sign: Sign) -> SignedHead:
        signature = base64.b64encode(sign(self.body())).decode("ascii")
        return replace(self, key_id=key_id, signature=signature)

    def signature_valid(self, public_key_for: Callable[[str], bytes | None]) -> bool:
        return signature_valid(public_key_for, self.key_id, self.signature, self.body())

    def as_json(self) -> dict[str, Any]:
        """The published form: the body's fields, the key id and the signature."""
        document: dict[str, Any] = orjson.loads(self.body())
        document["key_id"] = self.key_id
        document["signature"] = self.signature
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> SignedHead:
        """Read a published head; ValueError if it is not one."""
        if not isinstance(document, Mapping) or document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} head")
        try:
            created = datetime.strptime(str(document["created_at"]), _TIME)  # noqa: DTZ007
            closed_by = document.get("closed_by")
            return cls(
                shard=str(document["shard"]),
                seq=int(document["seq"]),
                head=str(document["head"]),
                created_at=created.replace(tzinfo=UTC),
                closing=bool(document["closing"]),
                closed_by=None if closed_by is None else str(closed_by),
                key_id=str(document.get("key_id", "")),
                signature=str(document.get("signature", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a head: {exc.__class__.__name__}") from None


@dataclass(slots=True)
class HeadEvidence:
    """What `head_findings` weighs, for a whole log."""

    now: datetime
    head_seconds: float  # PANJEREH_AUDIT_HEAD_SECONDS
    lease_seconds: float  # PANJEREH_AUDIT_LEASE_SECONDS
    stored: list[SignedHead] = field(default_factory=list)  # audit_heads
    published: list[SignedHead] | None = None  # from `panjereh audit verify --published DIR`
    signing: set[str] = field(default_factory=set)  # shards whose writer signs heads
    leases: dict[str, datetime] = field(default_factory=dict)  # shard -> last heartbeat
    pending: int = 0  # records of live writers not signed yet, within the grace (not findings)

    def grace(self) -> float:
        """How long after its last signed head a live writer's tail may wait for the next:
        the writer signs within one interval; twice that leaves room for a busy loop."""
        return 2 * self.head_seconds


async def head_findings(
    evidence: HeadEvidence,
    tips: Mapping[str, tuple[int, str]],
    hash_at: Callable[[str, int], Awaitable[str | None]],
    public_key_for: Callable[[str], bytes | None],
) -> list[Finding]:
    """Every shard's records against its signed heads (module docstring): a record after the
    last signed head, a signed head whose record is gone or has another hash, a head whose
    signature fails, a gone writer's shard without a closing head.  ``tips``: each shard's
    last record as stored (seq, hash hex); ``hash_at``: a stored record's hash."""
    found: list[Finding] = []
    valid: dict[str, list[tuple[SignedHead, bool]]] = {}  # shard -> (head, published)
    for heads, published in ((evidence.stored, False), (evidence.published or [], True)):
        for head in heads:
            if head.signature_valid(public_key_for):
                valid.setdefault(head.shard, []).append((head, published))
                continue
            where = "a published" if published else "a stored"
            found.append(
                Finding(
                    Problem.BAD_SIGNATURE,
                    head.shard,
                    head.seq,
                    None,
                    f"{where} signed head does not verify with the published key {head.key_id!r}",
                )
            )
    for shard in sorted(evidence.signing | set(valid)):
        found.extend(await _shard_findings(evidence, shard, valid.get(shard, []), tips, hash_at))
    return found


async def _shard_findings(
    evidence: HeadEvidence,
    shard: str,
    heads: Sequence[tuple[SignedHead, bool]],
    tips: Mapping[str, tuple[int, str]],
    hash_at: Callable[[str, int], Awaitable[str | None]],
) -> list[Finding]:
    found: list[Finding] = []
    tip = tips.get(shard, (0, NO_HEAD))[0]
    for head, published in _lasts(heads):
        found.extend(await _against_records(shard, head, published, tip, hash_at))
    last = max((h for h, _ in heads), key=lambda h: (h.seq, h.closing), default=None)
    closed = any(h.closing for h, _ in heads)
    beat = evidence.leases.get(shard)
    gone = beat is None or (evidence.now - beat).total_seconds() > evidence.lease_seconds
    signed = last.seq if last is not None else 0
    if tip > signed:
        span = f"records #{signed + 1} to #{tip}" if tip > signed + 1 else f"record #{tip}"
        why = None
        if closed:
            why = f"{span} came after the shard's closing head (#{signed}): not its writer's"
        elif gone:
            why = f"{span} came after the last signed head (#{signed}) of a writer that is gone"
        elif last is None or (evidence.now - last.created_at).total_seconds() > evidence.grace():
            why = (
                f"{span} came after the last signed head (#{signed}) and the live writer has "
                f"not signed them within {evidence.grace():g} s: not its writer's"
            )
        if why is None:
            evidence.pending += tip - signed
        else:
            found.append(Finding(Problem.UNSIGNED, shard, signed + 1, None, why))
    if not closed and gone and shard in evidence.signing:
        found.append(
            Finding(
                Problem.UNCLOSED,
                shard,
                None,
                None,
                "its writer is gone (no heartbeat within the lease) and no closing head closed "
                "it: the next start of the exchange closes it from its last signed head",
            )
        )
    return found


def _lasts(heads: Iterable[tuple[SignedHead, bool]]) -> list[tuple[SignedHead, bool]]:
    """The last stored and the last published head (each checked against the records)."""
    lasts: dict[bool, SignedHead] = {}
    for head, published in heads:
        now = lasts.get(published)
        if now is None or (head.seq, head.closing) > (now.seq, now.closing):
            lasts[published] = head
    return [(head, published) for published, head in sorted(lasts.items())]


async def _against_records(
    shard: str,
    head: SignedHead,
    published: bool,
    tip: int,
    hash_at: Callable[[str, int], Awaitable[str | None]],
) -> list[Finding]:
    what = "a published signed head" if published else "its last signed head"
    if head.seq == 0:
        return []
    if head.seq > tip:
        return [
            Finding(
                Problem.TRUNCATED,
                shard,
                head.seq,
                None,
                f"{what} is record #{head.seq}; the shard now ends at #{tip}: records at the "
                "end were deleted",
            )
        ]
    stored = await hash_at(shard, head.seq)
    if stored != head.head:
        return [
            Finding(
                Problem.REWRITTEN,
                shard,
                head.seq,
                None,
                f"{what} has another hash than the record stored there: the chain was rewritten",
            )
        ]
    return []
