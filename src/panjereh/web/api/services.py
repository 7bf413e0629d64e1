"""Services: the directory, one service, its OpenAPI, registering and changing one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from panjereh.interchange.registry_document import ServiceDoc
from panjereh.registry.access import Principal
from panjereh.storage.listings import list_services_page
from panjereh.storage.tables import BIGINT_MAX
from panjereh.web.api.context import AUTHENTICATED, OWNER, ApiContext, Change, validated
from panjereh.web.api.shown import ServiceView, service_view


class ServicePut(Change):
    service: dict[str, Any]


def router(ctx: ApiContext) -> APIRouter:
    router = ctx.router()
    caller = ctx.caller()

    # Services ------------------------------------------------------------------------------

    @router.get("/services", openapi_extra=AUTHENTICATED)
    async def list_services(
        search: str | None = None,
        agency: str | None = None,
        allowed: Annotated[
            bool, Query(description="Only services the caller's agency holds an active grant on.")
        ] = False,
        limit: Annotated[int, Query(ge=1, le=2000)] = 200,
        offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
        who: Principal = caller,
    ) -> list[dict[str, Any]]:
        async with ctx.transaction() as conn:
            return await list_services_page(
                conn,
                search=search,
                agency=agency,
                granted_to=(who.agency or "") if allowed else None,
                limit=limit,
                offset=offset,
            )

    @router.get("/services/{service_id}", openapi_extra=AUTHENTICATED)
    async def get_service(service_id: str, who: Principal = caller) -> ServiceView:
        """One service; its endpoint and provider system only for whom they concern."""
        doc = await ctx.with_ops(who, "read", lambda ops: ops.service(service_id))
        return service_view(doc, who)

    @router.get("/services/{service_id}/openapi.json", openapi_extra=AUTHENTICATED)
    async def service_openapi(service_id: str, who: Principal = caller) -> dict[str, Any]:
        doc = await ctx.with_ops(who, "read", lambda ops: ops.service(service_id))
        return _service_openapi(doc)

    @router.put("/services/{service_id}", openapi_extra=OWNER)
    async def save_service(
        service_id: str, body: ServicePut, who: Principal = caller
    ) -> ServiceView:
        data = body.service | {"id": service_id}
        doc = validated(
            ServiceDoc, data, allow_private=ctx.runtime.settings.allow_private_endpoints
        )
        saved = await ctx.with_ops(who, body.reason, lambda ops: ops.save_service(doc))
        return service_view(saved, who)

    return router


def _service_openapi(doc: ServiceDoc) -> dict[str, Any]:
    """One service as an OpenAPI 3.1 document (X-Road's getOpenAPI)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": doc.name_en,
            "version": doc.id.rsplit(".", 1)[1],
            "description": doc.description_en,
        },
        "paths": {
            f"/exchange/v1/services/{doc.id}": {
                "post": {
                    "operationId": doc.id,
                    "summary": doc.name_en,
                    "security": [{"ApiKey": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": doc.request_schema}},
                    },
                    "responses": {
                        "200": {
                            "description": "The provider's answer.",
                            "content": {"application/json": {"schema": doc.response_schema}},
                        },
                        "default": {
                            "description": "A problem (see the exchange's OpenAPI).",
                            "content": {"application/problem+json": {"schema": {"type": "object"}}},
                        },
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "Authorization"}
            }
        },
    }
