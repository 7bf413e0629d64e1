"""API keys: 128-bit random values, kept only as HMAC-SHA256 with a server-side pepper.

The pepper means a stolen database alone cannot be used to test guessed keys offline; HMAC
(not a slow password hash) is right here because the keys are 128 random bits, and the hash is
computed on every inquiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_PREFIX = "pnj_"
KEY_BYTES = 16  # 128 bits


def _encode(raw: bytes) -> str:
    return KEY_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_api_key() -> str:
    """A fresh key to show once to its owner, e.g. ``pnj_3q2-7wEAAAAAAAAAAAAAAA``."""
    return _encode(secrets.token_bytes(KEY_BYTES))


def derived_api_key(pepper: bytes, label: str) -> str:
    """A stable key derived from the pepper: used only for the development demo consumer, so
    ``make run`` can print the same working key every time without storing it anywhere."""
    return _encode(
        hmac.new(pepper, b"demo-key:" + label.encode(), hashlib.sha256).digest()[:KEY_BYTES]
    )


def hash_api_key(pepper: bytes, key: str) -> str:
    return hmac.new(pepper, key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    """The first characters, safe to show in lists so an owner can tell keys apart."""
    return key[: len(KEY_PREFIX) + 4]
