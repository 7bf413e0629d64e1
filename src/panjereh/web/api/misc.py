"""Who am I, purposes, the citizen-service inventory, and an object's history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from panjereh.domain.text import search_key
from panjereh.interchange.registry_document import CitizenServiceDoc, Purpose
from panjereh.registry.access import Forbidden, Principal
from panjereh.registry.fields import owner_of, shown_document
from panjereh.storage.events_repo import events_for
from panjereh.web.api.context import AUTHENTICATED, OPERATOR, ApiContext, Change


class PurposeIn(Change):
    purpose: Purpose


def router(ctx: ApiContext) -> APIRouter:
    router = ctx.router()
    caller = ctx.caller()

    @router.get("/me", openapi_extra=AUTHENTICATED)
    async def me(who: Principal = caller) -> dict[str, Any]:
        return {"actor": who.actor, "role": who.role.value, "agency": who.agency}

    # Purposes, citizen services, history -----------------------------------------------------

    @router.get("/purposes", openapi_extra=AUTHENTICATED)
    async def list_purposes(who: Principal = caller) -> list[Purpose]:
        return (await ctx.document()).purposes

    @router.post("/purposes", status_code=201, openapi_extra=OPERATOR)
    async def create_purpose(body: PurposeIn, who: Principal = caller) -> Purpose:
        return await ctx.with_ops(who, body.reason, lambda ops: ops.create_purpose(body.purpose))

    @router.get("/citizen-services", openapi_extra=AUTHENTICATED)
    async def list_citizen_services(
        agency: str | None = None, search: str | None = None, who: Principal = caller
    ) -> list[CitizenServiceDoc]:
        found = (await ctx.document()).citizen_services
        if agency:
            found = [c for c in found if c.agency == agency]
        if search:
            needle = search_key(search)
            found = [c for c in found if needle in search_key(f"{c.title_fa} {c.title_en}")]
        return found

    @router.get("/events", openapi_extra={"x-access": "operator-or-auditor"})
    async def history(
        object_type: str, object_id: str, who: Principal = caller
    ) -> list[dict[str, Any]]:
        """An object's registry events, oldest first; credential hashes in ``before`` and
        ``after`` are blanked (the stored, chained events keep them)."""
        if not who.reads_everything:  # refused by the route's role gate before it gets here
            raise Forbidden("only an operator or an auditor reads histories")
        async with ctx.transaction() as conn:
            found = await events_for(conn, object_type, object_id)
        owner = owner_of(object_type, object_id)
        return [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "reason": e.reason,
                "before": shown_document(e.before, who, object_type, owner=owner),
                "after": shown_document(e.after, who, object_type, owner=owner),
                "outcome": e.outcome.value,
            }
            for e in found
        ]

    return router
