"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

from panjereh.web.policy import Access, route
from panjereh.web.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        checks = {
            "registry_snapshot": runtime.registry.loaded,
            "audit_writer": runtime.audit.healthy,
        }
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not-ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return [
        route("/healthz", healthz, access=Access.PUBLIC),
        route("/readyz", readyz, access=Access.PUBLIC),
    ]
