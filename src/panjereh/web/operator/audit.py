"""The audit pages of the operator area: the log with its filters, one record with its proof,
the control-plane events (docs/audit-log.md, "Operator and auditor view").

Each list page is one keyset query (`panjereh.storage.audit_browse`); names come from the
registry snapshot the exchange already holds. A national code is searched for only by a
POST with the session's CSRF token (so it never appears in a URL, a log or the browser's
history) and is never written back into the page: the next page's form carries the keyed
hashes instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from panjereh.audit.records import Outcome
from panjereh.domain.errors import InvalidValue
from panjereh.domain.text import number_text, persian_digits
from panjereh.registry.access import Conflict, Forbidden, NotFound, Principal
from panjereh.registry.snapshot import RegistrySnapshot
from panjereh.storage.audit_browse import MAX_HASHES, Page, events_page, record_row, records_page
from panjereh.storage.checkpoints_repo import NotYetCheckpointed, prove
from panjereh.web.audit_view import (
    EventFilterText,
    RecordFilterText,
    consumer_agency_of,
    days_in,
    may_see_record,
    provider_agency_of,
    purpose_registered,
    read_event_filters,
    read_record_filters,
    shown_event,
    subject_hashes,
    subject_ref,
)
from panjereh.web.operator import audit_text
from panjereh.web.operator.area import Context
from panjereh.web.operator.forms import field, with_param

PAGE_SIZE = 50
SIDES = ("any", "consumer", "provider")
_HASH = re.compile(r"[0-9a-f]{64}", re.ASCII)
_MAX_EXCHANGE_ID = 64


class Names:
    """Agencies, services, systems and purposes by name in the page's language (from the
    snapshot and the registered purposes)."""

    def __init__(
        self,
        snapshot: RegistrySnapshot,
        lang: str,
        purposes: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.lang = lang
        self.purposes = purposes or {}
        self._agencies = {a.code: a for a in snapshot.agencies.values()}

    def agency(self, code: str | None) -> str:
        agency = self._agencies.get(code or "")
        if agency is None:
            return code or ""
        return agency.name_fa if self.lang == "fa" else agency.name_en

    def service(self, service_id: str | None) -> str:
        service = self.snapshot.services.get(service_id or "")
        if service is None:
            return service_id or ""
        return service.name_fa if self.lang == "fa" else service.name_en

    def system(self, ref: str | None) -> str:
        """A system has one registered name, in English: Persian pages name it by its
        agency's Persian name and its code instead."""
        system = self.snapshot.systems_by_ident.get(ref or "")
        if system is None:
            return ref or ""
        if self.lang == "fa":
            return f"{system.agency.name_fa} — {system.code}"
        return f"{system.agency.name_en} — {system.name}"

    def purpose(self, code: str | None) -> str | None:
        """A registered purpose's name (None for one the registry does not know)."""
        names = self.purposes.get(code or "")
        if names is None:
            return None
        return names[0] if self.lang == "fa" else names[1]


@dataclass(frozen=True, slots=True)
class Filters:
    """The record filters as typed in the form (echoed back into it)."""

    service: str = ""
    system: str = ""
    agency: str = ""
    side: str = "any"
    outcome: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def read(cls, get: Callable[[str], str]) -> Filters:
        values = {f.name: get(f.name).strip() for f in fields(cls)}
        if values["side"] not in SIDES:
            values["side"] = "any"
        return cls(**values)

    def given(self) -> RecordFilterText:
        """The filters as the log reads them: the agency on the side chosen."""
        agency, side = self.agency, self.side
        return RecordFilterText(
            service=self.service,
            system=self.system,
            consumer_agency=agency if side == "consumer" else "",
            provider_agency=agency if side == "provider" else "",
            agency=agency if side == "any" else "",
            outcome=self.outcome,
            since=self.since,
            until=self.until,
        )

    def pairs(self) -> list[tuple[str, str]]:
        return [
            (f.name, getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) and not (f.name == "side" and self.side == "any")
        ]


def _text(ctx: Context) -> Mapping[str, str]:
    return audit_text.TEXT[ctx.locale.lang]


def _label(ctx: Context) -> Callable[[object], str]:
    labels = audit_text.LABELS[ctx.locale.lang]
    return lambda value: labels.get(str(value), ctx.locale.label(value))


def _digits(ctx: Context) -> Callable[[object], str]:
    """Any number or id in the page's digits (floats too: ۳٫۲۵, thousands grouped)."""
    lang = ctx.locale.lang

    def shown(value: object) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return number_text(value, lang)
        return persian_digits(str(value)) if lang == "fa" else str(value)

    return shown


def _choices(principal: Principal, snapshot: RegistrySnapshot) -> dict[str, Any]:
    """What the selects offer: every service and agency; systems only those the person may
    see (an agency's systems are private to it, auditors and operators)."""
    systems = sorted(
        s.ident
        for s in snapshot.systems.values()
        if principal.reads_everything or s.agency.code == principal.agency
    )
    return {
        "services": sorted(snapshot.services),
        "systems": systems,
        "agencies": sorted(a.code for a in snapshot.agencies.values()),
        "outcomes": [o.value for o in Outcome],
        "sides": SIDES,
    }


def _rows(
    page: Page, snapshot: RegistrySnapshot, registered: Container[str]
) -> list[dict[str, Any]]:
    return [
        {
            "exchange_id": r["exchange_id"],
            "created_at": r["created_at"],
            "consumer": r["consumer"],
            "consumer_agency": consumer_agency_of(r["consumer"]),
            "service_id": r["service_id"],
            "provider_agency": provider_agency_of(snapshot, r["service_id"]),
            "purpose": r["purpose"],
            "purpose_registered": purpose_registered(r, registered),
            "outcome": r["outcome"],
            "subject_ref": subject_ref(r["subject_hash"]),
        }
        for r in page.rows
    ]


async def _list(
    ctx: Context,
    filters: Filters,
    *,
    after: str,
    hashes: tuple[str, ...] = (),
) -> tuple[Page | None, str | None]:
    """The page for ``filters``, or the reason the filters are refused (in the language)."""
    runtime = ctx.area.runtime
    lang = ctx.locale.lang
    try:
        query, cursor = read_record_filters(
            ctx.viewer.principal,
            runtime.registry.current,
            filters.given(),
            period=days_in(lang),
            after=after,
            hashes=hashes,
        )
    except InvalidValue as exc:
        return None, exc.message(lang)
    async with runtime.engine.connect() as conn:
        return await records_page(conn, query, after=cursor, limit=PAGE_SIZE), None


async def _render_list(
    ctx: Context,
    filters: Filters,
    page: Page | None,
    error: str | None,
    **extra: Any,
) -> Response:
    snapshot = ctx.area.runtime.registry.current
    registered = await ctx.area.purposes.current()
    return ctx.render(
        "audit_records.html",
        http_status=422 if error else 200,
        a=_text(ctx),
        label=_label(ctx),
        names=Names(snapshot, ctx.locale.lang, registered),
        filters=filters,
        rows=_rows(page, snapshot, registered) if page is not None else [],
        error=error,
        may_search=ctx.viewer.principal.reads_everything,
        choices=_choices(ctx.viewer.principal, snapshot),
        **({"next_url": None, "next_cursor": None, "subjects": "", "searched": False} | extra),
    )


async def records(ctx: Context) -> Response:
    """GET /audit: the filters are in the query string (no national code ever is)."""
    filters = Filters.read(lambda name: ctx.query(name, limit=200))
    page, error = await _list(ctx, filters, after=ctx.query("after", limit=200))
    next_url = None
    if page is not None and page.next is not None:
        here = f"{ctx.request.url.path}?{urlencode(filters.pairs())}"
        next_url = with_param(here, "after", page.next)
    return await _render_list(ctx, filters, page, error, next_url=next_url)


def _hashes_from_form(ctx: Context) -> tuple[str, ...]:
    """The subject to search for: a national code typed into the form, or (on a following
    page) the keyed hashes the previous page carried."""
    code = field(ctx.form, "national_code", limit=40)
    if code.strip():
        return subject_hashes(ctx.viewer.principal, ctx.area.runtime.subject_keys, code)
    carried = tuple(h for h in field(ctx.form, "subjects", limit=1000).split(",") if h)
    if not carried or len(carried) > MAX_HASHES or not all(_HASH.fullmatch(h) for h in carried):
        raise InvalidValue(
            "audit.national-code-missing",
            message_en="Write the national code to search for.",
            message_fa="کد ملی مورد جست‌وجو را بنویسید.",
            field="national_code",
        )
    return carried


async def search(ctx: Context) -> Response:
    """POST /audit/search (CSRF-checked by the area): the log for one person, operators and
    auditors only; the code is hashed here and not written back into the page."""
    if not ctx.viewer.principal.reads_everything:
        raise Forbidden("only operators and auditors may search the log by national code")
    filters = Filters.read(lambda name: field(ctx.form, name))
    try:
        hashes = _hashes_from_form(ctx)
    except InvalidValue as exc:
        return await _render_list(ctx, filters, None, exc.message(ctx.locale.lang))
    page, error = await _list(ctx, filters, after=field(ctx.form, "after"), hashes=hashes)
    return await _render_list(
        ctx,
        filters,
        page,
        error,
        searched=True,
        subjects=",".join(hashes),
        next_cursor=page.next if page is not None else None,
    )


# One record ---------------------------------------------------------------------------------


async def _visible_row(ctx: Context) -> dict[str, Any]:
    exchange_id = ctx.request.path_params["exchange_id"]
    if len(exchange_id) > _MAX_EXCHANGE_ID:
        raise NotFound("no such audit record")
    async with ctx.area.runtime.engine.connect() as conn:
        row = await record_row(conn, exchange_id)
    snapshot = ctx.area.runtime.registry.current
    if row is None or not may_see_record(
        ctx.viewer.principal, snapshot, row["consumer"], row["service_id"]
    ):
        raise NotFound("no such audit record")
    return row


async def _proof(ctx: Context, row: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The proof bundle, and whether the record waits for its checkpoint."""
    if row["shard"] is None:
        return None, False
    try:
        found = await prove(ctx.area.runtime.engine, row["exchange_id"])
    except NotYetCheckpointed:
        return None, True
    return (found[1] if found is not None else None), False


def _checkpoint_time(proof: Mapping[str, Any] | None) -> datetime | None:
    if proof is None:
        return None
    return datetime.fromisoformat(str(proof["checkpoint"]["created_at"]))


async def record(ctx: Context) -> Response:
    row = await _visible_row(ctx)
    proof, waiting = await _proof(ctx, row)
    snapshot = ctx.area.runtime.registry.current
    seconds = f"{ctx.area.runtime.settings.audit_checkpoint_seconds:g}"
    registered = await ctx.area.purposes.current()
    return ctx.render(
        "audit_record.html",
        a=_text(ctx),
        label=_label(ctx),
        digits=_digits(ctx),
        names=Names(snapshot, ctx.locale.lang, registered),
        r=row,
        consumer_agency=consumer_agency_of(row["consumer"]),
        provider_agency=provider_agency_of(snapshot, row["service_id"]),
        subject=subject_ref(row["subject_hash"]),
        purpose_registered=purpose_registered(row, registered),
        proof=proof,
        checkpoint_time=_checkpoint_time(proof),
        waiting=waiting,
        seconds=seconds,
    )


async def proof_file(ctx: Context) -> Response:
    """The proof bundle as a file for `panjereh audit check-proof`."""
    row = await _visible_row(ctx)
    proof, _waiting = await _proof(ctx, row)
    if proof is None:
        seconds = ctx.area.runtime.settings.audit_checkpoint_seconds
        raise Conflict(f"no checkpoint covers this record yet (made every {seconds:g} s)")
    body = json.dumps(proof, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    name = re.sub(r"[^0-9A-Za-z-]", "_", row["exchange_id"])
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="proof-{name}.json"'},
    )


# Control-plane events -----------------------------------------------------------------------

EVENT_FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")


async def events(ctx: Context) -> Response:
    if not ctx.viewer.principal.reads_everything:
        raise Forbidden("only operators and auditors read the control-plane events")
    values = {name: ctx.query(name, limit=200).strip() for name in EVENT_FILTERS}
    lang = ctx.locale.lang
    error = None
    page = None
    try:
        query, cursor = read_event_filters(
            EventFilterText(**values), period=days_in(lang), after=ctx.query("after", limit=200)
        )
    except InvalidValue as exc:
        error = exc.message(lang)
    else:
        async with ctx.area.runtime.engine.connect() as conn:
            page = await events_page(conn, query, after=cursor, limit=PAGE_SIZE)
    next_url = None
    if page is not None and page.next is not None:
        here = f"{ctx.request.url.path}?{urlencode([(k, v) for k, v in values.items() if v])}"
        next_url = with_param(here, "after", page.next)
    rows = [shown_event(r, ctx.viewer.principal) for r in (page.rows if page is not None else [])]
    return ctx.render(
        "audit_events.html",
        http_status=422 if error else 200,
        a=_text(ctx),
        label=_label(ctx),
        values=values,
        rows=rows,
        error=error,
        next_url=next_url,
    )
