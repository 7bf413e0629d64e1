"""The exchange's own Ed25519 signing keys: one active key, older ones still published.

The exchange signs every request it forwards to a provider and every answer it returns to a
consumer (docs/http-signatures.md).  Its keys live in a folder (``<data_dir>/keys/`` by
default), one pair of files per key:

- ``<key_id>.key``: the private key, PKCS#8 PEM, mode 0600, created with ``O_EXCL``;
- ``<key_id>.pub``: the raw public key, base64url, kept after the private key is retired so
  that answers signed years ago still verify.

Key ids sort by creation time (``exchange-20261201T213000Z-1a2b3c``), and the newest key that
still has its private half is the active one.  Creating the first key takes an exclusive
``flock`` on ``.lock`` in the folder, so several workers starting together agree on one key.
A key may instead come from settings (``PANJEREH_EXCHANGE_SIGNING_KEY`` or ``..._FILE``, a PEM),
for deployments whose workers run on several machines.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from panjereh.domain.errors import PanjerehError

KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$", re.ASCII)
_STAMP = re.compile(r"exchange-([0-9]{8}T[0-9]{6}Z)-", re.ASCII)


class SigningKeyError(PanjerehError):
    """The exchange's keys cannot be read or made; the message says which file and why."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class PublishedKey:
    key_id: str
    public_key: Ed25519PublicKey
    active: bool

    def jwk(self) -> dict[str, Any]:
        """The key as a JSON Web Key (RFC 8037 OKP), as ``GET /exchange/v1/keys`` lists it."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": self.key_id,
            "x": _b64url(public_bytes(self.public_key)),
            "alg": "EdDSA",
            "use": "sig",
            "status": "active" if self.active else "retired",
        }


@dataclass(frozen=True, slots=True)
class ExchangeKeys:
    """The active signing key and every published public key (the active one included)."""

    active_id: str
    private_key: Ed25519PrivateKey
    published: Mapping[str, PublishedKey]

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        found = self.published.get(key_id)
        return found.public_key if found is not None else None

    def jwks(self) -> dict[str, Any]:
        ordered = sorted(self.published.values(), key=lambda k: k.key_id, reverse=True)
        return {"keys": [key.jwk() for key in ordered]}


def new_key_id(now: datetime) -> str:
    return f"exchange-{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a file that must not exist yet (``O_EXCL``), completely, then fsync it."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(directory: Path, now: datetime) -> str:
    key_id = new_key_id(now)
    newest = max(_key_ids(directory, ".pub") + _key_ids(directory, ".key"), default="")
    stamp = _STAMP.match(newest)
    if key_id <= newest and stamp is not None:
        # Made within the same second as the newest key (or the clock went back): the ids'
        # random tails do not sort, so move on from the newest one's second to stay last.
        later = datetime.strptime(stamp[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        key_id = new_key_id(later + timedelta(seconds=1))
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(
        directory / f"{key_id}.pub",
        (_b64url(public_bytes(private.public_key())) + "\n").encode("ascii"),
        0o644,
    )
    _write_new(directory / f"{key_id}.key", pem, 0o600)
    return key_id


def _key_ids(directory: Path, suffix: str) -> list[str]:
    names = (p.name[: -len(suffix)] for p in directory.glob(f"*{suffix}"))
    return sorted(name for name in names if KEY_ID.fullmatch(name))


def load_private(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{where}: not a PEM private key without a password") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{where}: the exchange's key must be an Ed25519 key")
    return key


def _read_public(path: Path) -> Ed25519PublicKey:
    try:
        raw = _from_b64url(path.read_text(encoding="ascii").strip())
        return Ed25519PublicKey.from_public_bytes(raw)
    except (OSError, ValueError, UnicodeDecodeError):
        raise SigningKeyError(f"{path}: not a base64url Ed25519 public key") from None


def _published(directory: Path, active_id: str) -> dict[str, PublishedKey]:
    if not directory.is_dir():
        return {}
    return {
        key_id: PublishedKey(key_id, _read_public(directory / f"{key_id}.pub"), key_id == active_id)
        for key_id in _key_ids(directory, ".pub")
    }


def ensure_keys(directory: Path, now: datetime) -> str:
    """Create the first key if the folder has none; the active key's id either way."""
    with _locked(directory):
        existing = _key_ids(directory, ".key")
        return existing[-1] if existing else _create(directory, now)


def rotate(directory: Path, now: datetime) -> str:
    """A new active key; the old ones stay published (and usable until their .key goes)."""
    with _locked(directory):
        return _create(directory, now)


def retire(directory: Path, key_id: str) -> None:
    """Delete a key's private half; its public half stays published for verification."""
    with _locked(directory):
        keys = _key_ids(directory, ".key")
        if key_id not in keys:
            raise SigningKeyError(f"there is no private key {key_id!r} in {directory}")
        if key_id == keys[-1]:
            raise SigningKeyError(f"{key_id} is the active key: rotate first, then retire it")
        (directory / f"{key_id}.key").unlink()


def load_keys(directory: Path, now: datetime) -> ExchangeKeys:
    """The folder's keys, creating the first one when there is none."""
    active_id = ensure_keys(directory, now)
    path = directory / f"{active_id}.key"
    try:
        private = load_private(path.read_bytes(), str(path))
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read ({exc.strerror})") from None
    published = _published(directory, active_id)
    if active_id not in published:  # a .pub lost: publish the active key all the same
        published[active_id] = PublishedKey(active_id, private.public_key(), True)
    return ExchangeKeys(active_id, private, published)


def keys_from_settings(pem: bytes, key_id: str, directory: Path) -> ExchangeKeys:
    """The active key from a setting; public keys of older ones still read from ``directory``."""
    if not KEY_ID.fullmatch(key_id):
        raise SigningKeyError(f"key id {key_id!r}: letters, digits, '.', '_' and '-' only (1-64)")
    private = load_private(pem, "PANJEREH_EXCHANGE_SIGNING_KEY")
    published = {
        k: PublishedKey(k, v.public_key, False)
        for k, v in _published(directory, key_id).items()
        if k != key_id
    }
    published[key_id] = PublishedKey(key_id, private.public_key(), True)
    return ExchangeKeys(key_id, private, published)
