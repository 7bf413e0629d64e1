"""The sign-in throttle in the database (`sign_in_throttle`), for when no Redis is configured.

Every change is one transaction that writes before it reads (an upsert first), so SQLite takes
its write lock at once and PostgreSQL locks the key's row: two workers counting failures of
the same key never lose one.  The audit events of a change are written in its transaction.
An attempt on keys that are not locked costs one indexed read and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.domain.events import AuditEvent
from panjereh.domain.throttle import (
    DEFAULT_POLICY,
    KeyKind,
    KeyState,
    ThrottleKey,
    ThrottlePolicy,
    Verdict,
    failure_events,
    key_id,
    lift_event,
    refusal_events,
)
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.tables import sign_in_throttle

T = sign_in_throttle
MAX_LABEL = 200


async def emit_all(conn: AsyncConnection, events: Sequence[AuditEvent]) -> None:
    sink = ConnectionAuditSink(conn)
    for event in events:
        await sink.emit(event)


def state_of(row: RowMapping) -> KeyState:
    return KeyState(
        id=str(row["key_id"]),
        kind=KeyKind(str(row["kind"])),
        label=str(row["label"]),
        failures=int(row["failures"]),
        locked_until=row["locked_until"],
        refusals=int(row["refusals"]),
    )


class SqlThrottle:
    """`panjereh.domain.throttle.Throttle` on `sign_in_throttle`."""

    def __init__(
        self, engine: AsyncEngine, *, secret: bytes, policy: ThrottlePolicy = DEFAULT_POLICY
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.secret = secret

    def ids(self, keys: Sequence[ThrottleKey]) -> dict[str, ThrottleKey]:
        return {key_id(self.secret, key): key for key in keys}

    async def check(self, keys: Sequence[ThrottleKey], now: datetime, reason: str) -> Verdict:
        ids = list(self.ids(keys))
        locked = (T.c.key_id.in_(ids)) & (T.c.locked_until > now)
        async with self.engine.connect() as conn:
            if await conn.scalar(select(func.count()).where(locked)) == 0:
                return Verdict(now)
        async with self.engine.begin() as conn:
            await conn.execute(update(T).where(locked).values(refusals=T.c.refusals + 1))
            rows = (await conn.execute(select(T).where(locked))).mappings().all()
            states = tuple(state_of(row) for row in rows)
            await emit_all(conn, refusal_events(states, now, reason))
        return Verdict(now, states)

    async def fail(self, keys: Sequence[ThrottleKey], now: datetime, reason: str) -> Verdict:
        forget_before = now - self.policy.forget_after
        async with self.engine.begin() as conn:
            states = [
                await self._count(conn, key_, key, now) for key_, key in self.ids(keys).items()
            ]
            await conn.execute(delete(T).where(T.c.last_failure_at < forget_before))
            await emit_all(conn, failure_events(states, now, reason))
        return Verdict(now, tuple(states))

    async def _count(
        self, conn: AsyncConnection, id_: str, key: ThrottleKey, now: datetime
    ) -> KeyState:
        """One more failure of ``key``: the upsert counts it, then the lock is set from it."""
        forget_before = now - self.policy.forget_after
        label = key.label[:MAX_LABEL]
        values = {
            "key_id": id_,
            "kind": key.kind.value,
            "label": label,
            "failures": 1,
            "last_failure_at": now,
            "locked_until": None,
            "refusals": 0,
        }
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(T).values(values)
        again = {
            "failures": case((T.c.last_failure_at < forget_before, 1), else_=T.c.failures + 1),
            "last_failure_at": statement.excluded.last_failure_at,
            "label": statement.excluded.label,
            "refusals": 0,
        }
        await conn.execute(statement.on_conflict_do_update(index_elements=[T.c.key_id], set_=again))
        failures = int(await conn.scalar(select(T.c.failures).where(T.c.key_id == id_)) or 0)
        delay = self.policy.delay_after(failures)
        until = now + delay if delay else None
        await conn.execute(update(T).where(T.c.key_id == id_).values(locked_until=until))
        return KeyState(id_, key.kind, label, failures, until)

    async def succeed(self, keys: Sequence[ThrottleKey]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(T).where(T.c.key_id.in_(list(self.ids(keys)))))

    async def lift(
        self, key: str | ThrottleKey, now: datetime, actor: str, reason: str
    ) -> KeyState | None:
        id_ = key if isinstance(key, str) else key_id(self.secret, key)
        async with self.engine.begin() as conn:
            return await self.lift_in(conn, id_, now, actor, reason)

    async def lift_in(
        self, conn: AsyncConnection, id_: str, now: datetime, actor: str, reason: str
    ) -> KeyState | None:
        """Forget ``id_`` inside an open transaction, with its event; None if unknown."""
        deleted = await conn.execute(delete(T).where(T.c.key_id == id_).returning(*T.c))
        row = deleted.mappings().first()
        if row is None:
            return None
        state = state_of(row)
        await emit_all(conn, [lift_event(state, now, actor, reason)])
        return state

    async def lockouts(self, now: datetime, limit: int = 100) -> list[KeyState]:
        query = (
            select(T)
            .where(T.c.failures > self.policy.free_failures)
            .where(T.c.last_failure_at >= now - self.policy.forget_after)
            .order_by(T.c.last_failure_at.desc(), T.c.key_id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [state_of(row) for row in (await conn.execute(query)).mappings()]
