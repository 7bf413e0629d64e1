"""The operator area's cases (records citizens reported as suspicious); the withholdings
page (web/operator/withholdings.py) names its records with `_named` too.

Auditors and operators see both; only operators close a case (with a note, CSRF-checked by
`Area`).  No national code appears anywhere: the log holds none, only keyed hashes.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from panjereh.audit.citizen import CaseStatus
from panjereh.registry.access import Forbidden, NotFound
from panjereh.registry.model import Agency, Service, System
from panjereh.storage.cases_repo import CaseRecord, case_record, cases_page, close_case, get_case
from panjereh.web.echo import here
from panjereh.web.operator.actions import _back, _reason
from panjereh.web.operator.area import Context, Handler
from panjereh.web.operator.forms import with_param


@dataclass(frozen=True, slots=True)
class Named:
    """A record's consumer and service with their registry names (None when unknown)."""

    agency: Agency | None
    system: System | None
    service: Service | None


def _named(ctx: Context, consumer: str | None, service_id: str | None) -> Named:
    snapshot = ctx.area.runtime.registry.current
    system = snapshot.systems_by_ident.get(consumer or "")
    agency = system.agency if system is not None else None
    if agency is None and consumer:
        code = consumer.split("/", 1)[0]
        agency = next((a for a in snapshot.agencies.values() if a.code == code), None)
    return Named(agency, system, snapshot.services.get(service_id or ""))


def _auditors_only(ctx: Context) -> None:
    if not ctx.viewer.principal.reads_everything:
        raise Forbidden("only auditors and operators")


def _case_id(ctx: Context) -> int:
    raw = ctx.request.path_params["case_id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise NotFound("no such case")
    return int(raw)


async def cases(ctx: Context) -> Response:
    _auditors_only(ctx)
    status = ctx.query("status", limit=16)
    status = status if status in {s.value for s in CaseStatus} else ""
    async with ctx.area.runtime.engine.connect() as conn:
        page = await cases_page(conn, status=status, page=ctx.page_number())
    back = here(ctx.request.url)
    return ctx.render(
        "cases.html",
        page=page,
        status=status,
        statuses=[s.value for s in CaseStatus],
        page_url=lambda number: with_param(back, "page", str(number)),
    )


async def case(ctx: Context) -> Response:
    _auditors_only(ctx)
    case_id = _case_id(ctx)
    async with ctx.area.runtime.engine.connect() as conn:
        found = await get_case(conn, case_id)
        if found is None:
            raise NotFound("no such case")
        record: CaseRecord | None = await case_record(conn, found.exchange_id)
    named = _named(ctx, record.consumer, record.service_id) if record else Named(None, None, None)
    names = (await ctx.area.purposes.current()).get(record.purpose or "") if record else None
    purpose_name = names and (names[0] if ctx.locale.lang == "fa" else names[1])
    done = ctx.query("done", limit=40)
    return ctx.render(
        "case.html",
        case=found,
        record=record,
        named=named,
        purpose_name=purpose_name,
        may_close=ctx.viewer.principal.is_operator and found.status is CaseStatus.OPEN,
        done=f"done.{done}" if f"done.{done}" in ctx.locale.text else None,
    )


def close() -> Handler:
    async def handler(ctx: Context) -> Response:
        case_id = _case_id(ctx)
        note = _reason(ctx)
        runtime = ctx.area.runtime
        async with runtime.engine.begin() as conn:
            await close_case(
                conn, ctx.viewer.principal, case_id, resolution=note, now=runtime.clock.now()
            )
        return _back(ctx, f"/cases/{case_id}", "case.close")

    return handler
