"""Public metadata of the exchange: the service directory and the OpenAPI description."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from panjereh.domain.echo import quoted
from panjereh.exchange.inquiry import CHALLENGE
from panjereh.exchange.openapi import exchange_openapi
from panjereh.exchange.problems import UNKNOWN_SERVICE, Problem
from panjereh.registry.model import Service
from panjereh.web.policy import Access, route
from panjereh.web.runtime import Runtime


def describe(service: Service) -> dict[str, Any]:
    return {
        "id": service.id,
        "agency": service.agency.code,
        "name_fa": service.name_fa,
        "name_en": service.name_en,
        "description_fa": service.description_fa,
        "description_en": service.description_en,
        "subject_kind": service.subject_kind.value,
        "status": service.status.value,
    }


def routes(runtime: Runtime) -> list[BaseRoute]:
    spec = exchange_openapi()

    async def openapi(_request: Request) -> JSONResponse:
        return JSONResponse(spec)

    async def list_services(request: Request) -> Response:
        """Every active service; ``?allowed=true`` (with the caller's API key): those the
        calling system holds a grant on (X-Road's listMethods / allowedMethods)."""
        snapshot = runtime.registry.current
        services = sorted(snapshot.services.values(), key=lambda s: s.id)
        if request.query_params.get("allowed", "").lower() in ("true", "1", "yes"):
            headers = {k.lower(): v for k, v in request.headers.items()}
            try:
                system = runtime.handler.authenticator.by_api_key(headers)
            except Problem as problem:
                return Response(
                    problem.body(instance=request.url.path),
                    status_code=problem.kind.status,
                    media_type="application/problem+json",
                    headers={"www-authenticate": CHALLENGE["www-authenticate"]}
                    if problem.kind.status == 401
                    else None,
                )
            granted = set(snapshot.granted_services(system.id))
            services = [s for s in services if s.id in granted]
        return JSONResponse({"services": [describe(s) for s in services if s.is_callable]})

    async def get_service(request: Request) -> Response:
        service_id = request.path_params["service_id"]
        service = runtime.registry.current.services.get(service_id)
        if service is None or not service.is_callable:
            problem = Problem(UNKNOWN_SERVICE, f"There is no service {quoted(service_id)}.")
            return Response(
                problem.body(instance=request.url.path),
                status_code=404,
                media_type="application/problem+json",
            )
        return JSONResponse(describe(service))

    async def keys(_request: Request) -> JSONResponse:
        """The exchange's public signing keys (JWKS): verify its signatures with these."""
        return JSONResponse(runtime.published_keys(), headers={"cache-control": "max-age=300"})

    return [
        route("/exchange/v1/openapi.json", openapi, access=Access.PUBLIC),
        route("/exchange/v1/keys", keys, access=Access.PUBLIC),
        route("/exchange/v1/services", list_services, access=Access.PUBLIC_OR_SYSTEM_KEY),
        route("/exchange/v1/services/{service_id}", get_service, access=Access.PUBLIC),
        # The inquiry itself: `PanjerehApp` hands a POST here to the endpoint before routing;
        # the route is listed so that a 405 on the path names POST in its Allow.
        route(
            "/exchange/v1/services/{service_id}",
            runtime.inquiry,
            access=Access.SYSTEM_KEY,
            methods=("POST",),
        ),
    ]
