"""Agencies, their systems and the systems' keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictBool

from panjereh.domain.text import search_key
from panjereh.interchange.registry_document import (
    AgencyDoc,
    Ed25519PublicKey,
    KeyId,
    SystemDoc,
)
from panjereh.registry.access import Principal, require_read_private
from panjereh.registry.model import Status, SystemRole
from panjereh.web.api.context import (
    AUTHENTICATED,
    OPERATOR,
    OWNER,
    READERS,
    ApiContext,
    Change,
    validated,
)
from panjereh.web.api.shown import SystemView, agency_view, system_view


class AgencyIn(Change):
    agency: AgencyDoc


class NetworkIn(Change):
    """What an operator records on an agency about where its provider endpoints may be."""

    private_blocks: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="Private address blocks (CIDRs, e.g. 10.20.0.0/16) its endpoints may "
        "resolve into; replaces what was recorded.",
    )
    allow_http: StrictBool = Field(
        default=False, description="Allow plain http:// endpoints (otherwise https only)."
    )


class SystemIn(Change):
    code: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    roles: Annotated[list[SystemRole], Field(min_length=1)]


class KeyIn(Change):
    label: Annotated[str, Field(max_length=100)] = ""


class RotateIn(KeyIn):
    overlap_seconds: Annotated[int, Field(ge=0, le=30 * 86400)] = 86400


class SigningKeyIn(Change):
    key_id: KeyId
    public_key: Annotated[Ed25519PublicKey, Field(max_length=100)]


class KeyIssued(BaseModel):
    api_key: str = Field(description="Shown once; only its hash is stored.")
    prefix: str


def router(ctx: ApiContext) -> APIRouter:  # noqa: C901 - a flat list of small handlers
    router = ctx.router()
    caller = ctx.caller()

    # Agencies --------------------------------------------------------------------------

    @router.get("/agencies", openapi_extra=AUTHENTICATED)
    async def list_agencies(search: str | None = None, who: Principal = caller) -> list[AgencyDoc]:
        found = (await ctx.document()).agencies
        if search:
            needle = search_key(search)
            found = [a for a in found if needle in search_key(f"{a.name_fa} {a.name_en} {a.code}")]
        return [agency_view(a, who) for a in found]

    @router.post("/agencies", status_code=201, openapi_extra=OPERATOR)
    async def create_agency(body: AgencyIn, who: Principal = caller) -> AgencyDoc:
        return await ctx.with_ops(who, body.reason, lambda ops: ops.create_agency(body.agency))

    @router.get("/agencies/{code}", openapi_extra=AUTHENTICATED)
    async def get_agency(code: str, who: Principal = caller) -> AgencyDoc:
        return agency_view(await ctx.with_ops(who, "read", lambda ops: ops.agency(code)), who)

    @router.put("/agencies/{code}/network", openapi_extra=OPERATOR)
    async def set_agency_network(code: str, body: NetworkIn, who: Principal = caller) -> AgencyDoc:
        """Record the agency's private address blocks and whether it may use plain http
        (docs/registry.md, "Endpoint URLs"); audited as "agency.network"."""
        return await ctx.with_ops(
            who,
            body.reason,
            lambda ops: ops.set_agency_network(
                code, private_blocks=body.private_blocks, allow_http=body.allow_http
            ),
        )

    @router.post("/agencies/{code}/suspend", openapi_extra=OPERATOR)
    async def suspend_agency(code: str, body: Change, who: Principal = caller) -> AgencyDoc:
        return await ctx.with_ops(
            who, body.reason, lambda ops: ops.set_agency_status(code, Status.SUSPENDED)
        )

    @router.post("/agencies/{code}/reactivate", openapi_extra=OPERATOR)
    async def reactivate_agency(code: str, body: Change, who: Principal = caller) -> AgencyDoc:
        return await ctx.with_ops(
            who, body.reason, lambda ops: ops.set_agency_status(code, Status.ACTIVE)
        )

    # Systems and keys --------------------------------------------------------------------

    @router.get("/agencies/{code}/systems", openapi_extra=READERS)
    async def list_systems(code: str, who: Principal = caller) -> list[SystemView]:
        require_read_private(who, code, "agency")
        return [system_view(s, who) for s in (await ctx.document()).systems if s.agency == code]

    @router.post("/agencies/{code}/systems", status_code=201, openapi_extra=OWNER)
    async def create_system(code: str, body: SystemIn, who: Principal = caller) -> SystemView:
        doc = validated(
            SystemDoc, {"agency": code, "code": body.code, "name": body.name, "roles": body.roles}
        )
        changed = await ctx.with_ops(who, body.reason, lambda ops: ops.create_system(doc))
        return system_view(changed, who)

    @router.get("/systems/{agency}/{system}", openapi_extra=READERS)
    async def get_system(agency: str, system: str, who: Principal = caller) -> SystemView:
        found = await ctx.with_ops(who, "read", lambda ops: ops.system(f"{agency}/{system}"))
        return system_view(found, who)

    @router.post("/systems/{agency}/{system}/suspend", openapi_extra=OPERATOR)
    async def suspend_system(
        agency: str, system: str, body: Change, who: Principal = caller
    ) -> SystemView:
        changed = await ctx.with_ops(
            who,
            body.reason,
            lambda ops: ops.set_system_status(f"{agency}/{system}", Status.SUSPENDED),
        )
        return system_view(changed, who)

    @router.post("/systems/{agency}/{system}/reactivate", openapi_extra=OPERATOR)
    async def reactivate_system(
        agency: str, system: str, body: Change, who: Principal = caller
    ) -> SystemView:
        changed = await ctx.with_ops(
            who, body.reason, lambda ops: ops.set_system_status(f"{agency}/{system}", Status.ACTIVE)
        )
        return system_view(changed, who)

    @router.post("/systems/{agency}/{system}/api-keys", status_code=201, openapi_extra=OWNER)
    async def issue_key(
        agency: str, system: str, body: KeyIn, who: Principal = caller
    ) -> KeyIssued:
        key, record = await ctx.with_ops(
            who, body.reason, lambda ops: ops.issue_api_key(f"{agency}/{system}", label=body.label)
        )
        return KeyIssued(api_key=key, prefix=record.prefix)

    @router.post("/systems/{agency}/{system}/api-keys/rotate", status_code=201, openapi_extra=OWNER)
    async def rotate_key(
        agency: str, system: str, body: RotateIn, who: Principal = caller
    ) -> KeyIssued:
        overlap = timedelta(seconds=body.overlap_seconds)
        key, record = await ctx.with_ops(
            who,
            body.reason,
            lambda ops: ops.rotate_api_key(f"{agency}/{system}", overlap=overlap, label=body.label),
        )
        return KeyIssued(api_key=key, prefix=record.prefix)

    @router.post("/systems/{agency}/{system}/api-keys/{prefix}/revoke", openapi_extra=OWNER)
    async def revoke_key(
        agency: str, system: str, prefix: str, body: Change, who: Principal = caller
    ) -> SystemView:
        changed = await ctx.with_ops(
            who, body.reason, lambda ops: ops.revoke_api_key(f"{agency}/{system}", prefix)
        )
        return system_view(changed, who)

    @router.post("/systems/{agency}/{system}/signing-keys", status_code=201, openapi_extra=OWNER)
    async def add_signing_key(
        agency: str, system: str, body: SigningKeyIn, who: Principal = caller
    ) -> SystemView:
        changed = await ctx.with_ops(
            who,
            body.reason,
            lambda ops: ops.add_signing_key(f"{agency}/{system}", body.key_id, body.public_key),
        )
        return system_view(changed, who)

    @router.post("/systems/{agency}/{system}/signing-keys/{key_id}/revoke", openapi_extra=OWNER)
    async def revoke_signing_key(
        agency: str, system: str, key_id: str, body: Change, who: Principal = caller
    ) -> SystemView:
        changed = await ctx.with_ops(
            who, body.reason, lambda ops: ops.revoke_signing_key(f"{agency}/{system}", key_id)
        )
        return system_view(changed, who)

    return router
