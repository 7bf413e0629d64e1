"""The exchange's shared state — limits, idempotency, cache — in process or in Redis.

``build_state(None, ...)`` gives the in-process set for the embedded single worker;
``build_state("redis://...", ...)`` the Redis set that several workers share.  Either way the
composition root hands ``state.limiter``, ``state.idempotency`` and ``state.cache`` to the
exchange, asks ``state.ping()`` in /readyz and awaits ``state.close()`` at shutdown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from panjereh.domain.clock import Clock
from panjereh.exchange.cache import MemoryCache, ResponseCache
from panjereh.exchange.idempotency import IdempotencyStore, MemoryIdempotencyStore
from panjereh.exchange.limits import Limiter, MemoryLimiter
from panjereh.storage.redis_state import (
    DEFAULT_PREFIX,
    RedisIdempotencyStore,
    RedisLimiter,
    RedisResponseCache,
    connect,
)

__all__ = ["ExchangeState", "build_state"]


@dataclass(frozen=True, slots=True)
class ExchangeState:
    limiter: Limiter
    idempotency: IdempotencyStore
    cache: ResponseCache
    redis: Redis | None = None

    @property
    def backend(self) -> str:
        return "memory" if self.redis is None else "redis"

    async def ping(self, timeout_s: float = 1.0) -> bool:
        """True when the state can be used (always, in process; Redis answers PING)."""
        if self.redis is None:
            return True
        try:
            async with asyncio.timeout(timeout_s):
                return bool(await self.redis.ping())
        except (RedisError, TimeoutError):
            return False

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def build_state(
    redis_url: str | None,
    *,
    clock: Clock,
    monotonic: Callable[[], float] = time.monotonic,
    prefix: str = DEFAULT_PREFIX,
    idempotency_ttl_s: float = 600.0,
    idempotency_wait_s: float = 30.0,
) -> ExchangeState:
    """The in-process set when ``redis_url`` is None or empty, otherwise the Redis set."""
    if not redis_url:
        return ExchangeState(
            limiter=MemoryLimiter(clock=clock, monotonic=monotonic),
            idempotency=MemoryIdempotencyStore(
                ttl_s=idempotency_ttl_s,
                wait_s=idempotency_wait_s,
                monotonic=monotonic,
                wall=lambda: clock.now().timestamp(),
            ),
            cache=MemoryCache(monotonic=monotonic),
        )
    client = connect(redis_url)
    return ExchangeState(
        limiter=RedisLimiter(client, clock=clock, prefix=prefix),
        idempotency=RedisIdempotencyStore(
            client, clock=clock, prefix=prefix, ttl_s=idempotency_ttl_s, wait_s=idempotency_wait_s
        ),
        cache=RedisResponseCache(client, prefix=prefix),
        redis=client,
    )
