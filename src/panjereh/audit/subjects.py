"""The keyed hash that stands for a subject (a national code or legal id) in the audit log.

The log never holds a national code in clear: each record keeps
``HMAC-SHA256(subject key, subject)`` in hex, so records about one person can be found (the
citizen's own view, an auditor's search) by whoever holds the key, and by nobody else.

The key rotates (docs/audit-log.md, "Privacy"): new records are hashed with the *current* key
only; the *previous* keys are kept for lookups, so a search finds the records written before a
rotation too.  Records keep the hash they were written with, so the chains never change.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

MIN_KEY_BYTES = 32
PEPPER_KEY_ID = "pepper"  # the id of the key derived from the installation's pepper


def pepper_key(pepper: bytes) -> bytes:
    """The subject key derived from the installation's pepper (the development default)."""
    return hmac.new(pepper, b"audit-subject-key", hashlib.sha256).digest()


class SubjectKeys:
    """Hashes subjects for the audit log with the current key; looks them up under all."""

    def __init__(
        self,
        key: bytes,
        *,
        key_id: str = "current",
        previous: Iterable[tuple[str, bytes]] = (),
    ) -> None:
        older = tuple(previous)
        for _, raw in ((key_id, key), *older):
            if len(raw) < MIN_KEY_BYTES:
                raise ValueError(f"a subject key is at least {MIN_KEY_BYTES} bytes")
        ids = [key_id, *(name for name, _ in older)]
        if len(set(ids)) != len(ids):
            raise ValueError("subject key ids must differ from each other")
        self._key = key
        self.key_id = key_id
        # Duplicated keys (the same secret listed twice) give the same hash: looked up once.
        self._previous = tuple(raw for _, raw in older if raw != key)
        self.previous_ids = tuple(name for name, _ in older)

    @classmethod
    def from_pepper(cls, pepper: bytes) -> SubjectKeys:
        """The key derived from the installation's pepper (the default)."""
        return cls(pepper_key(pepper), key_id=PEPPER_KEY_ID)

    def hash(self, subject: str) -> str:
        """The hex HMAC of a normalized (ASCII digits) subject, as stored in new records."""
        return hmac.new(self._key, subject.encode("ascii"), hashlib.sha256).hexdigest()

    def lookup_hashes(self, subject: str) -> tuple[str, ...]:
        """Every hash under which records about ``subject`` may be stored: the current key's
        first, then each previous key's (distinct, in the configured order)."""
        message = subject.encode("ascii")
        found = [self.hash(subject)]
        for key in self._previous:
            digest = hmac.new(key, message, hashlib.sha256).hexdigest()
            if digest not in found:
                found.append(digest)
        return tuple(found)
