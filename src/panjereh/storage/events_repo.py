"""Registry events: written in the transaction of the change they describe."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.storage.tables import registry_events


class ConnectionAuditSink:
    """An `AuditSink` bound to one open transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self.emitted = 0

    async def emit(self, event: AuditEvent) -> None:
        await self._conn.execute(
            insert(registry_events).values(
                at=event.at,
                actor=event.actor,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                reason=event.reason,
                before=dict(event.before) if event.before is not None else None,
                after=dict(event.after) if event.after is not None else None,
                outcome=event.outcome.value,
            )
        )
        self.emitted += 1


async def events_for(conn: AsyncConnection, object_type: str, object_id: str) -> list[AuditEvent]:
    """An object's history, oldest first."""
    rows = (
        await conn.execute(
            select(registry_events)
            .where(
                registry_events.c.object_type == object_type,
                registry_events.c.object_id == object_id,
            )
            .order_by(registry_events.c.id)
        )
    ).mappings()
    return [
        AuditEvent(
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            reason=row["reason"],
            before=row["before"],
            after=row["after"],
            outcome=EventOutcome(row["outcome"]),
        )
        for row in rows
    ]
