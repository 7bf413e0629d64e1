"""Reading the registry tables into the exchange's immutable snapshot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.registry.model import (
    Agency,
    ApiKey,
    Grant,
    Service,
    ServiceStatus,
    Status,
    SubjectKind,
    System,
)
from panjereh.registry.snapshot import RegistrySnapshot
from panjereh.storage.tables import agencies, api_keys, grants, registry_state, services, systems


async def registry_version(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        version = await conn.scalar(
            select(registry_state.c.version).where(registry_state.c.id == 1)
        )
    return int(version or 0)


async def bump_version(conn: AsyncConnection, now: datetime) -> None:
    """Every registry change calls this in its own transaction, so workers see it."""
    await conn.execute(
        update(registry_state)
        .where(registry_state.c.id == 1)
        .values(version=registry_state.c.version + 1, changed_at=now)
    )


async def load_snapshot(engine: AsyncEngine) -> RegistrySnapshot:
    """One consistent read of everything the data plane needs (a single transaction)."""
    async with engine.connect() as conn, conn.begin():
        version = await conn.scalar(
            select(registry_state.c.version).where(registry_state.c.id == 1)
        )
        agency_rows = (await conn.execute(select(agencies))).mappings().all()
        by_id = {
            row["id"]: Agency(
                id=row["id"],
                code=row["code"],
                legal_id=row["legal_id"],
                name_fa=row["name_fa"],
                name_en=row["name_en"],
                status=Status(row["status"]),
            )
            for row in agency_rows
        }
        system_rows = (await conn.execute(select(systems))).mappings().all()
        system_list = [
            System(
                id=row["id"],
                agency=by_id[row["agency_id"]],
                code=row["code"],
                name=row["name"],
                status=Status(row["status"]),
            )
            for row in system_rows
        ]
        service_rows = (await conn.execute(select(services))).mappings().all()
        service_list = [
            Service(
                id=row["id"],
                agency=by_id[row["agency_id"]],
                provider_system_id=row["provider_system_id"],
                name_fa=row["name_fa"],
                name_en=row["name_en"],
                description_fa=row["description_fa"],
                description_en=row["description_en"],
                endpoint_url=row["endpoint_url"],
                subject_pointer=row["subject_pointer"],
                subject_kind=SubjectKind(row["subject_kind"]),
                timeout_ms=row["timeout_ms"],
                status=ServiceStatus(row["status"]),
            )
            for row in service_rows
        ]
        key_rows = (await conn.execute(select(api_keys))).mappings().all()
        key_list = [
            ApiKey(
                id=row["id"],
                system_id=row["system_id"],
                key_hash=row["key_hash"],
                prefix=row["prefix"],
                expires_at=row["expires_at"],
                revoked_at=row["revoked_at"],
            )
            for row in key_rows
        ]
        grant_rows = (await conn.execute(select(grants))).mappings().all()
        grant_list = [
            Grant(
                id=row["id"],
                consumer_system_id=row["consumer_system_id"],
                service_id=row["service_id"],
                status=Status(row["status"]),
            )
            for row in grant_rows
        ]
    return RegistrySnapshot.build(
        version=int(version or 0),
        agencies=by_id.values(),
        systems=system_list,
        services=service_list,
        keys=key_list,
        grants=grant_list,
    )
