"""X-Request-Id: a retried inquiry gets the first answer instead of a second provider call.

The key is (consumer system, request id).  :meth:`IdempotencyStore.begin` answers one of:

- a :class:`Claim` — first use: the caller owns the key, asks the provider and then must either
  :meth:`~IdempotencyStore.complete` the claim with the answer (it is replayed for ``ttl_s``,
  600 s by default) or :meth:`~IdempotencyStore.release` it when the inquiry failed in a way a
  retry should re-attempt (the exchange's or the provider's 5xx), so the retry goes through;
- a :class:`StoredReply` — a replay: the same id with the same body digest was answered before;
- :attr:`IdempotencyRefusal.CONFLICT` — the same id with a different body: 409
  duplicate-request;
- :attr:`IdempotencyRefusal.IN_PROGRESS` — the same id and body is still being answered by the
  first inquiry and did not finish within ``wait_s``.  Until then ``begin`` waits for the first
  to finish and replays its answer (or takes over the claim if the first released it).

A claim that is neither completed nor released expires after ``pending_ttl_s``.  Answers
larger than ``max_reply_bytes`` are not kept (``complete`` then acts as ``release``).

A signed request is also the store's business: its signature is taken for 5 minutes, and its
covered X-Request-Id is what tells a replayed copy from the first (the stored answer comes
back, the provider is not asked again).  That holds only for requests the store can still
remember, so every store knows the first second since which it remembers every request
(``since``: the second it started in — after a restart of the process, or Redis losing its
data — moved past an entry's claim when it evicts one to stay within its bounds), and
``begin`` given the signature's ``created`` (``signed_at``) answers
:attr:`IdempotencyRefusal.STALE` for one created before that: the caller must sign again.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from typing import Final, NamedTuple, Protocol

from panjereh.domain.errors import PanjerehError
from panjereh.exchange.cache import StoredReply

__all__ = [
    "Claim",
    "IdempotencyRefusal",
    "IdempotencyStore",
    "IdempotencyUnavailable",
    "MemoryIdempotencyStore",
    "parse_request_id",
    "request_digest",
]

_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ENTRY_OVERHEAD: Final = 300  # bytes of bookkeeping counted per entry besides the reply


class IdempotencyRefusal(StrEnum):
    CONFLICT = "conflict"  # same id, different body: 409 duplicate-request
    IN_PROGRESS = "in-progress"  # same id and body, the first is still running after wait_s
    STALE = "stale"  # signed before the store's memory begins: 401, sign again


class Claim(NamedTuple):
    """First use of a request id: the holder must ``complete`` or ``release`` it.

    An immutable NamedTuple rather than a frozen dataclass: one is made per inquiry that
    carries X-Request-Id, and a frozen dataclass costs three times as much to build.
    """

    consumer: str
    request_id: str
    digest: str
    token: str


class IdempotencyUnavailable(PanjerehError):
    """The shared store could not be asked (e.g. Redis is down): answer 503, do not go on."""


class IdempotencyStore(Protocol):
    async def begin(
        self, consumer: str, request_id: str, digest: str, *, signed_at: int | None = None
    ) -> Claim | StoredReply | IdempotencyRefusal:
        """Claim the key, or return the stored answer, or refuse (see the module docstring);
        ``signed_at``: the ``created`` of the request's signature (Unix seconds), if signed."""
        ...

    async def complete(self, claim: Claim, reply: StoredReply) -> None:
        """Store the answer for replays; a claim lost meanwhile (expired, evicted) is ignored."""
        ...

    async def release(self, claim: Claim) -> None:
        """Give the key up so that a retry is answered afresh."""
        ...


def parse_request_id(raw: str) -> str | None:
    """The canonical (lower-case, hyphenated) form of a UUID from X-Request-Id, else None."""
    lowered = raw.lower()
    if _CANONICAL_UUID.fullmatch(lowered):  # the usual form, 7x faster than uuid.UUID
        return lowered
    if not 32 <= len(raw) <= 45 or not raw.isascii():  # uuid.UUID takes Persian digits
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def request_digest(service_id: str, purpose: str | None, body: bytes) -> str:
    """What must be equal for a retry to be the same inquiry: service, purpose and body (hex)."""
    digest = hashlib.sha256(f"{service_id}\n{purpose or ''}\n".encode())
    digest.update(body)
    return digest.hexdigest()


# What the memory store holds per key: (digest, token, expires_at, size, reply, claimed_at),
# the reply itself (status, body, media type, headers) or None while the first inquiry is
# answered, and the monotonic time of the claim.
# Plain tuples all the way down on purpose: the garbage collector untracks tuples of strings,
# numbers and bytes (not NamedTuples or slotted objects), so 100,000 stored answers do not
# make every full collection walk ~800,000 objects (80 ms here: the exchange's p99).
_Reply = tuple[int, bytes, str, tuple[tuple[str, str], ...]]
_Entry = tuple[str, str, float, int, _Reply | None, float]
_DIGEST: Final = 0
_TOKEN: Final = 1
_EXPIRES: Final = 2
_SIZE: Final = 3
_REPLY: Final = 4
_CLAIMED: Final = 5


class MemoryIdempotencyStore:
    """The store for the single embedded worker: an ordered dict, oldest entries out first."""

    __slots__ = (
        "_bytes",
        "_entries",
        "_max_bytes",
        "_max_entries",
        "_max_reply_bytes",
        "_monotonic",
        "_pending_ttl_s",
        "_since",
        "_tokens",
        "_ttl_s",
        "_wait_s",
        "_waiting",
        "_wall",
    )

    def __init__(
        self,
        *,
        ttl_s: float = 600.0,
        pending_ttl_s: float = 120.0,
        wait_s: float = 30.0,
        max_entries: int = 100_000,
        max_bytes: int = 64 * 1024 * 1024,
        max_reply_bytes: int = 1024 * 1024,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        # the keys a second inquiry waits on (rare): set when the first is answered or dropped
        self._waiting: dict[tuple[str, str], asyncio.Event] = {}
        self._bytes = 0
        self._ttl_s = ttl_s
        self._pending_ttl_s = pending_ttl_s
        self._wait_s = wait_s
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._max_reply_bytes = min(max_reply_bytes, max_bytes)
        self._monotonic = monotonic
        self._wall = wall  # Unix seconds, the clock signatures are judged by
        self._since = math.floor(wall())
        self._tokens = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    @property
    def since(self) -> int:
        """The first second since which every request is remembered (Unix seconds)."""
        return self._since

    async def begin(
        self, consumer: str, request_id: str, digest: str, *, signed_at: int | None = None
    ) -> Claim | StoredReply | IdempotencyRefusal:
        if signed_at is not None and signed_at < self._since:
            return IdempotencyRefusal.STALE
        key = (consumer, request_id)
        deadline: float | None = None
        while True:
            now = self._monotonic()
            entry = self._entries.get(key)
            if entry is not None and entry[_EXPIRES] <= now:
                self._drop(key, entry)
                entry = None
            if entry is None:
                return self._claim(key, digest, now)
            if entry[_DIGEST] != digest:
                return IdempotencyRefusal.CONFLICT
            reply = entry[_REPLY]
            if reply is not None:
                return StoredReply(*reply)
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self._wait_s
            done = self._waiting.get(key)
            if done is None:
                done = self._waiting[key] = asyncio.Event()
            try:
                async with asyncio.timeout_at(deadline):
                    await done.wait()
            except TimeoutError:
                return IdempotencyRefusal.IN_PROGRESS

    async def complete(self, claim: Claim, reply: StoredReply) -> None:
        key = (claim.consumer, claim.request_id)
        entry = self._entries.get(key)
        if entry is None or entry[_TOKEN] != claim.token:
            return
        size = reply.size
        if size + entry[_SIZE] > self._max_reply_bytes:
            self._drop(key, entry)
            return
        stored: _Reply = (reply.status, reply.body, reply.content_type, reply.headers)
        expires = self._monotonic() + self._ttl_s
        self._entries[key] = (
            entry[_DIGEST], entry[_TOKEN], expires, entry[_SIZE] + size, stored, entry[_CLAIMED]
        )  # fmt: skip
        self._bytes += size
        self._entries.move_to_end(key)
        if self._bytes > self._max_bytes:
            self._evict()
        self._wake(key)

    async def release(self, claim: Claim) -> None:
        key = (claim.consumer, claim.request_id)
        entry = self._entries.get(key)
        if entry is not None and entry[_TOKEN] == claim.token:
            self._drop(key, entry)

    def _claim(self, key: tuple[str, str], digest: str, now: float) -> Claim:
        self._purge(now)
        claim = Claim(key[0], key[1], digest, str(next(self._tokens)))
        size = _ENTRY_OVERHEAD + len(key[0]) + len(key[1]) + len(digest)
        self._entries[key] = (digest, claim.token, now + self._pending_ttl_s, size, None, now)
        self._bytes += size
        if len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._evict()
        return claim

    def _purge(self, now: float) -> None:
        """Drop expired entries from the old end (amortized: each entry is dropped once)."""
        entries = self._entries
        while entries:
            key, entry = next(iter(entries.items()))
            if entry[_EXPIRES] > now:
                return
            self._drop(key, entry)

    def _evict(self) -> None:
        """Drop the oldest entries beyond the bounds; a signed request claimed in or before
        the second an evicted one was claimed in can no longer be told from its replay."""
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            key, entry = next(iter(self._entries.items()))
            claimed = self._wall() - (self._monotonic() - entry[_CLAIMED])
            self._since = max(self._since, math.floor(claimed) + 1)
            self._drop(key, entry)

    def _drop(self, key: tuple[str, str], entry: _Entry) -> None:
        del self._entries[key]
        self._bytes -= entry[_SIZE]
        self._wake(key)  # waiters look again: they replay nothing and claim for themselves

    def _wake(self, key: tuple[str, str]) -> None:
        done = self._waiting.pop(key, None)
        if done is not None:
            done.set()
