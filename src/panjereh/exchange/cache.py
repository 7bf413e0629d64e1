"""The response cache: the same question within a service's TTL gets the same answer.

A service with ``cache_ttl_s > 0`` lets the exchange answer a repeated inquiry without asking
the provider again.  The key is a SHA-256 over the service id, the subject, the request body
in canonical JSON (sorted keys, so ``{"a":1,"b":2}`` and ``{"b":2,"a":1}`` are one question)
and the grant's projection, so one consumer's projection (the fields its grant lets it see)
is never served to another consumer with a different one, and two subjects never share an
entry.  TTL 0 means no caching.

:class:`MemoryCache` is bounded by entries and bytes (least recently used out first); the
Redis cache (:mod:`panjereh.storage.redis_state`) keeps every entry with its own TTL.
:class:`StoredReply` is also what the idempotency store keeps.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple, Protocol

import orjson

__all__ = ["MemoryCache", "ResponseCache", "StoredReply", "cache_key"]

_ENTRY_OVERHEAD: Final = 200  # bytes of bookkeeping counted per entry besides the reply


class StoredReply(NamedTuple):
    """An answer as it can be replayed: status, body, media type and the headers to repeat.

    An immutable NamedTuple rather than a frozen dataclass: one is made per cached or
    idempotent inquiry, and a frozen dataclass costs three times as much to build.
    """

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls, status: int, body: bytes, content_type: str, headers: Mapping[str, str]
    ) -> StoredReply:
        return cls(status, body, content_type, tuple(headers.items()))

    @property
    def size(self) -> int:
        """Approximate bytes held: body, media type and headers."""
        size = len(self.body) + len(self.content_type)
        for name, value in self.headers:
            size += len(name) + len(value)
        return size

    def encode(self) -> bytes:
        """One byte string: a JSON head line, then the body as it is (for Redis)."""
        head = orjson.dumps([self.status, self.content_type, self.headers])
        return head + b"\n" + self.body

    @classmethod
    def decode(cls, data: bytes) -> StoredReply:
        head, _, body = data.partition(b"\n")  # JSON from orjson never holds a raw newline
        status, content_type, headers = orjson.loads(head)
        return cls(int(status), body, str(content_type), tuple((k, v) for k, v in headers))


def cache_key(
    service_id: str,
    subject: str | None,
    document: object,
    projection: tuple[str, ...] | None,
) -> str:
    """The cache key (hex SHA-256) of one question; ``document`` is the parsed request body."""
    head = orjson.dumps([service_id, subject, projection])
    body = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(head + b"\n" + body).hexdigest()


class ResponseCache(Protocol):
    async def get(self, key: str) -> StoredReply | None:
        """The stored answer under ``key`` if it has not expired."""
        ...

    async def put(self, key: str, reply: StoredReply, ttl_s: float) -> None:
        """Keep ``reply`` for ``ttl_s`` seconds; nothing happens when ``ttl_s`` is 0 or less."""
        ...


_Plain = tuple[int, bytes, str, tuple[tuple[str, str], ...]]


class MemoryCache:
    """An in-process LRU cache with a TTL per entry, bounded by entries and by bytes.

    A reply larger than ``max_reply_bytes`` is not kept (it would evict many small ones).
    """

    __slots__ = (
        "_bytes",
        "_entries",
        "_max_bytes",
        "_max_entries",
        "_max_reply_bytes",
        "_monotonic",
    )

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        max_reply_bytes: int = 256 * 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # Plain tuples, not StoredReply (a NamedTuple): the garbage collector untracks them.
        self._entries: OrderedDict[str, tuple[float, _Plain, int]] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._max_reply_bytes = min(max_reply_bytes, max_bytes)
        self._monotonic = monotonic

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    async def get(self, key: str) -> StoredReply | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return StoredReply(*entry[1])

    async def put(self, key: str, reply: StoredReply, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        size = reply.size + len(key) + _ENTRY_OVERHEAD
        if size > self._max_reply_bytes:
            return
        if key in self._entries:
            self._drop(key)
        plain: _Plain = (reply.status, reply.body, reply.content_type, reply.headers)
        self._entries[key] = (self._monotonic() + ttl_s, plain, size)
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped

    def _drop(self, key: str) -> None:
        _, _, size = self._entries.pop(key)
        self._bytes -= size
