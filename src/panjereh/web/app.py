"""`create_app(settings)`: the whole platform as one ASGI application.

Inquiries (``POST /exchange/v1/services/...``) go straight to the exchange's bare ASGI endpoint;
everything else (portal, metadata, health, the simulated agencies) goes through Starlette.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from panjereh.config import Settings, load_settings, resolve_pepper
from panjereh.domain.clock import Clock, SystemClock
from panjereh.exchange.asgi import SERVICES_PATH, Receive, Scope, Send
from panjereh.simulator.app import create_simulator
from panjereh.web import exchange_meta, health
from panjereh.web.api.app import create_api
from panjereh.web.error_pages import ErrorPages
from panjereh.web.http_guard import GUARD_STATE_KEY
from panjereh.web.operator.routes import routes as operator_routes
from panjereh.web.portal import citizen_routes
from panjereh.web.portal import views as portal
from panjereh.web.runtime import Runtime, freeze_startup_heap
from panjereh.web.security_headers import SecurityHeaders

STATIC = Path(__file__).parent / "portal" / "static"


class PanjerehApp:
    """The ASGI callable served by uvicorn."""

    def __init__(self, runtime: Runtime, web: Starlette) -> None:
        self.runtime = runtime
        self.web = web

        self.secured = SecurityHeaders(web, public_url=runtime.settings.effective_public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(SERVICES_PATH)
        ):
            await self.runtime.inquiry(scope, receive, send)
            return
        if scope["type"] == "lifespan" and "state" in scope:
            # The server's HTTP protocol finds this process's limits here (web/http_guard.py).
            scope["state"][GUARD_STATE_KEY] = self.runtime.http_guard
        await self.secured(scope, receive, send)


def create_app(
    settings: Settings, *, clock: Clock | None = None, serving: bool = False
) -> PanjerehApp:
    """The whole application; ``serving`` for the process of `panjereh serve` (its start-up
    heap is then frozen out of the garbage collector's view, see `freeze_startup_heap`)."""
    runtime = Runtime.build(settings, clock=clock or SystemClock(), pepper=resolve_pepper(settings))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        if serving:
            freeze_startup_heap()
        try:
            yield
        finally:
            await runtime.stop()

    routes: list[BaseRoute] = [
        *portal.routes(runtime),
        *citizen_routes.routes(runtime),
        *operator_routes(runtime),
        *exchange_meta.routes(runtime),
        *health.routes(runtime),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        Mount("/api/v1", app=create_api(runtime)),
    ]
    if settings.simulator_enabled:
        simulator = create_simulator(settings.simulator_seed, exchange_keys=runtime.published_keys)
        routes.append(Mount("/simulator", app=simulator))
    errors = ErrorPages(runtime.clock)
    web = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: errors.http_error, Exception: errors.server_error},
    )
    web.state.runtime = runtime
    return PanjerehApp(runtime, web)


def app_from_environment() -> PanjerehApp:
    """The app of one worker of ``panjereh serve --workers N``: uvicorn calls this factory
    (``panjereh.web.app:app_from_environment``) in every worker process, and the settings come
    from the environment the command prepared."""
    return create_app(load_settings(), serving=True)
