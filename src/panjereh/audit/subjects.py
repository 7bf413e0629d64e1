"""The keyed hash that stands for a subject (a national code or legal id) in the audit log.

The log never holds a national code in clear: each record keeps
``HMAC-SHA256(subject key, subject)`` in hex, so records about one person can be found (the
citizen's own view, an auditor's search) by whoever holds the key, and by nobody else.
"""

from __future__ import annotations

import hashlib
import hmac


class SubjectKeys:
    """Hashes subjects for the audit log with the current key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a subject key is at least 32 bytes")
        self._key = key

    @classmethod
    def from_pepper(cls, pepper: bytes) -> SubjectKeys:
        """The key derived from the installation's pepper (the default)."""
        return cls(hmac.new(pepper, b"audit-subject-key", hashlib.sha256).digest())

    def hash(self, subject: str) -> str:
        """The hex HMAC of a normalized (ASCII digits) subject, as stored in new records."""
        return hmac.new(self._key, subject.encode("ascii"), hashlib.sha256).hexdigest()

    def lookup_hashes(self, subject: str) -> tuple[str, ...]:
        """Every hash under which records about ``subject`` may be stored."""
        return (self.hash(subject),)
