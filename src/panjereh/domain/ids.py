"""Identifiers the platform makes: time-ordered UUIDs (version 7, RFC 9562).

Exchange ids are made thousands of times a second and are the unique key of the audit log, so
they are UUIDv7: the first 48 bits are the Unix time in milliseconds, so new ids sort after old
ones and land at the end of the index instead of at random pages, and a person reading one can
tell roughly when the inquiry happened.  The other 74 bits come from a per-process generator
seeded from the operating system; ids are names, not secrets (nothing is authorized by knowing
one), so they do not need a system call each.
"""

from __future__ import annotations

import os
import random
import time

__all__ = ["IdMaker"]

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62


class IdMaker:
    """Makes UUIDv7 strings; one per process (``random`` is not shared across ``fork``)."""

    __slots__ = ("_bits",)

    def __init__(self, seed: bytes | None = None) -> None:
        source = random.Random(seed if seed is not None else os.urandom(16))  # noqa: S311 - names
        self._bits = source.getrandbits

    def __call__(self) -> str:
        rand = self._bits(74)
        value = (
            (time.time_ns() // 1_000_000) << 80
            | _VERSION
            | (rand >> 62) << 64
            | _VARIANT
            | (rand & 0x3FFF_FFFF_FFFF_FFFF)
        )
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
