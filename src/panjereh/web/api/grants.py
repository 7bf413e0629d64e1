"""Grants: requests, decisions, revocations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from panjereh.interchange.registry_document import GrantDoc, Pointer
from panjereh.registry.access import Principal, can_read_grant
from panjereh.registry.model import GrantStatus
from panjereh.web.api.context import PARTIES, ApiContext, Change, validated


class GrantRequestIn(Change):
    consumer: str
    service: str
    purposes: Annotated[list[str], Field(min_length=1)]
    projection: list[Pointer] | None = None
    justification: Annotated[str, Field(min_length=3, max_length=4000)]


def router(ctx: ApiContext) -> APIRouter:
    router = ctx.router()
    caller = ctx.caller()

    # Grants ---------------------------------------------------------------------------------

    @router.get("/grants", openapi_extra=PARTIES)
    async def list_grants(
        status: GrantStatus | None = None, service: str | None = None, who: Principal = caller
    ) -> list[GrantDoc]:
        found = [
            g
            for g in (await ctx.document()).grants
            if can_read_grant(who, g.consumer.split("/", 1)[0], g.service.split(".", 1)[0])
        ]
        if status is not None:
            found = [g for g in found if g.status is status]
        if service is not None:
            found = [g for g in found if g.service == service]
        return found

    @router.post(
        "/grants", status_code=201, openapi_extra={"x-access": "consumer-agency-or-operator"}
    )
    async def request_grant(body: GrantRequestIn, who: Principal = caller) -> GrantDoc:
        doc = validated(
            GrantDoc,
            {
                "consumer": body.consumer,
                "service": body.service,
                "purposes": body.purposes,
                "projection": body.projection,
                "justification": body.justification,
                "status": "pending",
            },
        )
        return await ctx.with_ops(who, body.reason, lambda ops: ops.request_grant(doc))

    @router.get("/grants/{agency}/{system}/{service_id}", openapi_extra=PARTIES)
    async def get_grant(
        agency: str, system: str, service_id: str, who: Principal = caller
    ) -> GrantDoc:
        return await ctx.with_ops(
            who, "read", lambda ops: ops.grant(f"{agency}/{system}", service_id)
        )

    @router.post(
        "/grants/{agency}/{system}/{service_id}/approve",
        openapi_extra={"x-access": "provider-agency-or-operator"},
    )
    async def approve_grant(
        agency: str, system: str, service_id: str, body: Change, who: Principal = caller
    ) -> GrantDoc:
        return await ctx.with_ops(
            who,
            body.reason,
            lambda ops: ops.decide_grant(f"{agency}/{system}", service_id, approve=True),
        )

    @router.post(
        "/grants/{agency}/{system}/{service_id}/reject",
        openapi_extra={"x-access": "provider-agency-or-operator"},
    )
    async def reject_grant(
        agency: str, system: str, service_id: str, body: Change, who: Principal = caller
    ) -> GrantDoc:
        return await ctx.with_ops(
            who,
            body.reason,
            lambda ops: ops.decide_grant(f"{agency}/{system}", service_id, approve=False),
        )

    @router.post(
        "/grants/{agency}/{system}/{service_id}/revoke",
        openapi_extra={"x-access": "consumer-or-provider-agency-or-operator"},
    )
    async def revoke_grant(
        agency: str, system: str, service_id: str, body: Change, who: Principal = caller
    ) -> GrantDoc:
        return await ctx.with_ops(
            who, body.reason, lambda ops: ops.revoke_grant(f"{agency}/{system}", service_id)
        )

    return router
