"""The demonstration government seeded by `panjereh demo` (and so by `make run`).

Idempotent: running it again adds nothing twice; it only brings the demo service's endpoint in
line with the server's current public URL.  Development environment only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.domain.identifiers import legal_id_check_digit
from panjereh.registry.credentials import derived_api_key, display_prefix, hash_api_key
from panjereh.registry.model import ServiceStatus, Status, SubjectKind
from panjereh.storage.registry_repo import bump_version
from panjereh.storage.tables import agencies, api_keys, grants, registry_state, services, systems


@dataclass(frozen=True, slots=True)
class DemoAgency:
    code: str
    legal_prefix: str  # first ten digits; the check digit is computed
    name_fa: str
    name_en: str
    system: str
    system_name: str


CIVIL_REGISTRY = DemoAgency(
    "civil-registry",
    "1400026754",
    "سازمان ثبت احوال کشور",
    "National Organization for Civil Registration",
    "population-registry",
    "Population registry",
)
SOCIAL_SECURITY = DemoAgency(
    "social-security",
    "1400039845",
    "سازمان تأمین اجتماعی",
    "Social Security Organization",
    "benefits",
    "Benefits system",
)
SCIENCE = DemoAgency(
    "science-ministry",
    "1400123456",
    "وزارت علوم، تحقیقات و فناوری",
    "Ministry of Science, Research and Technology",
    "degrees",
    "Degree registry",
)
PERSON_SERVICE = "civil-registry.person.v1"


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """What a developer needs to try the exchange: who each key belongs to and what it may do."""

    system: str
    api_key: str
    granted: tuple[str, ...]


async def seed_demo(
    engine: AsyncEngine, *, pepper: bytes, public_url: str, now: datetime
) -> list[DemoCredentials]:
    async with engine.begin() as conn:
        await _ensure_state(conn, now)
        ids = {
            a.code: await _ensure_agency(conn, a, now)
            for a in (CIVIL_REGISTRY, SOCIAL_SECURITY, SCIENCE)
        }
        await _ensure_service(conn, ids[CIVIL_REGISTRY.code], public_url, now)
        await _ensure_grant(conn, ids[SOCIAL_SECURITY.code][1], PERSON_SERVICE, now)
        credentials = []
        for agency in (SOCIAL_SECURITY, SCIENCE):
            ident = f"{agency.code}/{agency.system}"
            key = derived_api_key(pepper, ident)
            await _ensure_key(conn, ids[agency.code][1], key, pepper, now)
            granted = (PERSON_SERVICE,) if agency is SOCIAL_SECURITY else ()
            credentials.append(DemoCredentials(ident, key, granted))
        await bump_version(conn, now)
    return credentials


async def _ensure_state(conn: AsyncConnection, now: datetime) -> None:
    exists = await conn.scalar(select(registry_state.c.id).where(registry_state.c.id == 1))
    if exists is None:
        await conn.execute(registry_state.insert().values(id=1, version=0, changed_at=now))


async def _ensure_agency(
    conn: AsyncConnection, agency: DemoAgency, now: datetime
) -> tuple[int, int]:
    """Returns (agency id, system id)."""
    agency_id = await conn.scalar(select(agencies.c.id).where(agencies.c.code == agency.code))
    if agency_id is None:
        agency_id = (
            await conn.execute(
                agencies.insert()
                .values(
                    code=agency.code,
                    legal_id=agency.legal_prefix + legal_id_check_digit(agency.legal_prefix),
                    name_fa=agency.name_fa,
                    name_en=agency.name_en,
                    status=Status.ACTIVE.value,
                    created_at=now,
                )
                .returning(agencies.c.id)
            )
        ).scalar_one()
    system_id = await conn.scalar(
        select(systems.c.id).where(
            systems.c.agency_id == agency_id, systems.c.code == agency.system
        )
    )
    if system_id is None:
        system_id = (
            await conn.execute(
                systems.insert()
                .values(
                    agency_id=agency_id,
                    code=agency.system,
                    name=agency.system_name,
                    status=Status.ACTIVE.value,
                    created_at=now,
                )
                .returning(systems.c.id)
            )
        ).scalar_one()
    return int(agency_id), int(system_id)


async def _ensure_service(
    conn: AsyncConnection, owner: tuple[int, int], public_url: str, now: datetime
) -> None:
    endpoint = f"{public_url}/simulator/civil-registry/person"
    exists = await conn.scalar(select(services.c.id).where(services.c.id == PERSON_SERVICE))
    if exists is not None:
        await conn.execute(
            update(services).where(services.c.id == PERSON_SERVICE).values(endpoint_url=endpoint)
        )
        return
    await conn.execute(
        services.insert().values(
            id=PERSON_SERVICE,
            agency_id=owner[0],
            provider_system_id=owner[1],
            name_fa="استعلام مشخصات هویتی فرد",
            name_en="Person identity inquiry",
            description_fa="نام، نام پدر، جنسیت، تاریخ تولد و وضعیت حیات فرد با کد ملی او.",
            description_en="A person's name, father's name, gender, birth date and whether "
            "they are alive, by national code.",
            endpoint_url=endpoint,
            subject_pointer="/national_code",
            subject_kind=SubjectKind.NATIONAL_CODE.value,
            timeout_ms=3000,
            status=ServiceStatus.ACTIVE.value,
            created_at=now,
        )
    )


async def _ensure_grant(
    conn: AsyncConnection, system_id: int, service_id: str, now: datetime
) -> None:
    exists = await conn.scalar(
        select(grants.c.id).where(
            grants.c.consumer_system_id == system_id, grants.c.service_id == service_id
        )
    )
    if exists is None:
        await conn.execute(
            grants.insert().values(
                consumer_system_id=system_id,
                service_id=service_id,
                status=Status.ACTIVE.value,
                created_at=now,
            )
        )


async def _ensure_key(
    conn: AsyncConnection, system_id: int, key: str, pepper: bytes, now: datetime
) -> None:
    digest = hash_api_key(pepper, key)
    exists = await conn.scalar(select(api_keys.c.id).where(api_keys.c.key_hash == digest))
    if exists is None:
        await conn.execute(
            api_keys.insert().values(
                system_id=system_id,
                key_hash=digest,
                prefix=display_prefix(key),
                created_at=now,
            )
        )
