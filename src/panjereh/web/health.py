"""Liveness, readiness and metrics, for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from panjereh.exchange.metrics import CONTENT_TYPE
from panjereh.web.client_address import client_address
from panjereh.web.policy import Access, route
from panjereh.web.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    token = runtime.settings.metrics_token
    expected = f"Bearer {token.get_secret_value()}".encode() if token is not None else None

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        checks = await runtime.readiness()
        failed = sorted(name for name, ok in checks.items() if not ok)
        body: dict[str, object] = {"status": "not-ready" if failed else "ready", "checks": checks}
        if failed:
            body["failed"] = failed
        if runtime.audit_cut is not None:  # the reason, for the operator who is paged
            body["audit_cut"] = runtime.audit_cut
        return JSONResponse(body, status_code=503 if failed else 200)

    async def metrics(request: Request) -> Response:
        if expected is None:
            if not _from_loopback(request, runtime.settings.trusted_forwarders):
                return _not_found()
        elif not hmac.compare_digest(
            request.headers.get("authorization", "").encode("latin-1"), expected
        ):
            return JSONResponse(
                {
                    "type": "/problems/unauthenticated",
                    "title": "Authentication required",
                    "status": 401,
                    "code": "unauthenticated",
                    "detail": "Send 'Authorization: Bearer <PANJEREH_METRICS_TOKEN>'.",
                },
                status_code=401,
                media_type="application/problem+json",
                headers={"www-authenticate": 'Bearer realm="metrics"'},
            )
        return Response(runtime.metrics_text(), media_type=CONTENT_TYPE)

    return [
        route("/healthz", healthz, access=Access.PUBLIC),
        route("/readyz", readyz, access=Access.PUBLIC),
        route("/metrics", metrics, access=Access.MONITORING),
    ]


def _from_loopback(request: Request, trusted_forwarders: Sequence[str]) -> bool:
    """The client's address (`client_address`): behind a reverse proxy listed in
    PANJEREH_TRUSTED_FORWARDERS the client it names, so a local proxy no longer makes every
    scrape loopback; a proxy that is not listed still does (set PANJEREH_METRICS_TOKEN)."""
    address = client_address(request, trusted_forwarders)
    return address is not None and ipaddress.ip_address(address).is_loopback


def _not_found() -> JSONResponse:
    return JSONResponse(
        {"type": "/problems/not-found", "title": "Not found", "status": 404, "code": "not-found"},
        status_code=404,
        media_type="application/problem+json",
    )
