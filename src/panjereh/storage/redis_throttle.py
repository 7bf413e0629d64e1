"""The sign-in throttle in Redis, for when several workers share one (``PANJEREH_REDIS_URL``).

Each key is a hash ``{prefix}{throttle}:<key id>`` (failures, last failure and lock end in µs
of the workers' clock, refusals, kind, label) that expires a day after its last failure; keys
that have been locked are also in the sorted set ``{prefix}{throttle}:index`` (by last failure),
so the operator area lists them without a SCAN.  Every change is one Lua script, so it is
atomic across workers; the ``{throttle}`` hash tag keeps every key in one cluster slot.

Audit events still go to the database's events stream, in a transaction right after the
change.  When Redis cannot be reached the database throttle answers instead (and logs it):
a sign-in is never let through unthrottled, nor refused for want of Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.domain.events import AuditEvent
from panjereh.domain.throttle import (
    KeyKind,
    KeyState,
    ThrottleKey,
    Verdict,
    failure_events,
    key_id,
    lift_event,
    refusal_events,
)
from panjereh.storage.throttle_repo import MAX_LABEL, SqlThrottle, emit_all

log = logging.getLogger(__name__)
R = TypeVar("R")

# KEYS: the key, the index.  ARGV: now µs, forget µs, kind, label, free failures,
# first delay µs, longest lock µs.  Returns {failures, locked until µs (0: not locked)}.
_FAIL = """
local now = tonumber(ARGV[1])
local forget = tonumber(ARGV[2])
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
if last < now - forget then failures = 0 end
failures = failures + 1
local extra = failures - tonumber(ARGV[5]) - 1
local locked = 0
if extra >= 0 then
  locked = now + math.min(tonumber(ARGV[6]) * math.pow(2, math.min(extra, 40)), tonumber(ARGV[7]))
  redis.call('ZADD', KEYS[2], now, KEYS[1])
end
redis.call('HSET', KEYS[1], 'failures', failures, 'last', string.format('%d', now),
  'until', string.format('%d', locked), 'refusals', 0, 'kind', ARGV[3], 'label', ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(forget / 1000))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - forget)
return {failures, string.format('%d', locked)}
"""

# KEYS: the key.  ARGV: now µs.  Returns {} when not locked, else {failures, until, refusals,
# kind, label} with the refusal counted.
_CHECK = """
local locked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if locked <= tonumber(ARGV[1]) then return {} end
local refusals = redis.call('HINCRBY', KEYS[1], 'refusals', 1)
local f = redis.call('HMGET', KEYS[1], 'failures', 'kind', 'label')
return {f[1], string.format('%d', locked), refusals, f[2], f[3]}
"""

# KEYS: the key, the index.  Returns {} or {failures, until, refusals, kind, label}; deletes.
_LIFT = """
local f = redis.call('HMGET', KEYS[1], 'failures', 'until', 'refusals', 'kind', 'label')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
if not f[1] then return {} end
return f
"""


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _moment(us: int) -> datetime | None:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC) if us > 0 else None


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class RedisThrottle:
    """`panjereh.domain.throttle.Throttle` in Redis, the database's as the fallback."""

    def __init__(self, client: Redis, fallback: SqlThrottle, *, prefix: str = "pnj:") -> None:
        self._client = client
        self._fallback = fallback
        self._engine: AsyncEngine = fallback.engine
        self.policy = fallback.policy
        self._secret = fallback.secret
        self._base = f"{prefix}{{throttle}}:"
        self._index = f"{self._base}index"
        self._fail = client.register_script(_FAIL)
        self._check = client.register_script(_CHECK)
        self._lift = client.register_script(_LIFT)

    def _name(self, key: ThrottleKey | str) -> str:
        return self._base + (key if isinstance(key, str) else key_id(self._secret, key))

    async def _emit(self, events: Sequence[AuditEvent]) -> None:
        if events:
            async with self._engine.begin() as conn:
                await emit_all(conn, events)

    async def _or_database(
        self, work: Callable[[], Awaitable[R]], fallback: Callable[[], Awaitable[R]]
    ) -> R:
        try:
            return await work()
        except RedisError as exc:
            log.warning("sign-in throttle: Redis unavailable (%s); using the database", exc)
            return await fallback()

    async def check(self, keys: Sequence[ThrottleKey], now: datetime, reason: str) -> Verdict:
        async def work() -> Verdict:
            states = []
            for key in keys:
                found = await self._check(keys=(self._name(key),), args=(_us(now),))
                if found:
                    failures, until, refusals, kind, label = found
                    states.append(self._state(key, failures, until, refusals, kind, label))
            await self._emit(refusal_events(states, now, reason))
            return Verdict(now, tuple(states))

        return await self._or_database(work, lambda: self._fallback.check(keys, now, reason))

    def _state(self, key: ThrottleKey | str, *fields: Any) -> KeyState:
        failures, until, refusals, kind, label = fields
        return KeyState(
            id=key if isinstance(key, str) else key_id(self._secret, key),
            kind=KeyKind(_text(kind)),
            label=_text(label),
            failures=int(failures),
            locked_until=_moment(int(until)),
            refusals=int(refusals),
        )

    async def fail(self, keys: Sequence[ThrottleKey], now: datetime, reason: str) -> Verdict:
        policy = self.policy

        async def work() -> Verdict:
            states = []
            for key in keys:
                label = key.label[:MAX_LABEL]
                args = (
                    _us(now),
                    int(policy.forget_after.total_seconds() * 1_000_000),
                    key.kind.value,
                    label,
                    policy.free_failures,
                    int(policy.first_delay.total_seconds() * 1_000_000),
                    int(policy.max_lock.total_seconds() * 1_000_000),
                )
                failures, until = await self._fail(keys=(self._name(key), self._index), args=args)
                states.append(self._state(key, failures, until, 0, key.kind.value, label))
            await self._emit(failure_events(states, now, reason))
            return Verdict(now, tuple(states))

        return await self._or_database(work, lambda: self._fallback.fail(keys, now, reason))

    async def succeed(self, keys: Sequence[ThrottleKey]) -> None:
        if not keys:
            return

        async def work() -> None:
            names = [self._name(key) for key in keys]
            await self._client.delete(*names)
            await self._client.zrem(self._index, *names)

        await self._or_database(work, lambda: self._fallback.succeed(keys))

    async def lift(
        self, key: str | ThrottleKey, now: datetime, actor: str, reason: str
    ) -> KeyState | None:
        """Forget ``key``: in Redis, and in the database too (it may hold counts made while
        Redis was unreachable); the event is written once, with the larger of the two."""
        id_ = key if isinstance(key, str) else key_id(self._secret, key)
        try:
            found = await self._lift(keys=(self._name(id_), self._index))
        except RedisError as exc:
            log.warning("sign-in throttle: Redis unavailable (%s); using the database", exc)
            found = []
        state = self._state(id_, *found) if found else None
        async with self._engine.begin() as conn:
            stored = await self._fallback.lift_in(conn, id_, now, actor, reason)
            if stored is None and state is not None:
                await emit_all(conn, [lift_event(state, now, actor, reason)])
        return state or stored

    async def lockouts(self, now: datetime, limit: int = 100) -> list[KeyState]:
        async def work() -> list[KeyState]:
            names = await self._client.zrevrange(self._index, 0, limit - 1)
            states = []
            for name in map(_text, names):
                fields = await self._client.hmget(
                    name, ["failures", "until", "refusals", "kind", "label"]
                )
                if fields[0] is not None:
                    states.append(self._state(name.removeprefix(self._base), *fields))
            return states

        return await self._or_database(work, lambda: self._fallback.lockouts(now, limit))
