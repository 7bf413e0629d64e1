"""Request and response bodies kept for the services configured to keep them, encrypted.

By default the audit log keeps only the SHA-256 of each body.  A service whose registry entry
says ``keep_payloads: true`` also has both bodies stored, sealed with AES-256-GCM
(docs/audit-log.md, "Privacy"):

- the key comes from settings (``PANJEREH_AUDIT_PAYLOAD_KEY``, 32 bytes) and has an id, stored
  with every sealed body, so keys can rotate: older keys stay configured for reading;
- every body has its own random 96-bit nonce;
- the associated data binds the ciphertext to its place: ``panjereh.payload/1``, the exchange
  id and the kind (request or response), newline-separated, so a ciphertext moved to another
  record or swapped between request and response no longer opens.

Nothing is ever stored in clear: without a key, a service that keeps payloads is refused
(start-up, registry import) and its inquiries are not recorded (so not answered).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from panjereh.domain.errors import PanjerehError

FORMAT = "panjereh.payload/1"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, as GCM wants


class PayloadKind(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"


class PayloadError(PanjerehError):
    """A kept payload cannot be opened; the message says why (never what it holds)."""


@dataclass(frozen=True, slots=True)
class KeptPayloads:
    """The bodies of one inquiry of a service that keeps them, handed to the audit store."""

    exchange_id: str
    request: bytes
    response: bytes


@dataclass(frozen=True, slots=True)
class SealedPayload:
    """One body as stored: its place, the key that sealed it, the nonce and the ciphertext
    (which ends with GCM's 16-byte tag)."""

    exchange_id: str
    kind: PayloadKind
    key_id: str
    nonce: bytes
    ciphertext: bytes


def associated_data(exchange_id: str, kind: PayloadKind) -> bytes:
    return f"{FORMAT}\n{exchange_id}\n{kind.value}".encode()


class PayloadKeys:
    """Seals with the current key; opens with whichever configured key sealed a payload."""

    def __init__(
        self, key: bytes, *, key_id: str, previous: Iterable[tuple[str, bytes]] = ()
    ) -> None:
        keys: dict[str, AESGCM] = {}
        for name, raw in ((key_id, key), *previous):
            if len(raw) != KEY_BYTES:
                raise ValueError(f"a payload key is exactly {KEY_BYTES} bytes (AES-256)")
            if name in keys:
                raise ValueError("payload key ids must differ from each other")
            keys[name] = AESGCM(raw)
        self.key_id = key_id
        self._current = keys[key_id]
        self._keys: Mapping[str, AESGCM] = keys

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def seal(self, exchange_id: str, kind: PayloadKind, plaintext: bytes) -> SealedPayload:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._current.encrypt(nonce, plaintext, associated_data(exchange_id, kind))
        return SealedPayload(exchange_id, kind, self.key_id, nonce, ciphertext)

    def seal_both(self, kept: KeptPayloads) -> tuple[SealedPayload, SealedPayload]:
        return (
            self.seal(kept.exchange_id, PayloadKind.REQUEST, kept.request),
            self.seal(kept.exchange_id, PayloadKind.RESPONSE, kept.response),
        )

    def open(self, sealed: SealedPayload) -> bytes:
        cipher = self._keys.get(sealed.key_id)
        if cipher is None:
            raise PayloadError(
                f"the {sealed.kind.value} of {sealed.exchange_id} was sealed with key "
                f"{sealed.key_id!r}, which is not configured (PANJEREH_AUDIT_PAYLOAD_KEY or "
                "PANJEREH_AUDIT_PAYLOAD_PREVIOUS_KEYS)"
            )
        if len(sealed.nonce) != NONCE_BYTES:
            raise PayloadError(f"the {sealed.kind.value} of {sealed.exchange_id}: bad nonce")
        try:
            return cipher.decrypt(
                sealed.nonce,
                sealed.ciphertext,
                associated_data(sealed.exchange_id, sealed.kind),
            )
        except InvalidTag:
            raise PayloadError(
                f"the {sealed.kind.value} of {sealed.exchange_id} does not decrypt under key "
                f"{sealed.key_id!r}: the configured key is not the one it was sealed with, or "
                "the stored payload was altered"
            ) from None
