"""Paged, searchable lists for the API and the operator area (read straight from the tables,
so a change is visible to its author at once)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from panjereh.domain.text import search_key
from panjereh.storage.tables import agencies, grants, services, systems


def _like(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_services_page(
    conn: AsyncConnection,
    *,
    search: str | None,
    agency: str | None,
    granted_to: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Services by id; ``search`` is matched on normalized Persian and English names and id;
    ``granted_to`` (an agency code) keeps those the agency's systems hold an active grant on."""
    query = (
        select(
            services.c.id,
            agencies.c.code.label("agency"),
            services.c.name_fa,
            services.c.name_en,
            services.c.status,
            services.c.subject_kind,
            services.c.personal_data,
        )
        .join(agencies, agencies.c.id == services.c.agency_id)
        .order_by(services.c.id)
        .limit(limit)
        .offset(offset)
    )
    if agency:
        query = query.where(agencies.c.code == agency)
    if search:
        query = query.where(services.c.search_key.like(_like(search_key(search)), escape="\\"))
    if granted_to is not None:
        consumer = agencies.alias("consumer_agency")
        mine = (
            select(grants.c.service_id)
            .join(systems, systems.c.id == grants.c.consumer_system_id)
            .join(consumer, consumer.c.id == systems.c.agency_id)
            .where(consumer.c.code == granted_to, grants.c.status == "active")
        )
        query = query.where(services.c.id.in_(mine))
    return [dict(row) for row in (await conn.execute(query)).mappings()]
