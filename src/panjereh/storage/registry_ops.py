"""Registry changes made by people (API, web area, CLI): authorized, validated, audited.

Each operation runs inside the caller's transaction, checks the principal's rights
(`panjereh.registry.access`), writes the change through the document importer (so every change
is one registry event with before and after, and bumps the registry version) and returns the
object as it now stands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.domain.errors import InvalidValue
from panjereh.domain.events import AuditEvent, EventOutcome
from panjereh.interchange.registry_document import (
    AgencyDoc,
    ApiKeyDoc,
    GrantDoc,
    NetworkDoc,
    Purpose,
    ServiceDoc,
    SystemDoc,
    check_signing_key,
    validate_as,
)
from panjereh.registry.access import (
    Conflict,
    Forbidden,
    NotFound,
    Principal,
    Refused,
    can_manage,
    can_read_grant,
    require_manage,
    require_operator,
    require_read_private,
)
from panjereh.registry.credentials import display_prefix, hash_api_key, new_api_key
from panjereh.registry.model import GrantStatus, ServiceStatus, Status, SystemRole
from panjereh.storage.document_repo import (
    _agencies,
    _grants,
    _Importer,
    _purposes,
    _services,
    _systems,
)
from panjereh.storage.events_repo import ConnectionAuditSink
from panjereh.storage.registry_repo import bump_version
from panjereh.storage.tables import agencies, grants, systems

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
AGENCY_SUSPENDED = "agency-suspended"  # the problem code, and the refusal in its event


def revalidate(model: M, *, allow_private: bool) -> M:
    """Run every field rule on a changed copy (model_copy does not validate)."""
    return validate_as(type(model), model.model_dump(mode="json"), allow_private=allow_private)


class RegistryOps:
    def __init__(
        self,
        conn: AsyncConnection,
        principal: Principal,
        *,
        now: datetime,
        reason: str,
        pepper: bytes,
        allow_private: bool,
        payload_key: bool = False,
    ) -> None:
        """``payload_key``: whether this process has PANJEREH_AUDIT_PAYLOAD_KEY, without which
        no service may be set to keep payloads."""
        self.conn = conn
        self.principal = principal
        self.now = now
        self.reason = reason
        self.pepper = pepper
        self.allow_private = allow_private
        self.payload_key = payload_key

    async def _importer(self, action: str) -> _Importer:
        importer = _Importer(
            self.conn,
            actor=self.principal.actor,
            reason=self.reason,
            now=self.now,
            payload_key=self.payload_key,
            allow_private=self.allow_private,
        )
        importer.action = action
        await importer.refresh_ids()
        return importer

    # Reading ----------------------------------------------------------------------------

    async def agency(self, code: str) -> AgencyDoc:
        agency_id = await self.conn.scalar(select(agencies.c.id).where(agencies.c.code == code))
        if agency_id is None:
            raise NotFound("no agency")
        codes = {
            r.id: r.code for r in (await self.conn.execute(select(agencies.c.id, agencies.c.code)))
        }
        return (await _agencies(self.conn, codes))[code]

    async def system(self, ref: str) -> SystemDoc:
        agency, _, code = ref.partition("/")
        require_read_private(self.principal, agency, "system")
        row = (
            await self.conn.execute(
                select(systems.c.id)
                .join(agencies, agencies.c.id == systems.c.agency_id)
                .where(agencies.c.code == agency, systems.c.code == code)
            )
        ).first()
        if row is None:
            raise NotFound("no system")
        codes = {
            r.id: r.code for r in (await self.conn.execute(select(agencies.c.id, agencies.c.code)))
        }
        return (await _systems(self.conn, codes, row.id))[ref]

    async def service(self, service_id: str) -> ServiceDoc:
        importer = await self._importer("read")
        refs = {v: k for k, v in importer.system_ids.items()}
        found = await _services(self.conn, refs, service_id)
        if service_id not in found:
            raise NotFound("no service")
        return found[service_id]

    async def grant(self, consumer: str, service_id: str) -> GrantDoc:
        provider = service_id.split(".", 1)[0]
        if not can_read_grant(self.principal, consumer.split("/", 1)[0], provider):
            raise NotFound("no grant")
        importer = await self._importer("read")
        system_id = importer.system_ids.get(consumer, -1)
        only = (grants.c.consumer_system_id == system_id) & (grants.c.service_id == service_id)
        found = await _grants(self.conn, {v: k for k, v in importer.system_ids.items()}, only)
        if (consumer, service_id) not in found:
            raise NotFound("no grant")
        return found[(consumer, service_id)]

    # Agencies and systems ------------------------------------------------------------------

    async def create_agency(self, doc: AgencyDoc) -> AgencyDoc:
        require_operator(self.principal)
        doc = revalidate(doc, allow_private=self.allow_private)
        exists = await self.conn.scalar(
            select(agencies.c.id).where(
                (agencies.c.code == doc.code) | (agencies.c.legal_id == doc.legal_id)
            )
        )
        if exists is not None:
            raise Conflict("an agency with this code or legal id exists")
        if doc.parent is not None:
            await self.agency(doc.parent)
        importer = await self._importer("agency.create")
        await importer.agencies([doc])
        await bump_version(self.conn, self.now)
        return doc

    async def set_agency_status(self, code: str, status: Status) -> AgencyDoc:
        """Suspending an agency stops every inquiry of its systems at once (within a second)."""
        require_operator(self.principal)
        before = await self.agency(code)
        return await self._write_agency(before.model_copy(update={"status": status}), status)

    async def _write_agency(self, doc: AgencyDoc, status: Status) -> AgencyDoc:
        action = "agency.suspend" if status is Status.SUSPENDED else "agency.reactivate"
        return await self._save_agency(doc, action)

    async def _save_agency(self, doc: AgencyDoc, action: str) -> AgencyDoc:
        importer = await self._importer(action)
        await importer.agencies([doc])
        await bump_version(self.conn, self.now)
        return doc

    async def set_agency_network(
        self, code: str, *, private_blocks: list[str], allow_http: bool
    ) -> AgencyDoc:
        """Record where the agency's provider endpoints may be (private address blocks, plain
        http), replacing what was recorded: an operator's decision, never the agency's own
        (one event, "agency.network", with the record before and after).  Services already
        registered are not re-checked here; the exchange applies the new record within a
        second (kept-alive connections are checked against it again)."""
        require_operator(self.principal)
        before = await self.agency(code)
        network = validate_as(
            NetworkDoc,
            {"private_blocks": private_blocks, "allow_http": allow_http},
            allow_private=self.allow_private,
        )
        after = revalidate(
            before.model_copy(update={"network": network}), allow_private=self.allow_private
        )
        return await self._save_agency(after, "agency.network")

    async def create_system(self, doc: SystemDoc) -> SystemDoc:
        require_manage(self.principal, doc.agency, "agency")
        doc = revalidate(
            doc.model_copy(update={"api_keys": [], "signing_keys": []}),
            allow_private=self.allow_private,
        )
        await self.agency(doc.agency)
        try:
            await self.system(doc.ref)
        except NotFound:
            pass
        else:
            raise Conflict("this system exists")
        return await self._write_system(doc, "system.create")

    async def _write_system(self, doc: SystemDoc, action: str) -> SystemDoc:
        importer = await self._importer(action)
        await importer.systems([doc])
        await bump_version(self.conn, self.now)
        return doc

    async def set_system_status(self, ref: str, status: Status) -> SystemDoc:
        require_operator(self.principal)
        before = await self.system(ref)
        action = "system.suspend" if status is Status.SUSPENDED else "system.reactivate"
        return await self._write_system(before.model_copy(update={"status": status}), action)

    # Credentials ---------------------------------------------------------------------------

    async def _refuse_if_suspended(self, ref: str, action: str) -> None:
        """A suspended agency's administrator makes no new credential (an operator may): the
        refusal is a control-plane event, and the only thing written."""
        agency = ref.split("/", 1)[0]
        if not self.principal.owns(agency):
            return
        status = await self.conn.scalar(select(agencies.c.status).where(agencies.c.code == agency))
        if status != Status.SUSPENDED.value:
            return
        await ConnectionAuditSink(self.conn).emit(
            AuditEvent(
                self.now,
                self.principal.actor,
                action,
                "system",
                ref,
                self.reason,
                None,
                {"refused": AGENCY_SUSPENDED},
                EventOutcome.REFUSED,
            )
        )
        raise Refused(
            AGENCY_SUSPENDED,
            message_en="Your agency is suspended: no new key is issued until it is reactivated.",
            message_fa="دستگاه شما تعلیق شده است؛ تا رفع تعلیق، کلید تازه‌ای صادر نمی‌شود.",
        )

    async def issue_api_key(
        self, ref: str, *, label: str = "", expires_at: datetime | None = None
    ) -> tuple[str, ApiKeyDoc]:
        """A new key for the system; the plain key is returned once and never stored."""
        require_manage(self.principal, ref.split("/", 1)[0], "system")
        before = await self.system(ref)
        await self._refuse_if_suspended(ref, "api-key.issue")
        key = new_api_key()
        record = ApiKeyDoc(
            prefix=display_prefix(key),
            key_hash=hash_api_key(self.pepper, key),
            label=label,
            created_at=self.now,
            expires_at=expires_at,
        )
        doc = before.model_copy(update={"api_keys": [*before.api_keys, record]})
        await self._write_system(revalidate(doc, allow_private=self.allow_private), "api-key.issue")
        return key, record

    async def rotate_api_key(
        self, ref: str, *, overlap: timedelta, label: str = ""
    ) -> tuple[str, ApiKeyDoc]:
        """Issue a new key; every current key keeps working for ``overlap``, then expires."""
        require_manage(self.principal, ref.split("/", 1)[0], "system")
        before = await self.system(ref)
        await self._refuse_if_suspended(ref, "api-key.rotate")
        cutoff = self.now + overlap
        retired = [
            k.model_copy(update={"expires_at": cutoff})
            if k.revoked_at is None and (k.expires_at is None or k.expires_at > cutoff)
            else k
            for k in before.api_keys
        ]
        key = new_api_key()
        record = ApiKeyDoc(
            prefix=display_prefix(key),
            key_hash=hash_api_key(self.pepper, key),
            label=label,
            created_at=self.now,
        )
        doc = before.model_copy(update={"api_keys": [*retired, record]})
        await self._write_system(
            revalidate(doc, allow_private=self.allow_private), "api-key.rotate"
        )
        return key, record

    async def revoke_api_key(self, ref: str, prefix: str) -> SystemDoc:
        require_manage(self.principal, ref.split("/", 1)[0], "system")
        before = await self.system(ref)
        matching = [k for k in before.api_keys if k.prefix == prefix and k.revoked_at is None]
        if not matching:
            raise NotFound("no active key with that prefix")
        keys = [
            k.model_copy(update={"revoked_at": self.now}) if k in matching else k
            for k in before.api_keys
        ]
        doc = before.model_copy(update={"api_keys": keys})
        return await self._write_system(
            revalidate(doc, allow_private=self.allow_private), "api-key.revoke"
        )

    async def add_signing_key(self, ref: str, key_id: str, public_key: str) -> SystemDoc:
        require_manage(self.principal, ref.split("/", 1)[0], "system")
        check_signing_key(key_id, public_key)
        before = await self.system(ref)
        await self._refuse_if_suspended(ref, "signing-key.add")
        if any(k.key_id == key_id for k in before.signing_keys):
            raise Conflict("a signing key with this key id exists")
        record: dict[str, Any] = {
            "key_id": key_id,
            "public_key": public_key,
            "created_at": self.now,
        }
        doc = SystemDoc.model_validate(
            before.model_dump() | {"signing_keys": [*before.model_dump()["signing_keys"], record]},
            context={"allow_private": self.allow_private},
        )
        return await self._write_system(doc, "signing-key.add")

    async def revoke_signing_key(self, ref: str, key_id: str) -> SystemDoc:
        require_manage(self.principal, ref.split("/", 1)[0], "system")
        before = await self.system(ref)
        if not any(k.key_id == key_id and k.revoked_at is None for k in before.signing_keys):
            raise NotFound("no active signing key with that key id")
        keys = [
            k.model_copy(update={"revoked_at": self.now}) if k.key_id == key_id else k
            for k in before.signing_keys
        ]
        return await self._write_system(
            before.model_copy(update={"signing_keys": keys}), "signing-key.revoke"
        )

    # Services and purposes -----------------------------------------------------------------

    async def save_service(self, doc: ServiceDoc) -> ServiceDoc:
        """Register a service or change it; only its provider's agency (or an operator)."""
        require_manage(self.principal, doc.agency, "agency")
        doc = revalidate(doc, allow_private=self.allow_private)
        provider = await self.system(doc.provider)
        if provider.agency != doc.agency:
            raise InvalidValue(
                "service.provider",
                message_en="A service id starts with its provider system's agency code.",
                message_fa="شناسه خدمت باید با کد دستگاهِ سامانه ارائه‌دهنده شروع شود.",
                field="provider",
            )
        if SystemRole.PROVIDER not in provider.roles:
            raise InvalidValue(
                "service.provider-role",
                message_en="The provider system does not have the provider role.",
                message_fa="سامانه ارائه‌دهنده نقش ارائه‌دهنده ندارد.",
                field="provider",
            )
        try:
            before: ServiceDoc | None = await self.service(doc.id)
        except NotFound:
            before = None
        importer = await self._importer("service.create" if before is None else "service.update")
        await importer.services([doc])
        await bump_version(self.conn, self.now)
        return doc

    async def create_purpose(self, doc: Purpose) -> Purpose:
        require_operator(self.principal)
        if doc.code in await _purposes(self.conn):
            raise Conflict("this purpose exists")
        importer = await self._importer("purpose.create")
        await importer.purposes([doc])
        await bump_version(self.conn, self.now)
        return doc

    # Grants ------------------------------------------------------------------------------

    async def _check_grant_refs(self, doc: GrantDoc) -> None:
        consumer = await self.system(doc.consumer)
        if SystemRole.CONSUMER not in consumer.roles:
            raise InvalidValue(
                "grant.consumer-role",
                message_en="The consumer system does not have the consumer role.",
                message_fa="سامانه مصرف‌کننده نقش مصرف‌کننده ندارد.",
                field="consumer",
            )
        service = await self.service(doc.service)
        if service.status not in (ServiceStatus.ACTIVE, ServiceStatus.DEPRECATED):
            raise Conflict("the service is not active")
        known = await _purposes(self.conn)
        unknown = [p for p in doc.purposes if p not in known]
        if unknown:
            raise InvalidValue(
                "grant.purpose",
                message_en=f"Unknown purpose: {', '.join(unknown)}.",
                message_fa="هدف (مبنای قانونی) ناشناخته است.",
                field="purposes",
            )

    async def _write_grant(self, doc: GrantDoc, action: str) -> GrantDoc:
        doc = revalidate(doc, allow_private=self.allow_private)
        importer = await self._importer(action)
        await importer.grants([doc])
        await bump_version(self.conn, self.now)
        return doc

    async def _existing_grant(self, consumer: str, service_id: str) -> GrantDoc | None:
        try:
            return await self.grant(consumer, service_id)
        except NotFound:
            return None

    async def request_grant(self, doc: GrantDoc) -> GrantDoc:
        """The consumer agency asks; the grant is pending until the provider decides."""
        require_manage(self.principal, doc.consumer.split("/", 1)[0], "system")
        await self._check_grant_refs(doc)
        before = await self._existing_grant(doc.consumer, doc.service)
        if before is not None and before.status in (GrantStatus.ACTIVE, GrantStatus.PENDING):
            raise Conflict(f"a grant is already {before.status.value}")
        pending = doc.model_copy(
            update={
                "status": GrantStatus.PENDING,
                "requested_by": self.principal.actor,
                "requested_at": self.now,
                "decided_by": None,
                "decided_at": None,
            }
        )
        return await self._write_grant(pending, "grant.request")

    async def decide_grant(self, consumer: str, service_id: str, *, approve: bool) -> GrantDoc:
        """The provider agency (or an operator) approves or rejects a pending request."""
        before = await self.grant(consumer, service_id)
        if not can_manage(self.principal, service_id.split(".", 1)[0]):
            raise Forbidden("only the provider's agency or an operator decides on a grant")
        if before.status is not GrantStatus.PENDING:
            raise Conflict(f"the grant is {before.status.value}, not pending")
        decided = before.model_copy(
            update={
                "status": GrantStatus.ACTIVE if approve else GrantStatus.REJECTED,
                "decided_by": self.principal.actor,
                "decided_at": self.now,
            }
        )
        return await self._write_grant(decided, "grant.approve" if approve else "grant.reject")

    async def revoke_grant(self, consumer: str, service_id: str) -> GrantDoc:
        """Either side (or an operator) may end a grant; the exchange refuses at once."""
        before = await self.grant(consumer, service_id)
        consumer_agency = consumer.split("/", 1)[0]
        provider_agency = service_id.split(".", 1)[0]
        if not (
            self.principal.is_operator
            or self.principal.owns(consumer_agency)
            or self.principal.owns(provider_agency)
        ):
            require_manage(self.principal, provider_agency, "grant")
        if before.status not in (GrantStatus.ACTIVE, GrantStatus.PENDING, GrantStatus.SUSPENDED):
            raise Conflict(f"the grant is {before.status.value}")
        revoked = before.model_copy(
            update={
                "status": GrantStatus.REVOKED,
                "decided_by": self.principal.actor,
                "decided_at": self.now,
            }
        )
        return await self._write_grant(revoked, "grant.revoke")

    async def grant_directly(self, doc: GrantDoc) -> GrantDoc:
        """An operator's grant, in force at once (the CLI's `registry grant`)."""
        require_operator(self.principal)
        await self._check_grant_refs(doc)
        before = await self._existing_grant(doc.consumer, doc.service)
        if before is not None and before.status is GrantStatus.ACTIVE:
            raise Conflict("the grant is already active")
        active = doc.model_copy(
            update={
                "status": GrantStatus.ACTIVE,
                "requested_by": doc.requested_by or self.principal.actor,
                "requested_at": doc.requested_at or self.now,
                "decided_by": self.principal.actor,
                "decided_at": self.now,
            }
        )
        return await self._write_grant(
            active, "grant.create" if before is None else "grant.reactivate"
        )


async def run_ops(
    engine: AsyncEngine,
    make: Callable[[AsyncConnection], RegistryOps],
    action: Callable[[RegistryOps], Awaitable[T]],
) -> T:
    """Run ``action`` in one transaction. A `Refused` keeps its event: the transaction
    commits (the refusal changed nothing else), then the refusal is raised."""
    refused: Refused | None = None
    async with engine.begin() as conn:
        try:
            return await action(make(conn))
        except Refused as exc:
            refused = exc
    raise refused
