"""A proof that one audit record is in the log: checkable offline with the exchange's public
key alone (docs/audit-log.md, "Proving one record").

The bundle (format ``panjereh.proof/1``) carries the record's fields, its shard and number, the
hash of the record before it, its place in the Merkle tree of the checkpoint that covers it,
the audit path, and that signed checkpoint.  `check` recomputes, from the fields alone, the
record's canonical bytes and chain hash, the leaf, the root along the path, and compares it
with the checkpoint's root; then checks the checkpoint's signature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from panjereh.audit import merkle
from panjereh.audit.chain import GENESIS, canonical_bytes, chain_hash
from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.records import AuditRecord, Outcome, field_names

FORMAT = "panjereh.proof/1"


class ProofError(ValueError):
    """The bundle does not prove what it claims; the message says which step failed."""


def bundle(
    record: AuditRecord,
    *,
    shard: str,
    seq: int,
    previous_hash: bytes,
    leaf_index: int,
    path: list[bytes],
    checkpoint: Checkpoint,
) -> dict[str, Any]:
    fields = {name: getattr(record, name) for name in field_names(record)}
    fields["outcome"] = record.outcome.value
    fields["created_at"] = record.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "format": FORMAT,
        "record": fields,
        "shard": shard,
        "seq": seq,
        "previous_hash": previous_hash.hex(),
        "leaf_index": leaf_index,
        "tree_size": checkpoint.tree_size,
        "path": [p.hex() for p in path],
        "checkpoint": checkpoint.as_json(),
    }


def check(
    document: Mapping[str, Any], public_key_for: Callable[[str], bytes | None]
) -> AuditRecord:
    """The proven record; ProofError naming the step that failed."""
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        raise ProofError(f"not a {FORMAT} proof")
    try:
        record = _record(document["record"])
        shard, seq = str(document["shard"]), int(document["seq"])
        previous = bytes.fromhex(str(document["previous_hash"]))
        index, size = int(document["leaf_index"]), int(document["tree_size"])
        path = [bytes.fromhex(str(p)) for p in document["path"]]
        checkpoint = Checkpoint.from_json(document["checkpoint"])
    except (KeyError, TypeError, ValueError) as exc:
        what = exc.__class__.__name__
        raise ProofError(f"the proof is incomplete or malformed ({what})") from None
    if seq == 1 and previous != GENESIS:
        raise ProofError("a shard's first record follows no record (zero previous hash)")
    if size != checkpoint.tree_size:
        raise ProofError("the tree size differs from the checkpoint's")
    low, high = checkpoint.ranges.get(shard, (0, -1))
    if not low <= seq <= high:
        raise ProofError("the checkpoint does not cover this record's shard and number")
    record_hash = chain_hash(previous, canonical_bytes(record, shard, seq))
    leaf = merkle.leaf_hash(record_hash)
    root = merkle.root_from_proof(leaf, index, size, path)
    if root is None or root.hex() != checkpoint.merkle_root:
        raise ProofError("the record, its path and the checkpoint's Merkle root do not agree")
    if not checkpoint.signature_valid(public_key_for):
        raise ProofError(
            f"the checkpoint's signature does not verify with key {checkpoint.key_id!r}"
        )
    return record


def _record(fields: Mapping[str, Any]) -> AuditRecord:
    values = dict(fields)
    values["outcome"] = Outcome(values["outcome"])
    created = datetime.strptime(  # noqa: DTZ007 - the Z is UTC, made aware here
        str(values["created_at"]), "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    values["created_at"] = created.replace(tzinfo=UTC)
    return AuditRecord(**values)
