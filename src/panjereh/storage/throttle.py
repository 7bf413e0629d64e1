"""The platform's one sign-in throttle (`panjereh.domain.throttle`), in the database or Redis.

Chosen like the exchange's shared state (`panjereh.storage.state`): Redis when the process has
a Redis client (``PANJEREH_REDIS_URL``), the database otherwise; either way every worker sees
the same counts.  Keys are stored as an HMAC under a secret derived from the installation's
pepper, so the table and Redis hold no account name, national code or address in clear.
"""

from __future__ import annotations

import hashlib
import hmac

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.domain.throttle import DEFAULT_POLICY, Throttle, ThrottlePolicy
from panjereh.storage.redis_state import DEFAULT_PREFIX
from panjereh.storage.redis_throttle import RedisThrottle
from panjereh.storage.throttle_repo import SqlThrottle

__all__ = ["build_throttle", "throttle_secret"]


def throttle_secret(pepper: bytes) -> bytes:
    return hmac.new(pepper, b"panjereh sign-in throttle keys", hashlib.sha256).digest()


def build_throttle(
    engine: AsyncEngine,
    redis: Redis | None,
    *,
    pepper: bytes,
    policy: ThrottlePolicy = DEFAULT_POLICY,
    prefix: str = DEFAULT_PREFIX,
) -> Throttle:
    """The database throttle, or the Redis one (falling back to the database) with ``redis``."""
    database = SqlThrottle(engine, secret=throttle_secret(pepper), policy=policy)
    if redis is None:
        return database
    return RedisThrottle(redis, database, prefix=prefix)
