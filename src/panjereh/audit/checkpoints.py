"""Signed checkpoints: what pins the audit chains' heads (docs/audit-log.md).

A checkpoint records, for every shard, its last sequence number and head hash; the range of
each shard's records added since the previous checkpoint and the RFC 9162 Merkle root over
them (leaves: the records' canonical bytes, ordered by shard then sequence); the previous
checkpoint's hash; and the exchange's Ed25519 signature over all of it, with the key id, so a
rotated key still verifies the checkpoints it signed.

Its canonical body (format ``panjereh.checkpoint/2``) is the JSON object below with keys
sorted and no whitespace; the signature covers exactly those bytes and the checkpoint's hash
is their SHA-256::

    {"created_at": "2026-12-02T09:00:00.000000Z",
     "events": {"control-plane": [last_seq, "<head hash hex>"]},
     "format": "panjereh.checkpoint/2",
     "heads": {"<shard>": [last_seq, "<head hash hex>"], ...}, "merkle_root": "<hex>",
     "number": 7, "previous": "<hash hex of checkpoint 6, or 64 zeros>",
     "ranges": {"<shard>": [first_seq, last_seq], ...}, "tree_size": 1234}

``events`` pins the control-plane event stream (`panjereh.audit.events_chain`): its last
number and head hash when the checkpoint was made (``[0, 64 zeros]`` while it is empty).
Checkpoints made before it existed have format ``panjereh.checkpoint/1``: the same body
without ``events``; they are read, re-encoded byte for byte and verified as they were signed
(``events`` is None), and pin no event.

Someone holding the database can rewrite records and recompute every chain, but cannot sign a
checkpoint; an agency or auditor keeping its own copies of the published checkpoints detects a
rewritten or truncated log with `panjereh audit verify --checkpoints FILE`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import nacl.bindings
import nacl.exceptions
import orjson

FORMAT = "panjereh.checkpoint/2"  # what checkpoints are made in: pins the events stream
FORMAT_V1 = "panjereh.checkpoint/1"  # before the events stream was pinned: no ``events``
NO_PREVIOUS = "0" * 64


@dataclass(frozen=True, slots=True)
class Checkpoint:
    number: int
    created_at: datetime
    heads: Mapping[str, tuple[int, str]]  # shard -> (last seq, head hash hex)
    ranges: Mapping[str, tuple[int, int]]  # shard -> (first, last) seq since the previous one
    tree_size: int
    merkle_root: str  # hex
    previous: str  # hex hash of the previous checkpoint's body, or NO_PREVIOUS
    key_id: str = ""
    signature: str = ""  # base64 Ed25519 over `body()`
    # stream -> (last seq, head hash hex) of the control-plane events; None: format 1
    events: Mapping[str, tuple[int, str]] | None = None

    @property
    def format(self) -> str:
        return FORMAT_V1 if self.events is None else FORMAT

    def body(self) -> bytes:
        if self.created_at.utcoffset() is None:
            raise ValueError("a checkpoint's time must be timezone-aware")
        document: dict[str, Any] = {
            "format": self.format,
            "number": self.number,
            "created_at": self.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "heads": {shard: [seq, head] for shard, (seq, head) in self.heads.items()},
            "ranges": {shard: [a, b] for shard, (a, b) in self.ranges.items()},
            "tree_size": self.tree_size,
            "merkle_root": self.merkle_root,
            "previous": self.previous,
        }
        if self.events is not None:
            document["events"] = {s: [seq, head] for s, (seq, head) in self.events.items()}
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.body()).hexdigest()

    def signed(self, key_id: str, sign: Callable[[bytes], bytes]) -> Checkpoint:
        signature = base64.b64encode(sign(self.body())).decode("ascii")
        return replace(self, key_id=key_id, signature=signature)

    def signature_valid(self, public_key_for: Callable[[str], bytes | None]) -> bool:
        """Whether the signature verifies with the published key ``key_id`` names (raw
        32-byte Ed25519 public key, or None if unknown)."""
        public = public_key_for(self.key_id)
        if public is None or len(public) != 32:
            return False
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        if len(signature) != 64:
            return False
        try:
            nacl.bindings.crypto_sign_open(signature + self.body(), public)
        except nacl.exceptions.BadSignatureError:
            return False
        return True

    def as_json(self) -> dict[str, Any]:
        """The published form: the body's fields, the key id and the signature."""
        document: dict[str, Any] = orjson.loads(self.body())
        document["key_id"] = self.key_id
        document["signature"] = self.signature
        document["hash"] = self.hash
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Checkpoint:
        """Read a published checkpoint (format 1 or 2); ValueError if it is not one."""
        if not isinstance(document, Mapping) or document.get("format") not in (FORMAT, FORMAT_V1):
            raise ValueError(f"not a {FORMAT} (or {FORMAT_V1}) checkpoint")
        try:
            events = None
            if document["format"] == FORMAT:  # format 2 has it, format 1 never
                events = {str(s): (int(v[0]), str(v[1])) for s, v in document["events"].items()}
            created = datetime.strptime(  # noqa: DTZ007 - the Z is UTC, made aware below
                document["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ"
            )
            return cls(
                number=int(document["number"]),
                created_at=created.replace(tzinfo=UTC),
                heads={str(s): (int(v[0]), str(v[1])) for s, v in document["heads"].items()},
                ranges={str(s): (int(v[0]), int(v[1])) for s, v in document["ranges"].items()},
                tree_size=int(document["tree_size"]),
                merkle_root=str(document["merkle_root"]),
                previous=str(document["previous"]),
                key_id=str(document.get("key_id", "")),
                signature=str(document.get("signature", "")),
                events=events,
            )
        except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
            raise ValueError(f"not a checkpoint: {exc.__class__.__name__}") from None
