"""The area's pages (reading only; the changes are in `actions`).

Who sees what follows `panjereh.registry.access` (objects) and `panjereh.registry.fields`
(their fields, the API's policy too): agencies, services and their schemas are shown to every
signed-in person; an agency's systems and key prefixes, and a service's provider system and
endpoint, only to that agency's administrators, auditors and operators; a grant only to the
administrators of its consumer or provider agency, auditors and operators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.responses import Response

from panjereh.registry.access import NotFound, Principal, can_manage, can_read_private
from panjereh.registry.fields import visible
from panjereh.registry.model import GrantStatus, ServiceStatus
from panjereh.web.echo import here
from panjereh.web.operator import queries
from panjereh.web.operator.area import Context
from panjereh.web.operator.forms import with_param


@dataclass(frozen=True, slots=True)
class Permissions:
    """Which buttons a person gets (the registry checks again when one is pressed)."""

    principal: Principal

    @property
    def change_status(self) -> bool:
        return self.principal.is_operator

    def decide(self, grant: dict[str, Any]) -> bool:
        return grant["status"] == GrantStatus.PENDING and can_manage(
            self.principal, grant["provider_agency"]
        )

    def revoke(self, grant: dict[str, Any]) -> bool:
        parties = (grant["consumer_agency"], grant["provider_agency"])
        return grant["status"] in (GrantStatus.ACTIVE, GrantStatus.SUSPENDED) and (
            self.principal.is_operator or any(self.principal.owns(a) for a in parties)
        )


def _choice(value: str, allowed: type[ServiceStatus] | type[GrantStatus]) -> str:
    return value if value in {s.value for s in allowed} else ""


def _page_url(ctx: Context) -> Callable[[int], str]:
    back = here(ctx.request.url)
    return lambda number: with_param(back, "page", str(number))


def _done(ctx: Context) -> str | None:
    key = f"done.{ctx.query('done', limit=40)}"
    return key if key in ctx.locale.text else None


def key_state(key: dict[str, Any], now: datetime) -> str:
    if key["revoked_at"] is not None:
        return "revoked"
    if key["expires_at"] is not None and key["expires_at"] <= now:
        return "expired"
    return "active"


async def dashboard(ctx: Context) -> Response:
    async with ctx.area.runtime.engine.connect() as conn:
        counts = await queries.counts(conn, ctx.viewer.principal)
        coverage = await queries.coverage(conn)
    total = queries.Coverage(
        "",
        ctx.locale.text["all_agencies"],
        ctx.locale.text["all_agencies"],
        sum(c.in_person for c in coverage),
        sum(c.electronic for c in coverage),
        sum(c.smart for c in coverage),
    )
    return ctx.render(
        "dashboard.html",
        counts=counts,
        service_total=sum(counts.services.values()),
        grant_total=sum(counts.grants.values()),
        pending=counts.grants.get(GrantStatus.PENDING.value, 0),
        coverage=coverage,
        total=total,
    )


async def agencies(ctx: Context) -> Response:
    query = ctx.query("q")
    principal = ctx.viewer.principal
    async with ctx.area.runtime.engine.connect() as conn:
        found = await queries.find_agencies(conn, query)
        systems = await queries.systems_by_agency(conn)
    # An agency's systems (and so which of them are suspended) only to whoever may see them.
    shown = {code: rows for code, rows in systems.items() if can_read_private(principal, code)}
    return ctx.render("agencies.html", agencies=found, query=query, systems=shown)


async def agency(ctx: Context) -> Response:
    code = ctx.request.path_params["code"]
    private = can_read_private(ctx.viewer.principal, code)
    async with ctx.area.runtime.engine.connect() as conn:
        found = await queries.agency(conn, code)
        if found is None:
            raise NotFound("no agency")
        systems = await queries.agency_systems(conn, code) if private else []
    now = ctx.area.runtime.clock.now()
    for system in systems:
        for key in system["api_keys"] + system["signing_keys"]:
            key["state"] = key_state(key, now)
    return ctx.render(
        "agency.html",
        agency=found,
        private=private,
        systems=systems,
        may=Permissions(ctx.viewer.principal),
        done=_done(ctx),
    )


async def services(ctx: Context) -> Response:
    query = ctx.query("q")
    agency_code = ctx.query("agency", limit=64)
    status = _choice(ctx.query("status", limit=16), ServiceStatus)
    async with ctx.area.runtime.engine.connect() as conn:
        page = await queries.services_page(
            conn, search=query, agency=agency_code, status=status, page=ctx.page_number()
        )
        choices = await queries.agency_choices(conn)
    return ctx.render(
        "services.html",
        page=page,
        query=query,
        agency=agency_code,
        status=status,
        statuses=[s.value for s in ServiceStatus],
        agencies=choices,
        page_url=_page_url(ctx),
    )


async def service(ctx: Context) -> Response:
    service_id = ctx.request.path_params["service_id"]
    async with ctx.area.runtime.engine.connect() as conn:
        found = await queries.service(conn, service_id)
        if found is None:
            raise NotFound("no service")
        grants = await queries.grants_page(
            conn, ctx.viewer.principal, status="", service_id=service_id, page=ctx.page_number()
        )
    return ctx.render(
        "service.html",
        service=found,
        private=visible(ctx.viewer.principal, "service", "endpoint_url", owner=found["agency"]),
        page=grants,
        may=Permissions(ctx.viewer.principal),
        page_url=_page_url(ctx),
        done=_done(ctx),
    )


async def grants(ctx: Context) -> Response:
    status = _choice(ctx.query("status", limit=16), GrantStatus)
    async with ctx.area.runtime.engine.connect() as conn:
        page = await queries.grants_page(
            conn, ctx.viewer.principal, status=status, service_id="", page=ctx.page_number()
        )
    return ctx.render(
        "grants.html",
        page=page,
        status=status,
        statuses=[s.value for s in GrantStatus],
        may=Permissions(ctx.viewer.principal),
        page_url=_page_url(ctx),
        done=_done(ctx),
    )


async def not_found(_ctx: Context) -> Response:
    """Any other path under the area: the area's own 404 page (not the API's JSON one)."""
    raise NotFound("no such page")
