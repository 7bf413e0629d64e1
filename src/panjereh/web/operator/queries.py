"""The operator area's reads: SQL over the registry tables (counts and pages are done by the
database, and a change is visible to its author at once, without waiting for the snapshot).

Nothing here selects a key hash: the pages never need one, so no query can leak one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.domain.text import search_key
from panjereh.registry.access import Principal
from panjereh.storage.tables import (
    agencies,
    api_keys,
    citizen_services,
    grants,
    services,
    signing_keys,
    systems,
)

PAGE = 50

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    total: int
    number: int  # 1-based

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE))


def like(text: str) -> str:
    """A LIKE pattern for the normalized ``text`` (its wildcards escaped with ``\\``)."""
    needle = search_key(text)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def _rows(conn: AsyncConnection, query: Select[Any]) -> list[Row]:
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def _page(conn: AsyncConnection, query: Select[Any], number: int) -> Page:
    total = int(await conn.scalar(select(func.count()).select_from(query.subquery())) or 0)
    number = min(max(1, number), max(1, -(-total // PAGE)))
    rows = await _rows(conn, query.limit(PAGE).offset((number - 1) * PAGE))
    return Page(rows, total, number)


async def _count_by(conn: AsyncConnection, column: Any, where: Any = None) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)
    if where is not None:
        query = query.where(where)
    return {str(value): int(n) for value, n in (await conn.execute(query)).all()}


# Agencies -------------------------------------------------------------------------------------


async def agency_name(conn: AsyncConnection, code: str) -> tuple[str, str] | None:
    row = (
        await conn.execute(
            select(agencies.c.name_fa, agencies.c.name_en).where(agencies.c.code == code)
        )
    ).first()
    return (row.name_fa, row.name_en) if row is not None else None


def _agencies_with_parent() -> Select[Any]:
    parent = agencies.alias("parent")
    return select(
        agencies.c.code,
        agencies.c.legal_id,
        agencies.c.name_fa,
        agencies.c.name_en,
        agencies.c.kind,
        agencies.c.status,
        agencies.c.created_at,
        parent.c.code.label("parent"),
        parent.c.name_fa.label("parent_fa"),
        parent.c.name_en.label("parent_en"),
    ).outerjoin(parent, parent.c.id == agencies.c.parent_id)


async def find_agencies(conn: AsyncConnection, search: str) -> list[Row]:
    query = _agencies_with_parent().order_by(agencies.c.code)
    if search_key(search):
        query = query.where(agencies.c.search_key.like(like(search), escape="\\"))
    return await _rows(conn, query)


async def systems_by_agency(conn: AsyncConnection) -> dict[str, list[Row]]:
    """Agency code -> its systems' codes and statuses (private: the caller filters who may
    see which agency's)."""
    rows = await _rows(
        conn,
        select(agencies.c.code.label("agency"), systems.c.code, systems.c.status)
        .join(agencies, agencies.c.id == systems.c.agency_id)
        .order_by(agencies.c.code, systems.c.code),
    )
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(row["agency"], []).append(row)
    return found


async def agency_choices(conn: AsyncConnection) -> list[Row]:
    query = select(agencies.c.code, agencies.c.name_fa, agencies.c.name_en)
    return await _rows(conn, query.order_by(agencies.c.code))


async def agency(conn: AsyncConnection, code: str) -> Row | None:
    rows = await _rows(conn, _agencies_with_parent().where(agencies.c.code == code))
    if not rows:
        return None
    count = await conn.scalar(
        select(func.count())
        .select_from(services.join(agencies, agencies.c.id == services.c.agency_id))
        .where(agencies.c.code == code)
    )
    return rows[0] | {"services": int(count or 0)}


async def agency_systems(conn: AsyncConnection, code: str) -> list[Row]:
    """An agency's systems with their key prefixes (private: the caller checks who may see)."""
    found = await _rows(
        conn,
        select(systems.c.id, systems.c.code, systems.c.name, systems.c.status, systems.c.roles)
        .join(agencies, agencies.c.id == systems.c.agency_id)
        .where(agencies.c.code == code)
        .order_by(systems.c.code),
    )
    ids = [s["id"] for s in found]
    keys = await _rows(
        conn,
        select(
            api_keys.c.system_id,
            api_keys.c.prefix,
            api_keys.c.label,
            api_keys.c.created_at,
            api_keys.c.expires_at,
            api_keys.c.revoked_at,
            api_keys.c.last_used_at,
        )
        .where(api_keys.c.system_id.in_(ids))
        .order_by(api_keys.c.created_at, api_keys.c.prefix),
    )
    signers = await _rows(
        conn,
        select(
            signing_keys.c.system_id,
            signing_keys.c.key_id,
            signing_keys.c.created_at,
            signing_keys.c.expires_at,
            signing_keys.c.revoked_at,
        )
        .where(signing_keys.c.system_id.in_(ids))
        .order_by(signing_keys.c.key_id),
    )
    for system in found:
        system["ref"] = f"{code}/{system['code']}"
        system["roles"] = [r for r in str(system["roles"]).split(",") if r]
        system["api_keys"] = [k for k in keys if k["system_id"] == system["id"]]
        system["signing_keys"] = [k for k in signers if k["system_id"] == system["id"]]
    return found


# Services -------------------------------------------------------------------------------------


async def services_page(
    conn: AsyncConnection, *, search: str, agency: str, status: str, page: int
) -> Page:
    """`storage.listings.list_services_page`'s query, plus the status filter and a total for
    the pager (that module has neither, and the storage layer is not this area's to change)."""
    query = (
        select(
            services.c.id,
            agencies.c.code.label("agency"),
            agencies.c.name_fa.label("agency_fa"),
            agencies.c.name_en.label("agency_en"),
            services.c.name_fa,
            services.c.name_en,
            services.c.status,
            services.c.personal_data,
        )
        .join(agencies, agencies.c.id == services.c.agency_id)
        .order_by(services.c.id)
    )
    if agency:
        query = query.where(agencies.c.code == agency)
    if status:
        query = query.where(services.c.status == status)
    if search_key(search):
        query = query.where(services.c.search_key.like(like(search), escape="\\"))
    return await _page(conn, query, page)


async def service(conn: AsyncConnection, service_id: str) -> Row | None:
    rows = await _rows(
        conn,
        select(
            services,
            agencies.c.code.label("agency"),
            agencies.c.name_fa.label("agency_fa"),
            agencies.c.name_en.label("agency_en"),
            systems.c.code.label("provider_code"),
        )
        .join(agencies, agencies.c.id == services.c.agency_id)
        .join(systems, systems.c.id == services.c.provider_system_id)
        .where(services.c.id == service_id),
    )
    return rows[0] if rows else None


# Grants ---------------------------------------------------------------------------------------


def _visible_to(principal: Principal, consumer: Any, provider: Any) -> ColumnElement[bool]:
    """`registry.access.can_read_grant` as SQL."""
    if principal.reads_everything:
        return true()
    return or_(consumer.c.code == principal.agency, provider.c.code == principal.agency)


def _grants_query(principal: Principal) -> Select[Any]:
    consumer = agencies.alias("consumer_agency")
    provider = agencies.alias("provider_agency")
    return (
        select(
            grants.c.service_id,
            grants.c.status,
            grants.c.purposes,
            grants.c.confidential,
            grants.c.justification,
            grants.c.requested_by,
            grants.c.requested_at,
            grants.c.decided_by,
            grants.c.decided_at,
            consumer.c.code.label("consumer_agency"),
            systems.c.code.label("consumer_system"),
            provider.c.code.label("provider_agency"),
            services.c.name_fa,
            services.c.name_en,
        )
        .join(systems, systems.c.id == grants.c.consumer_system_id)
        .join(consumer, consumer.c.id == systems.c.agency_id)
        .join(services, services.c.id == grants.c.service_id)
        .join(provider, provider.c.id == services.c.agency_id)
        .where(_visible_to(principal, consumer, provider))
        .order_by(
            case((grants.c.status == "pending", 0), else_=1),
            grants.c.service_id,
            consumer.c.code,
            systems.c.code,
        )
    )


async def grants_page(
    conn: AsyncConnection, principal: Principal, *, status: str, service_id: str, page: int
) -> Page:
    query = _grants_query(principal)
    if status:
        query = query.where(grants.c.status == status)
    if service_id:
        query = query.where(grants.c.service_id == service_id)
    found = await _page(conn, query, page)
    for row in found.rows:
        row["consumer"] = f"{row['consumer_agency']}/{row['consumer_system']}"
    return found


async def grant_counts(conn: AsyncConnection, principal: Principal) -> dict[str, int]:
    visible = _grants_query(principal).order_by(None).subquery()
    return await _count_by(conn, visible.c.status)


# The dashboard --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    agencies: int
    systems: int  # those the viewer may see: all, or its own agency's
    services: dict[str, int]  # by status
    grants: dict[str, int]  # by status, those the viewer may see


async def _system_count(conn: AsyncConnection, principal: Principal) -> int:
    query = select(func.count()).select_from(systems)
    if not principal.reads_everything:
        query = query.join(agencies, agencies.c.id == systems.c.agency_id).where(
            agencies.c.code == principal.agency
        )
    return int(await conn.scalar(query) or 0)


async def counts(conn: AsyncConnection, principal: Principal) -> Counts:
    return Counts(
        agencies=int(await conn.scalar(select(func.count()).select_from(agencies)) or 0),
        systems=await _system_count(conn, principal),
        services=await _count_by(conn, services.c.status),
        grants=await grant_counts(conn, principal),
    )


@dataclass(frozen=True, slots=True)
class Coverage:
    code: str
    name_fa: str
    name_en: str
    in_person: int
    electronic: int
    smart: int

    @property
    def total(self) -> int:
        return self.in_person + self.electronic + self.smart

    @property
    def digital_share(self) -> float:
        """Per cent delivered electronically or smartly (0 when the agency lists none)."""
        return 100 * (self.electronic + self.smart) / self.total if self.total else 0.0


def _delivered(how: str) -> Any:
    return func.sum(case((citizen_services.c.delivery == how, 1), else_=0))


async def coverage(conn: AsyncConnection) -> list[Coverage]:
    query = (
        select(
            agencies.c.code,
            agencies.c.name_fa,
            agencies.c.name_en,
            _delivered("in_person").label("in_person"),
            _delivered("electronic").label("electronic"),
            _delivered("smart").label("smart"),
        )
        .join(agencies, agencies.c.id == citizen_services.c.agency_id)
        .group_by(agencies.c.code, agencies.c.name_fa, agencies.c.name_en)
        .order_by(agencies.c.code)
    )
    return [
        Coverage(
            r.code,
            r.name_fa,
            r.name_en,
            int(r.in_person or 0),
            int(r.electronic or 0),
            int(r.smart or 0),
        )
        for r in (await conn.execute(query)).all()
    ]
