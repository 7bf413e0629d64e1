"""Cases: records a citizen flagged as suspicious, for an operator to look into and close.

Opening and closing a case each emit a control-plane event (``audit-case.open``,
``audit-case.close``) in the same transaction as the change.  A citizen has at most one open
case per record (a partial unique index backs the check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.audit.citizen import CaseStatus, SubjectRecord
from panjereh.domain.events import AuditEvent
from panjereh.registry.access import Conflict, NotFound, Principal, require_operator
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.tables import audit_cases, audit_records

PAGE = 50


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    opened_at: datetime
    exchange_id: str
    subject_hash: str
    reason: str
    status: CaseStatus
    closed_at: datetime | None
    closed_by: str | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """The flagged record as an operator sees it (no national code: there is none stored)."""

    exchange_id: str
    created_at: datetime
    consumer: str | None
    service_id: str | None
    purpose: str | None
    outcome: str
    status_code: int
    error_type: str | None
    shard: str | None
    seq: int | None
    record_hash: str | None


def _case(row: object) -> Case:
    return Case(
        row.id,  # type: ignore[attr-defined]
        row.opened_at,  # type: ignore[attr-defined]
        row.exchange_id,  # type: ignore[attr-defined]
        row.subject_hash,  # type: ignore[attr-defined]
        row.reason,  # type: ignore[attr-defined]
        CaseStatus(row.status),  # type: ignore[attr-defined]
        row.closed_at,  # type: ignore[attr-defined]
        row.closed_by,  # type: ignore[attr-defined]
        row.resolution,  # type: ignore[attr-defined]
    )


async def open_case(
    conn: AsyncConnection, record: SubjectRecord, *, actor: str, reason: str, now: datetime
) -> Case:
    """Open a case on ``record`` (already checked to be about the citizen and visible)."""
    existing = await conn.scalar(
        select(audit_cases.c.id).where(
            audit_cases.c.exchange_id == record.exchange_id,
            audit_cases.c.subject_hash == record.subject_hash,
            audit_cases.c.status == CaseStatus.OPEN.value,
        )
    )
    if existing is not None:
        raise Conflict("this record is already reported; the case is open")
    values = {
        "opened_at": now,
        "exchange_id": record.exchange_id,
        "subject_hash": record.subject_hash,
        "reason": reason,
        "status": CaseStatus.OPEN.value,
    }
    try:
        case_id = await conn.scalar(
            insert(audit_cases).values(**values).returning(audit_cases.c.id)
        )
    except IntegrityError:  # a concurrent flag of the same record won; the caller's
        # transaction ends with this refusal
        raise Conflict("this record is already reported; the case is open") from None
    assert case_id is not None  # noqa: S101 - RETURNING of an insert
    await ConnectionAuditSink(conn).emit(
        AuditEvent(
            now,
            actor,
            "audit-case.open",
            "audit-case",
            str(case_id),
            reason,
            None,
            {"exchange_id": record.exchange_id, "status": CaseStatus.OPEN.value},
        )
    )
    found = await get_case(conn, int(case_id))
    assert found is not None  # noqa: S101 - just inserted
    return found


async def close_case(
    conn: AsyncConnection, by: Principal, case_id: int, *, resolution: str, now: datetime
) -> Case:
    require_operator(by)
    before = await get_case(conn, case_id)
    if before is None:
        raise NotFound("no such case")
    done = await conn.execute(
        update(audit_cases)
        .where(audit_cases.c.id == case_id, audit_cases.c.status == CaseStatus.OPEN.value)
        .values(
            status=CaseStatus.CLOSED.value, closed_at=now, closed_by=by.actor, resolution=resolution
        )
    )
    if done.rowcount != 1:
        raise Conflict("this case is closed already")
    await ConnectionAuditSink(conn).emit(
        AuditEvent(
            now,
            by.actor,
            "audit-case.close",
            "audit-case",
            str(case_id),
            resolution,
            {"status": CaseStatus.OPEN.value},
            {"status": CaseStatus.CLOSED.value, "exchange_id": before.exchange_id},
        )
    )
    after = await get_case(conn, case_id)
    assert after is not None  # noqa: S101 - updated above
    return after


async def get_case(conn: AsyncConnection, case_id: int) -> Case | None:
    row = (await conn.execute(select(audit_cases).where(audit_cases.c.id == case_id))).first()
    return _case(row) if row is not None else None


async def case_record(conn: AsyncConnection, exchange_id: str) -> CaseRecord | None:
    r = audit_records.c
    row = (
        await conn.execute(
            select(
                r.exchange_id,
                r.created_at,
                r.consumer,
                r.service_id,
                r.purpose,
                r.outcome,
                r.status_code,
                r.error_type,
                r.shard,
                r.seq,
                r.record_hash,
            ).where(r.exchange_id == exchange_id)
        )
    ).first()
    if row is None:
        return None
    return CaseRecord(*row)


@dataclass(frozen=True, slots=True)
class CasesPage:
    cases: list[Case]
    number: int
    pages: int
    total: int
    open: int


async def cases_page(conn: AsyncConnection, *, status: str, page: int) -> CasesPage:
    """Open cases first (oldest first: they have waited longest), then closed, newest first."""
    conditions = [audit_cases.c.status == status] if status else []
    counts = (
        await conn.execute(
            select(
                func.count(),
                func.count().filter(audit_cases.c.status == CaseStatus.OPEN.value),
            ).where(*conditions)
        )
    ).one()
    total, open_count = int(counts[0]), int(counts[1])
    pages = max(1, -(-total // PAGE))
    number = min(max(page, 1), pages)
    is_open = case((audit_cases.c.status == CaseStatus.OPEN.value, 0), else_=1)
    rows = await conn.execute(
        select(audit_cases)
        .where(*conditions)
        .order_by(
            is_open,
            case(
                (audit_cases.c.status == CaseStatus.OPEN.value, audit_cases.c.id),
                else_=-audit_cases.c.id,
            ),
        )
        .limit(PAGE)
        .offset((number - 1) * PAGE)
    )
    return CasesPage([_case(r) for r in rows], number, pages, total, open_count)
