"""What the API and the operator area share when they show the audit log: reading the
filters people give (periods, a national code), who may see which record, and the rows as
they leave the server (docs/audit-log.md, "Operator and auditor view").

No national code leaves this module: one given to search with is parsed, hashed with the
runtime's subject keys and dropped; a row carries only the first `SUBJECT_REF_LENGTH` hex
characters of its subject's keyed hash (enough to see that two records are about the same
person, useless for finding out who without the key).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from panjereh.audit.records import Outcome
from panjereh.audit.subjects import SubjectKeys
from panjereh.domain.errors import InvalidValue
from panjereh.domain.identifiers import recorded_national_code
from panjereh.domain.jalali import TEHRAN, check_day, parse_jalali_date
from panjereh.domain.text import ascii_digits, normalize
from panjereh.registry.access import Forbidden, Principal
from panjereh.registry.fields import owner_of, shown_document
from panjereh.registry.snapshot import RegistrySnapshot
from panjereh.storage.audit_browse import (
    EventQuery,
    RecordCursor,
    RecordQuery,
    Row,
    decode_event_cursor,
)

SUBJECT_REF_LENGTH = 12
_MAX_DATE_LENGTH = 40


def _invalid(code: str, field: str, en: str, fa: str) -> InvalidValue:
    return InvalidValue(f"audit.{code}", message_en=en, message_fa=fa, field=field)


def _with_field(error: InvalidValue, field: str) -> InvalidValue:
    return InvalidValue(
        error.code, message_en=error.message_en, message_fa=error.message_fa, field=field
    )


# Periods ------------------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """The instant a Tehran day starts, in UTC (the days people mean are Iran's)."""
    return datetime.combine(day, time(0), tzinfo=TEHRAN).astimezone(UTC)


def parse_instant(raw: str | None, *, field: str, end: bool) -> datetime | None:
    """An API period bound: an ISO date (a Tehran day: ``since`` from its start, ``until`` to
    its end) or an ISO datetime with its offset (``2026-12-02T08:00:00Z``); the day written
    is between `FIRST_DAY` and `LAST_DAY`."""
    if raw is None or not raw.strip():
        return None
    text = ascii_digits(raw.strip())
    if len(text) > _MAX_DATE_LENGTH:
        raise _period_error(field)
    found = _read_iso(text, field)
    if not isinstance(found, datetime):
        day = _in_range(found, field)
        return day_start(day + timedelta(days=1) if end else day)
    if found.tzinfo is None:
        raise _invalid(
            "period-offset",
            field,
            "Give the time with its offset, e.g. 2026-12-02T08:00:00Z or +03:30.",
            "زمان را با اختلاف ساعتش بنویسید، مانند 2026-12-02T08:00:00Z یا +03:30.",
        )
    _in_range(found.date(), field)  # then no offset takes it out of the calendar
    return found.astimezone(UTC)


def _read_iso(text: str, field: str) -> date | datetime:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise _period_error(field) from None


def _in_range(day: date, field: str) -> date:
    return check_day(day, code="audit.period-range", field=field)


def _period_error(field: str) -> InvalidValue:
    return _invalid(
        "period",
        field,
        "Write a date like 2026-12-02 or a time like 2026-12-02T08:00:00Z.",
        "تاریخ را مانند 2026-12-02 یا زمان را مانند 2026-12-02T08:00:00Z بنویسید.",
    )


def parse_day(raw: str, lang: str, *, field: str, end: bool) -> datetime | None:
    """A page's period bound: a Jalali day on Persian pages (۱۴۰۵/۰۹/۱۱), an ISO day on
    English ones (2026-12-02); ``end`` gives the end of that day."""
    text = normalize(raw).strip()
    if not text:
        return None
    if lang == "fa":
        try:
            day = parse_jalali_date(text)
        except InvalidValue as exc:
            raise _with_field(exc, field) from None
    else:
        day = _iso_day(ascii_digits(text), field)
    _in_range(day, field)
    return day_start(day + timedelta(days=1) if end else day)


def _iso_day(text: str, field: str) -> date:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise _invalid(
        "day", field, "Write the day like 2026-12-02.", "روز را مانند 2026-12-02 بنویسید."
    )


class Period(Protocol):
    """How a view reads a period bound: `parse_instant` (the API), `days_in` (the pages)."""

    def __call__(self, raw: str, *, field: str, end: bool) -> datetime | None: ...


def days_in(lang: str) -> Period:
    """`parse_day` for the pages of ``lang``."""

    def parse(raw: str, *, field: str, end: bool) -> datetime | None:
        return parse_day(raw, lang, field=field, end=end)

    return parse


def check_period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise _invalid(
            "period-order",
            "until",
            "The period ends before it starts.",
            "پایان بازه پیش از آغاز آن است.",
        )


# Filters ------------------------------------------------------------------------------------


def parse_outcome(raw: str) -> str:
    if raw and raw not in {o.value for o in Outcome}:
        raise _invalid(
            "outcome",
            "outcome",
            "The outcome is one of: " + ", ".join(o.value for o in Outcome) + ".",
            "نتیجه یکی از این‌هاست: " + "، ".join(o.value for o in Outcome) + ".",
        )
    return raw


def subject_hashes(principal: Principal, keys: SubjectKeys, national_code: str) -> tuple[str, ...]:
    """The keyed hashes to search a national code by (operators and auditors only)."""
    if not national_code.strip():
        return ()
    if not principal.reads_everything:
        raise Forbidden("only operators and auditors may search the log by national code")
    try:  # a code refused only by a rule added since (docs/domain.md) may have records
        code = recorded_national_code(national_code)
    except InvalidValue as exc:
        raise _with_field(exc, "national_code") from None
    return keys.lookup_hashes(code)


def agency_services(snapshot: RegistrySnapshot, agency: str) -> tuple[str, ...]:
    return tuple(sorted(s.id for s in snapshot.services.values() if s.agency.code == agency))


def record_query(
    principal: Principal,
    snapshot: RegistrySnapshot,
    *,
    service: str = "",
    system: str = "",
    consumer_agency: str = "",
    provider_agency: str = "",
    agency: str = "",
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    hashes: tuple[str, ...] = (),
) -> RecordQuery:
    """The query for these filters, limited to what ``principal`` may see: an agency's
    administrator sees only records its agency is the consumer or the provider of."""
    check_period(since, until)
    scope = None
    if not principal.reads_everything:
        own = principal.agency or ""
        scope = (own, agency_services(snapshot, own) if own else ())
    return RecordQuery(
        service_id=service,
        consumer=system,
        consumer_agency=consumer_agency,
        provider_services=agency_services(snapshot, provider_agency) if provider_agency else None,
        either_agency=(agency, agency_services(snapshot, agency)) if agency else None,
        outcome=parse_outcome(outcome),
        since=since,
        until=until,
        subject_hashes=hashes,
        scope=scope,
    )


@dataclass(frozen=True, slots=True)
class RecordFilterText:
    """The record filters as people give them (the API's query or body, a page's form)."""

    service: str = ""
    system: str = ""
    consumer_agency: str = ""
    provider_agency: str = ""
    agency: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""


def read_record_filters(
    principal: Principal,
    snapshot: RegistrySnapshot,
    given: RecordFilterText,
    *,
    period: Period,
    after: str,
    hashes: tuple[str, ...] = (),
) -> tuple[RecordQuery, RecordCursor | None]:
    """The query (limited to what ``principal`` may see) and the page cursor for filters as
    given; `InvalidValue` naming the field for a bad period, outcome or cursor."""
    query = record_query(
        principal,
        snapshot,
        service=given.service,
        system=given.system,
        consumer_agency=given.consumer_agency,
        provider_agency=given.provider_agency,
        agency=given.agency,
        outcome=given.outcome,
        since=period(given.since, field="since", end=False),
        until=period(given.until, field="until", end=True),
        hashes=hashes,
    )
    return query, (RecordCursor.decode(after) if after else None)


@dataclass(frozen=True, slots=True)
class EventFilterText:
    """The control-plane event filters as people give them."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: str = ""
    until: str = ""


def read_event_filters(
    given: EventFilterText, *, period: Period, after: str
) -> tuple[EventQuery, int | None]:
    """The event query and the page cursor; `InvalidValue` for a bad period or cursor."""
    since = period(given.since, field="since", end=False)
    until = period(given.until, field="until", end=True)
    check_period(since, until)
    cursor = decode_event_cursor(after) if after else None
    query = EventQuery(
        actor=given.actor,
        action=given.action,
        object_type=given.object_type,
        object_id=given.object_id,
        since=since,
        until=until,
    )
    return query, cursor


# Who sees what -------------------------------------------------------------------------------


def consumer_agency_of(consumer: str | None) -> str:
    return (consumer or "").split("/", 1)[0]


def provider_agency_of(snapshot: RegistrySnapshot, service_id: str | None) -> str | None:
    service = snapshot.services.get(service_id or "")
    return service.agency.code if service is not None else None


def may_see_record(
    principal: Principal, snapshot: RegistrySnapshot, consumer: str | None, service_id: str | None
) -> bool:
    """Operators and auditors see every record; an agency the records of its own systems'
    inquiries and of inquiries to its services."""
    if principal.reads_everything:
        return True
    if principal.agency is None:
        return False
    parties = (consumer_agency_of(consumer), provider_agency_of(snapshot, service_id))
    return principal.agency in parties


# Rows as they leave -------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def subject_ref(subject_hash: str | None) -> str | None:
    return subject_hash[:SUBJECT_REF_LENGTH] if subject_hash else None


def purpose_registered(row: Row, registered: Container[str]) -> bool | None:
    """Whether the record's declared purpose is one the registry knows (None: none declared).
    Whoever may see a record sees what was declared — a proof carries it byte for byte — so
    the views mark an unregistered one rather than hide it; only the citizen's view replaces
    it (`panjereh.audit.citizen.citizen_purpose`)."""
    declared = row["purpose"]
    return None if declared is None else declared in registered


def record_json(row: Row, snapshot: RegistrySnapshot, registered: Container[str]) -> dict[str, Any]:
    """A record as the API lists it: no national code, the subject's hash shortened."""
    return {
        "exchange_id": row["exchange_id"],
        "created_at": _iso(row["created_at"]),
        "consumer": row["consumer"],
        "consumer_agency": consumer_agency_of(row["consumer"]) or None,
        "service_id": row["service_id"],
        "provider_agency": provider_agency_of(snapshot, row["service_id"]),
        "purpose": row["purpose"],
        "purpose_registered": purpose_registered(row, registered),
        "subject_ref": subject_ref(row["subject_hash"]),
        "outcome": row["outcome"],
        "status_code": row["status_code"],
        "error_type": row["error_type"],
        "duration_ms": row["duration_ms"],
        "provider_ms": row["provider_ms"],
        "request_id": row["request_id"],
        "auth_method": row["auth_method"],
        "replay_of": row["replay_of"],
        "cached": bool(row["cached"]),
        "shard": row["shard"],
        "seq": row["seq"],
        "record_hash": row["record_hash"],
        # Format panjereh.audit/2 (docs/audit-log.md): empty values on a format-1 record.
        "format": row.get("format") or 1,
        "context": row.get("context"),
        "request_bytes": row.get("request_bytes"),
        "response_bytes": row.get("response_bytes"),
        "operation": row.get("operation"),
        "projection_id": row.get("projection_id"),
    }


def shown_event(row: Row, principal: Principal) -> Row:
    """An event row with its ``before`` and ``after`` as ``principal`` may see them (the field
    policy: credential hashes blanked everywhere); the stored, chained event keeps them."""
    kind, object_id = str(row["object_type"]), str(row["object_id"])
    owner = owner_of(kind, object_id)
    return dict(row) | {
        "before": shown_document(row["before"], principal, kind, owner=owner),
        "after": shown_document(row["after"], principal, kind, owner=owner),
    }


def event_json(row: Row, principal: Principal) -> dict[str, Any]:
    shown = shown_event(row, principal)
    return {
        "id": row["id"],
        "at": _iso(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "reason": row["reason"],
        "before": shown["before"],
        "after": shown["after"],
        "outcome": row["outcome"],
    }
