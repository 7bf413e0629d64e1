"""Reading the registry tables into the exchange's immutable snapshot."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.registry.addresses import DEFAULT_POLICY, NetworkPolicy
from panjereh.registry.model import (
    Agency,
    AgencyKind,
    ApiKey,
    Grant,
    GrantStatus,
    PersonalData,
    Service,
    ServiceStatus,
    SigningKey,
    Status,
    SubjectKind,
    System,
    SystemRole,
)
from panjereh.registry.snapshot import RegistrySnapshot
from panjereh.storage.tables import (
    agencies,
    api_keys,
    grants,
    registry_state,
    services,
    signing_keys,
    systems,
)

Row = Mapping[Any, Any]


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


def parse_roles(value: str) -> frozenset[SystemRole]:
    return frozenset(SystemRole(part) for part in value.split(",") if part)


def format_roles(roles: frozenset[SystemRole] | list[SystemRole]) -> str:
    return ",".join(sorted(role.value for role in roles))


def agency_from_row(row: Row) -> Agency:
    return Agency(
        id=row["id"],
        code=row["code"],
        legal_id=row["legal_id"],
        name_fa=row["name_fa"],
        name_en=row["name_en"],
        status=Status(row["status"]),
        kind=AgencyKind(row["kind"]),
        parent_id=row["parent_id"],
        network=network_from_row(row),
    )


def network_from_row(row: Row) -> NetworkPolicy:
    """The agency's network policy as stored (its blocks were checked on the way in)."""
    blocks, allow_http = row["private_blocks"] or "", bool(row["allow_http"])
    if not blocks and not allow_http:
        return DEFAULT_POLICY
    return NetworkPolicy.parse(blocks, allow_http=allow_http)


def service_from_row(row: Row, agency: Agency) -> Service:
    return Service(
        id=row["id"],
        agency=agency,
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
        request_schema=row["request_schema"],
        response_schema=row["response_schema"],
        personal_data=PersonalData(row["personal_data"]),
        cache_ttl_s=row["cache_ttl_s"],
        idempotent=bool(row["idempotent"]),
        deprecated_on=row["deprecated_on"],
        keep_payloads=bool(row["keep_payloads"]),
    )


def grant_from_row(row: Row) -> Grant:
    projection = row["projection"]
    return Grant(
        id=row["id"],
        consumer_system_id=row["consumer_system_id"],
        service_id=row["service_id"],
        status=GrantStatus(row["status"]),
        purposes=frozenset(row["purposes"]),
        projection=tuple(projection) if projection is not None else None,
        rate_limit_per_minute=row["rate_limit_per_minute"],
        daily_quota=row["daily_quota"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        confidential=bool(row["confidential"]),
        disclosure_date=row["disclosure_date"],
    )


def _raw_key(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


async def _rows(conn: AsyncConnection, table: Any) -> list[Row]:
    return list((await conn.execute(select(table))).mappings().all())


async def load_snapshot(engine: AsyncEngine) -> RegistrySnapshot:
    """One consistent read of everything the data plane needs (a single transaction)."""
    async with engine.connect() as conn, conn.begin():
        version = await conn.scalar(
            select(registry_state.c.version).where(registry_state.c.id == 1)
        )
        by_id = {row["id"]: agency_from_row(row) for row in await _rows(conn, agencies)}
        system_list = [
            System(
                id=row["id"],
                agency=by_id[row["agency_id"]],
                code=row["code"],
                name=row["name"],
                status=Status(row["status"]),
                roles=parse_roles(row["roles"]),
            )
            for row in await _rows(conn, systems)
        ]
        service_list = [
            service_from_row(row, by_id[row["agency_id"]]) for row in await _rows(conn, services)
        ]
        key_list = [
            ApiKey(
                id=row["id"],
                system_id=row["system_id"],
                key_hash=row["key_hash"],
                prefix=row["prefix"],
                expires_at=row["expires_at"],
                revoked_at=row["revoked_at"],
            )
            for row in await _rows(conn, api_keys)
        ]
        signing_list = [
            SigningKey(
                id=row["id"],
                system_id=row["system_id"],
                key_id=row["key_id"],
                public_key=_raw_key(row["public_key"]),
                expires_at=row["expires_at"],
                revoked_at=row["revoked_at"],
            )
            for row in await _rows(conn, signing_keys)
        ]
        grant_list = [grant_from_row(row) for row in await _rows(conn, grants)]
    return RegistrySnapshot.build(
        version=int(version or 0),
        agencies=by_id.values(),
        systems=system_list,
        services=service_list,
        keys=key_list,
        grants=grant_list,
        signing_keys=signing_list,
    )


async def record_key_usage(engine: AsyncEngine, usage: Mapping[int, datetime]) -> None:
    """Write keys' last-used times (batched; called in the background, not per inquiry)."""
    if not usage:
        return
    rows = [{"key_id": key_id, "at": at} for key_id, at in usage.items()]
    statement = (
        update(api_keys)
        .where(api_keys.c.id == bindparam("key_id"))
        .values(last_used_at=bindparam("at"))
    )
    async with engine.begin() as conn:
        await conn.execute(statement, rows)
