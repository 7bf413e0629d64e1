"""The registry document in and out of the database: `panjereh registry import / export`.

Import merges: every object in the document is created or brought in line with it (matched by
its natural key); objects the document does not mention are left alone.  Every object that
changes gets one registry event with its before and after, and nothing changes at all if any
part fails (one transaction).  Importing the same document twice changes nothing the second
time.

A service whose endpoint is new or changed is checked against its agency's network policy as
the agency stands after the document's own agencies were written
(`panjereh.registry.endpoints.check_endpoint_policy`); what is stored is read back as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from panjereh.domain.errors import InvalidValue
from panjereh.domain.events import AuditEvent
from panjereh.domain.text import search_key
from panjereh.interchange.registry_document import (
    STORED,
    AgencyDoc,
    ApiKeyDoc,
    CitizenServiceDoc,
    Contact,
    GrantDoc,
    Purpose,
    RegistryDocument,
    ServiceDoc,
    SigningKeyDoc,
    SubjectDoc,
    SystemDoc,
)
from panjereh.registry.addresses import NetworkPolicy
from panjereh.registry.endpoints import check_endpoint_policy
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.registry_repo import (
    bump_version,
    format_roles,
    network_from_row,
    parse_roles,
)
from panjereh.storage.tables import (
    agencies,
    api_keys,
    citizen_services,
    grants,
    purposes,
    services,
    signing_keys,
    systems,
)

M = TypeVar("M", bound=BaseModel)
# What is already stored was validated when it came in, under the rules of that day: read back
# as it is, never refused for a rule made later.
TRUSTED = {"allow_private": True, STORED: True}


def _load(model: type[M], data: Mapping[str, Any]) -> M:
    return model.model_validate(data, context=TRUSTED)


@dataclass
class ImportResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


# Reading ------------------------------------------------------------------------------------


async def _all(
    conn: AsyncConnection, table: Table, where: ColumnElement[bool] | None = None
) -> list[Mapping[Any, Any]]:
    query = select(table) if where is None else select(table).where(where)
    return list((await conn.execute(query)).mappings())


async def _ids(conn: AsyncConnection) -> tuple[dict[int, str], dict[int, str]]:
    """agency id -> code, system id -> "agency/system"."""
    agency_codes = {r["id"]: r["code"] for r in await _all(conn, agencies)}
    system_refs = {
        r["id"]: f"{agency_codes[r['agency_id']]}/{r['code']}" for r in await _all(conn, systems)
    }
    return agency_codes, system_refs


async def export_document(conn: AsyncConnection) -> RegistryDocument:
    """The whole registry, in a stable order, as one document."""
    agency_codes, system_refs = await _ids(conn)
    return RegistryDocument(
        purposes=sorted((await _purposes(conn)).values(), key=lambda d: d.code),
        agencies=sorted((await _agencies(conn, agency_codes)).values(), key=lambda d: d.code),
        systems=sorted((await _systems(conn, agency_codes)).values(), key=lambda d: d.ref),
        services=sorted((await _services(conn, system_refs)).values(), key=lambda d: d.id),
        grants=sorted(
            (await _grants(conn, system_refs)).values(), key=lambda d: (d.consumer, d.service)
        ),
        citizen_services=sorted(
            (await _citizen_services(conn, agency_codes)).values(), key=lambda d: d.id
        ),
    )


async def _purposes(conn: AsyncConnection) -> dict[str, Purpose]:
    return {
        r["code"]: _load(
            Purpose,
            {k: r[k] for k in ("code", "name_fa", "name_en", "legal_basis")},
        )
        for r in await _all(conn, purposes)
    }


async def _agencies(conn: AsyncConnection, codes: dict[int, str]) -> dict[str, AgencyDoc]:
    result = {}
    for r in await _all(conn, agencies):
        contact = {"email": r["contact_email"], "phone": r["contact_phone"]}
        result[r["code"]] = _load(
            AgencyDoc,
            {
                "code": r["code"],
                "legal_id": r["legal_id"],
                "name_fa": r["name_fa"],
                "name_en": r["name_en"],
                "kind": r["kind"],
                "parent": codes.get(r["parent_id"]) if r["parent_id"] else None,
                "contact": contact,
                "status": r["status"],
                "network": {
                    "private_blocks": (r["private_blocks"] or "").split(),
                    "allow_http": bool(r["allow_http"]),
                },
            },
        )
    return result


async def _policies(conn: AsyncConnection, codes: set[str]) -> dict[str, NetworkPolicy]:
    """The network policies of these agencies as they now stand."""
    query = select(agencies.c.code, agencies.c.private_blocks, agencies.c.allow_http).where(
        agencies.c.code.in_(sorted(codes))
    )
    return {r["code"]: network_from_row(r) for r in (await conn.execute(query)).mappings()}


async def _systems(
    conn: AsyncConnection, codes: dict[int, str], only: int | None = None
) -> dict[str, SystemDoc]:
    keys: dict[int, list[ApiKeyDoc]] = {}
    key_filter = api_keys.c.system_id == only if only is not None else None
    signer_filter = signing_keys.c.system_id == only if only is not None else None
    system_filter = systems.c.id == only if only is not None else None
    for r in await _all(conn, api_keys, key_filter):
        keys.setdefault(r["system_id"], []).append(
            _load(
                ApiKeyDoc,
                {
                    k: r[k]
                    for k in (
                        "prefix",
                        "key_hash",
                        "label",
                        "created_at",
                        "expires_at",
                        "revoked_at",
                        "last_used_at",
                    )
                },
            )
        )
    signers: dict[int, list[SigningKeyDoc]] = {}
    for r in await _all(conn, signing_keys, signer_filter):
        signers.setdefault(r["system_id"], []).append(
            _load(
                SigningKeyDoc,
                {
                    k: r[k]
                    for k in ("key_id", "public_key", "created_at", "expires_at", "revoked_at")
                },
            )
        )
    result = {}
    for r in await _all(conn, systems, system_filter):
        doc = _load(
            SystemDoc,
            {
                "agency": codes[r["agency_id"]],
                "code": r["code"],
                "name": r["name"],
                "roles": sorted(parse_roles(r["roles"])),
                "status": r["status"],
                "api_keys": sorted(keys.get(r["id"], []), key=lambda k: k.key_hash),
                "signing_keys": sorted(signers.get(r["id"], []), key=lambda k: k.key_id),
            },
        )
        result[doc.ref] = doc
    return result


async def _services(
    conn: AsyncConnection, refs: dict[int, str], only: str | None = None
) -> dict[str, ServiceDoc]:
    fields = (
        "id",
        "name_fa",
        "name_en",
        "description_fa",
        "description_en",
        "endpoint_url",
        "request_schema",
        "response_schema",
        "personal_data",
        "timeout_ms",
        "cache_ttl_s",
        "idempotent",
        "status",
        "deprecated_on",
        "keep_payloads",
    )
    result = {}
    for r in await _all(conn, services, services.c.id == only if only is not None else None):
        data = {k: r[k] for k in fields}
        data["idempotent"] = bool(data["idempotent"])
        data["keep_payloads"] = bool(data["keep_payloads"])
        data["provider"] = refs[r["provider_system_id"]]
        data["subject"] = {"pointer": r["subject_pointer"], "kind": r["subject_kind"]}
        result[r["id"]] = _load(ServiceDoc, data)
    return result


_GRANT_FIELDS = (
    "purposes",
    "projection",
    "rate_limit_per_minute",
    "daily_quota",
    "valid_from",
    "valid_until",
    "confidential",
    "disclosure_date",
    "status",
    "justification",
    "requested_by",
    "requested_at",
    "decided_by",
    "decided_at",
)


async def _grants(
    conn: AsyncConnection, refs: dict[int, str], only: ColumnElement[bool] | None = None
) -> dict[tuple[str, str], GrantDoc]:
    result = {}
    for r in await _all(conn, grants, only):
        data = {k: r[k] for k in _GRANT_FIELDS}
        data["confidential"] = bool(data["confidential"])
        data["consumer"] = refs[r["consumer_system_id"]]
        data["service"] = r["service_id"]
        doc = _load(GrantDoc, data)
        result[(doc.consumer, doc.service)] = doc
    return result


async def _citizen_services(
    conn: AsyncConnection, codes: dict[int, str]
) -> dict[str, CitizenServiceDoc]:
    result = {}
    for r in await _all(conn, citizen_services):
        data = {
            k: r[k] for k in ("id", "title_fa", "title_en", "category", "delivery", "inquiries")
        }
        data["agency"] = codes[r["agency_id"]]
        result[r["id"]] = _load(CitizenServiceDoc, data)
    return result


# Writing ------------------------------------------------------------------------------------


class _Importer:
    def __init__(
        self,
        conn: AsyncConnection,
        *,
        actor: str,
        reason: str,
        now: datetime,
        payload_key: bool = False,
        allow_private: bool = False,
    ) -> None:
        self.conn = conn
        self.payload_key = payload_key
        self.allow_private = allow_private
        self.sink = ConnectionAuditSink(conn)
        self.actor = actor
        self.reason = reason
        self.now = now
        self.result = ImportResult()
        self.agency_ids: dict[str, int] = {}
        self.system_ids: dict[str, int] = {}
        self.action: str | None = None  # e.g. "grant.approve" instead of "grant.update"

    async def event(self, kind: str, key: str, before: BaseModel | None, after: BaseModel) -> None:
        action = self.action or f"{kind}.{'create' if before is None else 'update'}"
        (self.result.created if before is None else self.result.updated)[kind] += 1
        await self.sink.emit(
            AuditEvent(
                at=self.now,
                actor=self.actor,
                action=action,
                object_type=kind,
                object_id=key,
                reason=self.reason,
                before=before.model_dump(mode="json") if before is not None else None,
                after=after.model_dump(mode="json"),
            )
        )

    async def refresh_ids(self) -> None:
        agency_codes, system_refs = await _ids(self.conn)
        self.agency_ids = {code: i for i, code in agency_codes.items()}
        self.system_ids = {ref: i for i, ref in system_refs.items()}

    async def purposes(self, docs: list[Purpose]) -> None:
        existing = await _purposes(self.conn)
        for doc in docs:
            before = existing.get(doc.code)
            if before == doc:
                self.result.unchanged += 1
                continue
            values = doc.model_dump(mode="json")
            if before is None:
                await self.conn.execute(insert(purposes).values(values))
            else:
                await self.conn.execute(
                    update(purposes).where(purposes.c.code == doc.code).values(values)
                )
            await self.event("purpose", doc.code, before, doc)

    async def agencies(self, docs: list[AgencyDoc]) -> None:
        existing = await _agencies(self.conn, {v: k for k, v in self.agency_ids.items()})
        changed = []
        for doc in docs:
            before = existing.get(doc.code)
            if before == doc:
                self.result.unchanged += 1
                continue
            values = _agency_values(doc, self.now)
            if before is None:
                values |= {"created_at": self.now}
                await self.conn.execute(insert(agencies).values(values))
            else:
                await self.conn.execute(
                    update(agencies)
                    .where(agencies.c.code == doc.code)
                    .values(values | {"row_version": agencies.c.row_version + 1})
                )
            changed.append((before, doc))
        await self.refresh_ids()
        for before, doc in changed:  # parents may be created in the same document
            parent = self.agency_ids[doc.parent] if doc.parent else None
            await self.conn.execute(
                update(agencies).where(agencies.c.code == doc.code).values(parent_id=parent)
            )
            await self.event("agency", doc.code, before, doc)

    async def systems(self, docs: list[SystemDoc]) -> None:
        codes = {v: k for k, v in self.agency_ids.items()}
        only = self.system_ids.get(docs[0].ref, -1) if len(docs) == 1 else None
        existing = await _systems(self.conn, codes, only)
        for given in docs:
            before = existing.get(given.ref)
            doc = _keep_usage(given, before)
            if before == doc:
                self.result.unchanged += 1
                continue
            values: dict[str, Any] = {
                "name": doc.name,
                "roles": format_roles(doc.roles),
                "status": doc.status.value,
                "updated_at": self.now,
            }
            if before is None:
                values |= {
                    "agency_id": self.agency_ids[doc.agency],
                    "code": doc.code,
                    "created_at": self.now,
                }
                await self.conn.execute(insert(systems).values(values))
                await self.refresh_ids()
            else:
                await self.conn.execute(
                    update(systems)
                    .where(systems.c.id == self.system_ids[doc.ref])
                    .values(values | {"row_version": systems.c.row_version + 1})
                )
            await self._keys(self.system_ids[doc.ref], doc, before)
            await self.event("system", doc.ref, before, doc)

    async def _keys(self, system_id: int, doc: SystemDoc, before: SystemDoc | None) -> None:
        old_keys = {k.key_hash: k for k in (before.api_keys if before else [])}
        for key in doc.api_keys:
            if old_keys.get(key.key_hash) == key:
                continue
            values = key.model_dump() | {"system_id": system_id}
            if key.key_hash in old_keys:
                await self.conn.execute(
                    update(api_keys).where(api_keys.c.key_hash == key.key_hash).values(values)
                )
            else:
                await self.conn.execute(insert(api_keys).values(values))
        old_signers = {k.key_id: k for k in (before.signing_keys if before else [])}
        for signer in doc.signing_keys:
            if old_signers.get(signer.key_id) == signer:
                continue
            values = signer.model_dump() | {"system_id": system_id}
            if signer.key_id in old_signers:
                await self.conn.execute(
                    update(signing_keys)
                    .where(
                        signing_keys.c.system_id == system_id,
                        signing_keys.c.key_id == signer.key_id,
                    )
                    .values(values)
                )
            else:
                await self.conn.execute(insert(signing_keys).values(values))

    async def services(self, docs: list[ServiceDoc]) -> None:
        refs = {v: k for k, v in self.system_ids.items()}
        existing = await _services(self.conn, refs, docs[0].id if len(docs) == 1 else None)
        policies = await _policies(self.conn, {doc.agency for doc in docs})
        for doc in docs:
            before = existing.get(doc.id)
            if before == doc:
                self.result.unchanged += 1
                continue
            if before is None or before.endpoint_url != doc.endpoint_url:
                self._check_endpoint(doc, policies.get(doc.agency, NetworkPolicy()))
            if doc.keep_payloads and not self.payload_key:
                raise InvalidValue(
                    "service.keep-payloads-without-key",
                    message_fa=(
                        f"سرویس {doc.id} بدنه‌ها را نگه می‌دارد، اما کلید رمزگذاری "
                        "PANJEREH_AUDIT_PAYLOAD_KEY تنظیم نشده است."
                    ),
                    message_en=(
                        f"service {doc.id} keeps payloads, but PANJEREH_AUDIT_PAYLOAD_KEY is "
                        "not set: payloads are never stored unencrypted"
                    ),
                    field="keep_payloads",
                )
            values = _service_values(doc, self.system_ids[doc.provider], self.now)
            values["agency_id"] = self.agency_ids[doc.agency]
            if before is None:
                await self.conn.execute(
                    insert(services).values(values | {"id": doc.id, "created_at": self.now})
                )
            else:
                await self.conn.execute(
                    update(services)
                    .where(services.c.id == doc.id)
                    .values(values | {"row_version": services.c.row_version + 1})
                )
            await self.event("service", doc.id, before, doc)

    def _check_endpoint(self, doc: ServiceDoc, policy: NetworkPolicy) -> None:
        try:
            check_endpoint_policy(doc.endpoint_url, policy, allow_private=self.allow_private)
        except InvalidValue as exc:
            raise InvalidValue(
                exc.code,
                message_en=f"service {doc.id}: {exc.message_en}",
                message_fa=f"خدمت {doc.id}: {exc.message_fa}",
                field="endpoint_url",
            ) from None

    async def grants(self, docs: list[GrantDoc]) -> None:
        refs = {v: k for k, v in self.system_ids.items()}
        only = None
        if len(docs) == 1:
            only = (grants.c.consumer_system_id == self.system_ids.get(docs[0].consumer, -1)) & (
                grants.c.service_id == docs[0].service
            )
        existing = await _grants(self.conn, refs, only)
        for doc in docs:
            key = (doc.consumer, doc.service)
            before = existing.get(key)
            if before == doc:
                self.result.unchanged += 1
                continue
            values = doc.model_dump(exclude={"consumer", "service"}) | {"updated_at": self.now}
            values["status"] = doc.status.value
            consumer = self.system_ids[doc.consumer]
            if before is None:
                values |= {
                    "consumer_system_id": consumer,
                    "service_id": doc.service,
                    "created_at": self.now,
                }
                await self.conn.execute(insert(grants).values(values))
            else:
                await self.conn.execute(
                    update(grants)
                    .where(
                        grants.c.consumer_system_id == consumer, grants.c.service_id == doc.service
                    )
                    .values(values | {"row_version": grants.c.row_version + 1})
                )
            await self.event("grant", f"{doc.consumer} -> {doc.service}", before, doc)

    async def citizen_services(self, docs: list[CitizenServiceDoc]) -> None:
        existing = await _citizen_services(self.conn, {v: k for k, v in self.agency_ids.items()})
        for doc in docs:
            before = existing.get(doc.id)
            if before == doc:
                self.result.unchanged += 1
                continue
            values = doc.model_dump(mode="json", exclude={"agency"}) | {
                "agency_id": self.agency_ids[doc.agency],
                "search_key": search_key(f"{doc.title_fa} {doc.title_en}"),
            }
            if before is None:
                await self.conn.execute(insert(citizen_services).values(values))
            else:
                await self.conn.execute(
                    update(citizen_services).where(citizen_services.c.id == doc.id).values(values)
                )
            await self.event("citizen-service", doc.id, before, doc)


def _keep_usage(doc: SystemDoc, before: SystemDoc | None) -> SystemDoc:
    """A key's last use is the exchange's observation, not the document's: a document that does
    not give one (the demo's, a hand-written one) keeps the stored one instead of erasing it
    (which made every re-run of `panjereh demo` after an inquiry a `system.update`)."""
    if before is None:
        return doc
    used = {k.key_hash: k.last_used_at for k in before.api_keys if k.last_used_at is not None}
    if not used or all(k.last_used_at is not None for k in doc.api_keys):
        return doc
    keys = [
        k.model_copy(update={"last_used_at": used[k.key_hash]})
        if k.last_used_at is None and k.key_hash in used
        else k
        for k in doc.api_keys
    ]
    return doc.model_copy(update={"api_keys": keys})


def _agency_values(doc: AgencyDoc, now: datetime) -> dict[str, Any]:
    contact = doc.contact or Contact()
    return {
        "code": doc.code,
        "legal_id": doc.legal_id,
        "name_fa": doc.name_fa,
        "name_en": doc.name_en,
        "kind": doc.kind.value,
        "status": doc.status.value,
        "contact_email": contact.email,
        "contact_phone": contact.phone,
        "search_key": search_key(f"{doc.name_fa} {doc.name_en} {doc.code}"),
        "updated_at": now,
        "private_blocks": " ".join(doc.network.private_blocks) if doc.network else "",
        "allow_http": doc.network.allow_http if doc.network else False,
    }


def _service_values(doc: ServiceDoc, provider_id: int, now: datetime) -> dict[str, Any]:
    subject = doc.subject or SubjectDoc()
    return {
        "provider_system_id": provider_id,
        "name_fa": doc.name_fa,
        "name_en": doc.name_en,
        "description_fa": doc.description_fa,
        "description_en": doc.description_en,
        "endpoint_url": doc.endpoint_url,
        "subject_pointer": subject.pointer,
        "subject_kind": subject.kind.value,
        "timeout_ms": doc.timeout_ms,
        "status": doc.status.value,
        "request_schema": doc.request_schema,
        "response_schema": doc.response_schema,
        "personal_data": doc.personal_data.value,
        "cache_ttl_s": doc.cache_ttl_s,
        "idempotent": doc.idempotent,
        "deprecated_on": doc.deprecated_on,
        "keep_payloads": doc.keep_payloads,
        "search_key": search_key(f"{doc.name_fa} {doc.name_en} {doc.id}"),
        "updated_at": now,
    }


async def import_document(
    conn: AsyncConnection,
    doc: RegistryDocument,
    *,
    actor: str,
    reason: str,
    now: datetime,
    payload_key: bool = False,
    allow_private: bool = False,
) -> ImportResult:
    """Merge ``doc`` into the registry inside the caller's transaction (see module docstring).

    The caller validated ``doc`` (including ``doc.problems()``) against the document alone;
    references to objects that exist only in the database are resolved here.  A service that
    keeps payloads is refused unless ``payload_key`` (the process has a payload key); a new or
    changed endpoint must fit its agency's network policy unless ``allow_private``
    (PANJEREH_ALLOW_PRIVATE_ENDPOINTS, development).
    """
    importer = _Importer(
        conn,
        actor=actor,
        reason=reason,
        now=now,
        payload_key=payload_key,
        allow_private=allow_private,
    )
    await importer.refresh_ids()
    await importer.purposes(doc.purposes)
    await importer.agencies(doc.agencies)
    await importer.systems(doc.systems)
    await importer.services(doc.services)
    await importer.grants(doc.grants)
    await importer.citizen_services(doc.citizen_services)
    if importer.result.changed:
        await bump_version(conn, now)
    return importer.result
