"""The citizen view's storage: citizens' sessions, the page query over the audit log, the
confidential grants, and the withholdings (docs/audit-log.md, "Citizen view").

Reads only from `audit_records` (the audit writer owns it). A page is one indexed query,
``subject_hash = ? ORDER BY created_at DESC, exchange_id DESC LIMIT n+1`` — per subject hash
when a citizen's records are under several (key rotation), merged in the same statement.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    insert,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.audit.citizen import ConfidentialGrant, Cursor, Period, SubjectRecord, Withholding
from panjereh.storage.tables import (
    agencies,
    audit_records,
    audit_withholdings,
    citizen_sessions,
    grants,
    purposes,
    systems,
)

_RECORD_COLUMNS = (
    audit_records.c.exchange_id,
    audit_records.c.created_at,
    audit_records.c.consumer,
    audit_records.c.service_id,
    audit_records.c.purpose,
    audit_records.c.outcome,
    audit_records.c.subject_hash,
)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


# Sessions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CitizenSession:
    subject_hashes: tuple[str, ...]
    csrf: str
    expires_at: datetime

    @property
    def actor(self) -> str:
        """How the citizen appears in control-plane events: a prefix of the keyed hash."""
        return f"citizen:{self.subject_hashes[0][:16]}"


async def open_citizen_session(
    conn: AsyncConnection,
    subject_hashes: Sequence[str],
    *,
    method: str,
    lifetime: timedelta,
    now: datetime,
) -> tuple[str, CitizenSession]:
    """A new session (its id for the cookie); expired sessions are swept on the way."""
    if not subject_hashes:
        raise ValueError("a citizen session needs the citizen's subject hashes")
    await conn.execute(delete(citizen_sessions).where(citizen_sessions.c.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session = CitizenSession(tuple(subject_hashes), secrets.token_urlsafe(32), now + lifetime)
    await conn.execute(
        insert(citizen_sessions).values(
            id_hash=_sha256(session_id),
            subject_hashes=list(session.subject_hashes),
            csrf_token=session.csrf,
            method=method,
            created_at=now,
            expires_at=session.expires_at,
        )
    )
    return session_id, session


async def citizen_session(
    conn: AsyncConnection, session_id: str, now: datetime
) -> CitizenSession | None:
    row = (
        await conn.execute(
            select(
                citizen_sessions.c.subject_hashes,
                citizen_sessions.c.csrf_token,
                citizen_sessions.c.expires_at,
            ).where(citizen_sessions.c.id_hash == _sha256(session_id))
        )
    ).first()
    if row is None or row.expires_at <= now:
        return None
    return CitizenSession(tuple(str(h) for h in row.subject_hashes), row.csrf_token, row.expires_at)


async def close_citizen_session(conn: AsyncConnection, session_id: str) -> None:
    await conn.execute(
        delete(citizen_sessions).where(citizen_sessions.c.id_hash == _sha256(session_id))
    )


# The page query -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordFilter:
    period: Period = field(default_factory=Period)
    consumer_agency: str | None = None  # an agency code: its systems' inquiries only
    after: Cursor | None = None  # the last record of the previous page


def _conditions(subject_hash: str, where: RecordFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = [audit_records.c.subject_hash == subject_hash]
    if where.period.start is not None:
        found.append(audit_records.c.created_at >= where.period.start)
    if where.period.end is not None:
        found.append(audit_records.c.created_at < where.period.end)
    if where.consumer_agency is not None:
        # Agency codes are [a-z0-9-] (registry.model.parse_code): no LIKE wildcards in them.
        found.append(audit_records.c.consumer.startswith(f"{where.consumer_agency}/"))
    if where.after is not None:
        found.append(
            or_(
                audit_records.c.created_at < where.after.created_at,
                and_(
                    audit_records.c.created_at == where.after.created_at,
                    audit_records.c.exchange_id < where.after.exchange_id,
                ),
            )
        )
    return found


def _one_subject(subject_hash: str, where: RecordFilter, limit: int) -> Select[tuple[object]]:
    return (
        select(*_RECORD_COLUMNS)
        .where(*_conditions(subject_hash, where))
        .order_by(audit_records.c.created_at.desc(), audit_records.c.exchange_id.desc())
        .limit(limit)
    )


async def subject_records(
    conn: AsyncConnection, subject_hashes: Sequence[str], where: RecordFilter, limit: int
) -> list[SubjectRecord]:
    """Up to ``limit`` records about the subject, newest first, after ``where.after``."""
    if len(subject_hashes) == 1:
        query = _one_subject(subject_hashes[0], where, limit)
    else:  # each branch walks its own index range; the merge sorts at most n rows per hash
        branches = union_all(
            *(_one_subject(h, where, limit).subquery().select() for h in subject_hashes)
        ).subquery()
        query = (
            select(*(branches.c[c.name] for c in _RECORD_COLUMNS))
            .order_by(branches.c.created_at.desc(), branches.c.exchange_id.desc())
            .limit(limit)
        )
    rows = (await conn.execute(query)).all()
    return [
        SubjectRecord(
            r.exchange_id,
            r.created_at,
            r.consumer,
            r.service_id,
            r.purpose,
            r.outcome,
            r.subject_hash,
        )
        for r in rows
    ]


async def subject_record(
    conn: AsyncConnection, exchange_id: str, subject_hashes: Sequence[str]
) -> SubjectRecord | None:
    """The record ``exchange_id`` if it is about this subject (None otherwise)."""
    row = (
        await conn.execute(
            select(*_RECORD_COLUMNS).where(
                audit_records.c.exchange_id == exchange_id,
                audit_records.c.subject_hash.in_(list(subject_hashes)),
            )
        )
    ).first()
    if row is None:
        return None
    return SubjectRecord(
        row.exchange_id,
        row.created_at,
        row.consumer,
        row.service_id,
        row.purpose,
        row.outcome,
        row.subject_hash,
    )


# Reference data (cached by the caller per registry version) -----------------------------------


async def confidential_grants(conn: AsyncConnection) -> list[ConfidentialGrant]:
    """Every grant marked confidential, whatever its status."""
    consumer = agencies.c.code + "/" + systems.c.code
    rows = (
        await conn.execute(
            select(grants.c.id, consumer.label("consumer"), grants.c.service_id)
            .add_columns(grants.c.disclosure_date)
            .select_from(
                grants.join(systems, systems.c.id == grants.c.consumer_system_id).join(
                    agencies, agencies.c.id == systems.c.agency_id
                )
            )
            .where(grants.c.confidential.is_(True))
        )
    ).all()
    return [ConfidentialGrant(r.id, r.consumer, r.service_id, r.disclosure_date) for r in rows]


async def purpose_names(conn: AsyncConnection) -> dict[str, tuple[str, str]]:
    """Purpose code -> (Persian name, English name)."""
    rows = await conn.execute(select(purposes.c.code, purposes.c.name_fa, purposes.c.name_en))
    return {r.code: (r.name_fa, r.name_en) for r in rows}


# Withholdings ---------------------------------------------------------------------------------


async def record_withholdings(
    conn: AsyncConnection, withheld: Sequence[Withholding], now: datetime
) -> None:
    """One row per withheld record, all in one multi-row INSERT."""
    if not withheld:
        return
    await conn.execute(
        insert(audit_withholdings).values(
            [
                {
                    "withheld_at": now,
                    "subject_hash": w.subject_hash,
                    "exchange_id": w.exchange_id,
                    "grant_id": w.grant_id,
                    "disclosure_date": w.disclosure_date,
                    "consumer": w.consumer,
                    "service_id": w.service_id,
                }
                for w in withheld
            ]
        )
    )


@dataclass(frozen=True, slots=True)
class WithholdingRow:
    id: int
    withheld_at: datetime
    subject_hash: str
    exchange_id: str
    grant_id: int
    disclosure_date: date | None
    consumer: str | None
    service_id: str | None


@dataclass(frozen=True, slots=True)
class WithholdingFilter:
    period: Period = field(default_factory=Period)
    consumer_agency: str | None = None
    exchange_id: str | None = None
    grant_id: int | None = None
    before_id: int | None = None  # keyset: rows with a smaller id (older)


async def withholdings(
    conn: AsyncConnection, where: WithholdingFilter, limit: int
) -> list[WithholdingRow]:
    """Withholdings newest first."""
    t = audit_withholdings.c
    conditions: list[ColumnElement[bool]] = []
    if where.period.start is not None:
        conditions.append(t.withheld_at >= where.period.start)
    if where.period.end is not None:
        conditions.append(t.withheld_at < where.period.end)
    if where.consumer_agency is not None:
        conditions.append(t.consumer.startswith(f"{where.consumer_agency}/"))
    if where.exchange_id is not None:
        conditions.append(t.exchange_id == where.exchange_id)
    if where.grant_id is not None:
        conditions.append(t.grant_id == where.grant_id)
    if where.before_id is not None:
        conditions.append(t.id < where.before_id)
    rows = await conn.execute(
        select(audit_withholdings).where(*conditions).order_by(t.id.desc()).limit(limit)
    )
    return [
        WithholdingRow(
            r.id,
            r.withheld_at,
            r.subject_hash,
            r.exchange_id,
            r.grant_id,
            r.disclosure_date,
            r.consumer,
            r.service_id,
        )
        for r in rows
    ]
