"""The exchange's shared state in Redis, for when several workers answer inquiries.

Same contracts as the in-process versions in :mod:`panjereh.exchange.limits`,
:mod:`~panjereh.exchange.idempotency` and :mod:`~panjereh.exchange.cache`; every check is one
round trip (a Lua script run by EVALSHA, so it is atomic across workers), every key carries
the configured prefix and a TTL:

- ``{prefix}rl:{<grant>}``: the GCRA theoretical arrival time in µs of Redis server time
  (so workers' clocks do not matter), expiring when the bucket is full again;
- ``{prefix}q:{<grant>}:<yyyymmdd>``: the count of admitted inquiries on that Tehran day,
  expiring an hour after the day ends (the day and the TTL come from the worker's wall
  clock, the TTL as a duration, so a worker whose clock is off by seconds still agrees);
- ``{prefix}idem:<consumer>:<request id>``: ``P|digest|token`` while the first inquiry runs,
  then ``D|digest|<reply>`` for ``ttl_s``;
- ``{prefix}idem-start``: the second (Unix, by the clock of the worker that set it) since
  which the store remembers every request id: set when it is missing, by the same
  script that claims an id, so it is as old as the store's data and disappears with it when
  Redis restarts empty or is flushed; no TTL.  A signed request created before it is refused
  (:attr:`IdempotencyRefusal.STALE`); workers sharing Redis share it, so a worker that starts
  later takes the fresh signatures its elder took;
- ``{prefix}cache:<key>``: an encoded :class:`StoredReply` for the service's TTL.

The rate and quota keys of one grant share a hash tag, so the script also works on a cluster.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from panjereh.domain.clock import Clock, SystemClock
from panjereh.exchange.cache import StoredReply
from panjereh.exchange.idempotency import Claim, IdempotencyRefusal, IdempotencyUnavailable
from panjereh.exchange.limits import (
    ADMITTED,
    NO_RATE,
    Admission,
    LimiterUnavailable,
    Refusal,
    TehranDay,
)

__all__ = ["RedisIdempotencyStore", "RedisLimiter", "RedisResponseCache", "connect"]

DEFAULT_PREFIX: Final = "pnj:"

# KEYS: rate key, quota key.  ARGV: interval µs (0: no rate limit), tolerance µs,
# quota (-1: none), quota TTL (s).  Returns {0} admitted, {1, wait µs}, {2}.
_ADMIT = """
local interval = tonumber(ARGV[1])
local quota = tonumber(ARGV[3])
local used = 0
if quota >= 0 then
  used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= quota then return {2, 0} end
end
if interval > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat < now then tat = now end
  local wait = tat - now - tonumber(ARGV[2])
  if wait > 0 then return {1, wait} end
  tat = tat + interval
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
end
if quota >= 0 then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return {0, 0}
"""

# KEYS: the key, the store's start.  ARGV: pending marker, pending TTL ms, the second now (the
# start of a store starting now), the signature's created (-1: not signed).  Returns nil
# when claimed, 'S' when the signature is older than the store's start, else the value.
_BEGIN = """
local since = tonumber(redis.call('GET', KEYS[2]))
if not since then
  since = tonumber(ARGV[3])
  redis.call('SET', KEYS[2], ARGV[3])
end
if tonumber(ARGV[4]) >= 0 and tonumber(ARGV[4]) < since then return 'S' end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])
"""

# KEYS: the key.  ARGV: our pending marker, new value ('' deletes), TTL ms.
_FINISH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""


def connect(url: str, *, timeout_s: float = 0.5) -> Redis:
    """A client for ``url`` (redis://host:port/db); connections are opened on first use.

    The timeout is short because every inquiry waits on these calls: a stalled Redis should
    cost an inquiry half a second (then fail open or answer 503), not a provider's timeout.
    """
    client: Redis = Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=max(timeout_s, 1.0),
        health_check_interval=30,
    )
    return client


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisLimiter:
    """GCRA and daily quota in one script call per inquiry.

    ``fail_open``: when Redis cannot be reached, admit (the default: limits protect providers,
    losing them briefly is better than refusing every inquiry) or raise
    :class:`LimiterUnavailable`.
    """

    def __init__(
        self, client: Redis, *, clock: Clock, prefix: str = DEFAULT_PREFIX, fail_open: bool = True
    ) -> None:
        self._script = client.register_script(_ADMIT)
        self._day = TehranDay(clock)
        self._prefix = prefix
        self._fail_open = fail_open

    async def admit(
        self,
        key: str,
        *,
        per_minute: int | None,
        daily_quota: int | None,
        burst: int | None = None,
    ) -> Admission:
        if per_minute is None and daily_quota is None:
            return ADMITTED
        if per_minute is not None and per_minute <= 0:
            return NO_RATE
        interval = 60_000_000 // per_minute if per_minute else 0
        tolerance = ((burst or per_minute or 1) - 1) * interval
        wall = self._day.now()
        keys = (f"{self._prefix}rl:{{{key}}}", f"{self._prefix}q:{{{key}}}:{self._day.day}")
        quota = -1 if daily_quota is None else daily_quota
        args = (interval, tolerance, quota, math.ceil(self._day.seconds_left(wall)) + 3600)
        try:
            code, wait_us = await self._script(keys=keys, args=args)
        except RedisError as exc:
            if self._fail_open:
                return ADMITTED
            raise LimiterUnavailable("The shared rate limiter is unavailable.") from exc
        if code == 0:
            return ADMITTED
        if code == 1:
            return Admission(Refusal.RATE_LIMITED, int(wait_us) / 1_000_000)
        return Admission(Refusal.QUOTA_EXHAUSTED, self._day.seconds_left(wall))


class RedisIdempotencyStore:
    """Claims by SET NX of a pending marker; waiters poll every ``poll_s`` until ``wait_s``.

    ``clock`` is the wall clock signatures are judged by (for the store's start marker).
    Redis must keep what it is given: ``maxmemory-policy noeviction`` (an evicted id would let
    its signed request be answered twice; docs/exchange-protocol.md)."""

    def __init__(
        self,
        client: Redis,
        *,
        clock: Clock | None = None,
        prefix: str = DEFAULT_PREFIX,
        ttl_s: float = 600.0,
        pending_ttl_s: float = 120.0,
        wait_s: float = 30.0,
        poll_s: float = 0.02,
        max_reply_bytes: int = 1024 * 1024,
    ) -> None:
        self._begin = client.register_script(_BEGIN)
        self._finish = client.register_script(_FINISH)
        self._prefix = prefix
        self._start_key = f"{prefix}idem-start"
        self._clock = clock or SystemClock()
        self._ttl_ms = _ms(ttl_s)
        self._pending_ms = _ms(pending_ttl_s)
        self._wait_s = wait_s
        self._poll_s = poll_s
        self._max_reply_bytes = max_reply_bytes

    def _key(self, consumer: str, request_id: str) -> str:
        return f"{self._prefix}idem:{consumer}:{request_id}"

    async def begin(
        self, consumer: str, request_id: str, digest: str, *, signed_at: int | None = None
    ) -> Claim | StoredReply | IdempotencyRefusal:
        key = self._key(consumer, request_id)
        claim = Claim(consumer, request_id, digest, secrets.token_hex(8))
        marker = _pending(claim)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        signed = -1 if signed_at is None else signed_at
        while True:
            since = math.floor(self._clock.now().timestamp())
            try:
                value: bytes | None = await self._begin(
                    keys=(key, self._start_key), args=(marker, self._pending_ms, since, signed)
                )
            except RedisError as exc:
                raise IdempotencyUnavailable("The idempotency store is unavailable.") from exc
            if value is None:
                return claim
            if value == b"S":
                return IdempotencyRefusal.STALE
            state, stored_digest, rest = value.split(b"|", 2)
            if stored_digest.decode() != digest:
                return IdempotencyRefusal.CONFLICT
            if state == b"D":
                return StoredReply.decode(rest)
            if loop.time() + self._poll_s > deadline:
                return IdempotencyRefusal.IN_PROGRESS
            await asyncio.sleep(self._poll_s)

    async def complete(self, claim: Claim, reply: StoredReply) -> None:
        encoded = reply.encode()
        if len(encoded) > self._max_reply_bytes:
            await self.release(claim)
            return
        value = b"D|" + claim.digest.encode() + b"|" + encoded
        await self._finish_claim(claim, value)

    async def release(self, claim: Claim) -> None:
        await self._finish_claim(claim, b"")

    async def _finish_claim(self, claim: Claim, value: bytes) -> None:
        key = self._key(claim.consumer, claim.request_id)
        try:
            await self._finish(keys=(key,), args=(_pending(claim), value, self._ttl_ms))
        except RedisError as exc:
            raise IdempotencyUnavailable("The idempotency store is unavailable.") from exc


def _pending(claim: Claim) -> bytes:
    return f"P|{claim.digest}|{claim.token}".encode()


class RedisResponseCache:
    """GET and SET PX; Redis errors count as a miss (the provider is asked instead)."""

    def __init__(
        self, client: Redis, *, prefix: str = DEFAULT_PREFIX, max_reply_bytes: int = 256 * 1024
    ) -> None:
        self._client = client
        self._prefix = f"{prefix}cache:"
        self._max_reply_bytes = max_reply_bytes

    async def get(self, key: str) -> StoredReply | None:
        try:
            value = await self._client.get(self._prefix + key)
        except RedisError:
            return None
        return StoredReply.decode(value) if isinstance(value, bytes) else None

    async def put(self, key: str, reply: StoredReply, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        encoded = reply.encode()
        if len(encoded) > self._max_reply_bytes:
            return
        try:
            await self._client.set(self._prefix + key, encoded, px=_ms(ttl_s))
        except RedisError:
            return
