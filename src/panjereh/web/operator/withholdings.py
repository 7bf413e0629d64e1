"""The operator area's withholdings page: records held back from citizens under confidential
grants, one row per record however many times the citizen's page withheld it.

The log (`audit_withholdings`) keeps one row per page view and record; the page groups them by
exchange id with how often and when first and last, newest first (keyset on the group's
newest row, so a page never repeats a record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from panjereh.domain.jalali import format_date
from panjereh.storage.tables import audit_withholdings
from panjereh.web.echo import here
from panjereh.web.operator.area import Context
from panjereh.web.operator.cases import Named, _auditors_only, _named
from panjereh.web.operator.forms import with_param

WITHHOLDINGS_PAGE = 50
_EXCHANGE_ID_MAX = 36


@dataclass(frozen=True, slots=True)
class WithheldRecord:
    """One record withheld ``times`` times (once per view of the citizen's page)."""

    key: int  # the newest withholding row's id: the page's keyset
    exchange_id: str
    subject_hash: str
    grant_id: int
    disclosure_date: date | None
    consumer: str | None
    service_id: str | None
    times: int
    first_at: datetime
    last_at: datetime


async def withheld_records(
    conn: AsyncConnection,
    *,
    agency: str | None,
    exchange_id: str | None,
    before: int | None,
    limit: int,
) -> list[WithheldRecord]:
    """Withheld records, the most recently withheld first."""
    t = audit_withholdings.c
    conditions: list[ColumnElement[bool]] = []
    if agency is not None:
        conditions.append(t.consumer.startswith(f"{agency}/", autoescape=True))
    if exchange_id is not None:
        conditions.append(t.exchange_id == exchange_id)
    key = func.max(t.id)
    query = (
        select(
            key.label("key"),
            t.exchange_id,
            func.max(t.subject_hash).label("subject_hash"),
            func.max(t.grant_id).label("grant_id"),
            func.max(t.disclosure_date).label("disclosure_date"),
            func.max(t.consumer).label("consumer"),
            func.max(t.service_id).label("service_id"),
            func.count().label("times"),
            func.min(t.withheld_at).label("first_at"),
            func.max(t.withheld_at).label("last_at"),
        )
        .where(*conditions)
        .group_by(t.exchange_id)
        .order_by(key.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.having(key < before)
    rows = await conn.execute(query)
    return [WithheldRecord(**r) for r in rows.mappings()]


@dataclass(frozen=True, slots=True)
class ShownWithholding:
    row: WithheldRecord
    named: Named
    disclosure: str  # the Jalali day, or "—" for none set (withheld until one is)


async def withholdings_list(ctx: Context) -> Response:
    _auditors_only(ctx)
    agency = ctx.query("agency", limit=64) or None
    exchange_id = ctx.query("exchange_id", limit=_EXCHANGE_ID_MAX) or None
    before = ctx.query("before", limit=18)
    async with ctx.area.runtime.engine.connect() as conn:
        rows = await withheld_records(
            conn,
            agency=agency,
            exchange_id=exchange_id,
            before=int(before) if before.isascii() and before.isdigit() else None,
            limit=WITHHOLDINGS_PAGE + 1,
        )
    none = ctx.locale.text["none"]
    shown = [
        ShownWithholding(
            r,
            _named(ctx, r.consumer, r.service_id),
            format_date(r.disclosure_date, ctx.locale.lang) if r.disclosure_date else none,
        )
        for r in rows
    ]
    back = here(ctx.request.url)
    more = len(shown) > WITHHOLDINGS_PAGE
    shown = shown[:WITHHOLDINGS_PAGE]
    agencies = sorted(
        ctx.area.runtime.registry.current.agencies.values(),
        key=lambda a: a.name_fa if ctx.locale.lang == "fa" else a.name_en,
    )
    return ctx.render(
        "withholdings.html",
        rows=shown,
        agency=agency or "",
        agencies=agencies,
        first_url=ctx.locale.url("/withholdings") if before else None,
        next_url=with_param(back, "before", str(shown[-1].row.key)) if more else None,
    )
