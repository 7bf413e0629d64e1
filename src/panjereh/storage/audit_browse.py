"""Browsing the audit log and the control-plane events (the operator and auditor view,
docs/audit-log.md): one keyset-paginated query per page, newest first.

Records are ordered by ``(created_at, id)`` descending. Filtered by a service, a provider
agency or a subject, a page walks that index (``ix_audit_records_service_created``,
``ix_audit_records_subject_created``) backwards; all others walk ``ix_audit_records_created``
(migration 0011) backwards from the period's end. Either way a page stops after one page of
matches, whatever the size of the log. Events are ordered by ``id`` (the primary key).
Nothing here counts rows: a count over ten million records is the one thing a page must not
wait for.

The event columns are selected by name: the events table may grow columns (its own chain)
that this view does not show.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.domain.errors import InvalidValue
from panjereh.storage.tables import BIGINT_MAX, audit_records, registry_events

MAX_LIMIT = 500
MAX_HASHES = 8  # a subject key in use and the ones it rotated from
MAX_BRANCHES = 200  # a provider agency with more services is read with one IN list

Row = dict[str, Any]

_R = audit_records.c
_E = registry_events.c
EVENT_COLUMNS = (
    _E.id,
    _E.at,
    _E.actor,
    _E.action,
    _E.object_type,
    _E.object_id,
    _E.reason,
    _E.before,
    _E.after,
    _E.outcome,
)


def _bad_cursor() -> InvalidValue:
    return InvalidValue(
        "audit.cursor",
        message_en="This page link is not valid any more; start from the first page.",
        message_fa="این پیوند صفحه دیگر معتبر نیست؛ از صفحه نخست شروع کنید.",
        field="after",
    )


@dataclass(frozen=True, slots=True)
class RecordCursor:
    """Where a page of records ended: its last record's time and row id (opaque outside)."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        text = f"r1|{self.created_at.astimezone(UTC).isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, raw: str) -> RecordCursor:
        """The cursor `encode` made: a UTC time and a row id a ``BigInteger`` holds (any other
        offset or a larger number would overflow converting it for the query)."""
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
            tag, moment, row_id = text.split("|")
            created_at = datetime.fromisoformat(moment)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _bad_cursor() from None
        if tag != "r1" or created_at.utcoffset() != timedelta(0) or not _row_id(row_id):
            raise _bad_cursor()
        return cls(created_at, int(row_id))


def _row_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= BIGINT_MAX


def encode_event_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"e1|{event_id}".encode("ascii")).decode("ascii").rstrip("=")


def decode_event_cursor(raw: str) -> int:
    try:
        tag, _, number = (
            base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii").partition("|")
        )
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _bad_cursor() from None
    if tag != "e1" or not _row_id(number):
        raise _bad_cursor()
    return int(number)


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Which records a page shows. Empty strings and ``None`` mean "any".

    ``provider_services`` stands for a provider agency (its services, from the registry
    snapshot: the records name the service, not its agency). ``scope`` limits an agency's
    administrator to its own records: ``(agency code, that agency's service ids)``.
    """

    service_id: str = ""
    consumer: str = ""  # one system, "agency/system"
    consumer_agency: str = ""
    provider_services: tuple[str, ...] | None = None
    either_agency: tuple[str, tuple[str, ...]] | None = None  # consumer or provider
    outcome: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    subject_hashes: tuple[str, ...] = ()
    scope: tuple[str, tuple[str, ...]] | None = None

    def where(self, *, provider: bool = True) -> list[ColumnElement[bool]]:
        """The conditions (``provider=False``: all but the provider agency's services)."""
        by_provider = provider and self.provider_services is not None
        optional: list[ColumnElement[bool] | None] = [
            _R.service_id == self.service_id if self.service_id else None,
            _R.consumer == self.consumer if self.consumer else None,
            _consumed_by(self.consumer_agency) if self.consumer_agency else None,
            _provided_by(self.provider_services or ()) if by_provider else None,
            _either(self.either_agency),
            _either(self.scope),
            _R.outcome == self.outcome if self.outcome else None,
            _R.created_at >= self.since if self.since is not None else None,
            _R.created_at < self.until if self.until is not None else None,
            _R.subject_hash.in_(self.subject_hashes[:MAX_HASHES]) if self.subject_hashes else None,
        ]
        return [clause for clause in optional if clause is not None]


def _either(agency: tuple[str, tuple[str, ...]] | None) -> ColumnElement[bool] | None:
    """The records an agency consumed or provided (``(code, its service ids)``)."""
    if agency is None:
        return None
    return or_(_consumed_by(agency[0]), _provided_by(agency[1]))


def _consumed_by(agency: str) -> ColumnElement[bool]:
    escaped = agency.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _R.consumer.like(f"{escaped}/%", escape="\\")


def _provided_by(services: Sequence[str]) -> ColumnElement[bool]:
    return _R.service_id.in_(services) if services else false()


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    next: str | None  # the opaque cursor of the following page, None on the last one


def _after(statement: Select[Any], after: RecordCursor | None) -> Select[Any]:
    if after is None:
        return statement
    # `created_at <= t` bounds the index range; the rest breaks ties within one instant.
    return statement.where(
        _R.created_at <= after.created_at,
        or_(_R.created_at < after.created_at, _R.id < after.id),
    )


def _newest_first(statement: Select[Any], limit: int) -> Select[Any]:
    return statement.order_by(_R.created_at.desc(), _R.id.desc()).limit(limit + 1)


def _records_query(query: RecordQuery, after: RecordCursor | None, limit: int) -> Select[Any]:
    services = query.provider_services
    if services is not None and 1 < len(services) <= MAX_BRANCHES:
        return _per_service(query, services, after, limit)
    statement = select(audit_records).where(*query.where())
    return _newest_first(_after(statement, after), limit)


def _per_service(
    query: RecordQuery, services: Sequence[str], after: RecordCursor | None, limit: int
) -> Select[Any]:
    """A provider agency's records: each service's newest page from its index, merged.

    ``service_id IN (...)`` ordered by time cannot walk ``(service_id, created_at)`` in
    order, so the database would read every record of the agency and sort them; one branch
    per service reads at most a page each."""
    base = query.where(provider=False)
    branches = []
    for service_id in services:
        one = select(audit_records).where(*base, _R.service_id == service_id)
        branches.append(select(_newest_first(_after(one, after), limit).subquery()))
    merged = union_all(*branches).subquery()
    return select(merged).order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(limit + 1)


async def records_page(
    conn: AsyncConnection, query: RecordQuery, *, after: RecordCursor | None, limit: int
) -> Page:
    """One page of records, newest first (``limit`` is at most `MAX_LIMIT`)."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = [dict(r) for r in (await conn.execute(_records_query(query, after, limit))).mappings()]
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], RecordCursor(last["created_at"], int(last["id"])).encode())


async def record_row(conn: AsyncConnection, exchange_id: str) -> Row | None:
    """One record with its place in the chain, by exchange id (the unique index)."""
    found = (
        (await conn.execute(select(audit_records).where(_R.exchange_id == exchange_id)))
        .mappings()
        .first()
    )
    return dict(found) if found is not None else None


@dataclass(frozen=True, slots=True)
class EventQuery:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        for column, value in (
            (_E.actor, self.actor),
            (_E.action, self.action),
            (_E.object_type, self.object_type),
            (_E.object_id, self.object_id),
        ):
            if value:
                clauses.append(column == value)
        if self.since is not None:
            clauses.append(_E.at >= self.since)
        if self.until is not None:
            clauses.append(_E.at < self.until)
        return clauses


async def events_page(
    conn: AsyncConnection, query: EventQuery, *, after: int | None, limit: int
) -> Page:
    """One page of control-plane events, newest first."""
    limit = max(1, min(limit, MAX_LIMIT))
    statement = select(*EVENT_COLUMNS).where(*query.where())
    if after is not None:
        statement = statement.where(_E.id < after)
    statement = statement.order_by(_E.id.desc()).limit(limit + 1)
    rows = [dict(r) for r in (await conn.execute(statement)).mappings()]
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], encode_event_cursor(int(rows[limit - 1]["id"])))
