"""How `panjereh serve` runs uvicorn: one set of options for one process and for several
workers (and for the tests that start the server the same way)."""

from __future__ import annotations

from typing import Any

from panjereh.config import Settings
from panjereh.web.http_guard import GuardedHttpProtocol, HttpLimits


def http_limits(settings: Settings) -> HttpLimits:
    """The ``PANJEREH_HTTP_*`` limits the server's protocol enforces."""
    return HttpLimits(
        max_header_bytes=settings.http_max_header_bytes,
        max_headers=settings.http_max_headers,
        header_timeout=settings.http_header_timeout,
        body_timeout=settings.http_body_timeout,
        max_receiving=settings.http_max_receiving,
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.Config`` / ``uvicorn.run`` (the app aside).

    ``http`` is the guarded httptools protocol (web/http_guard.py): it finds the limits in
    the application's lifespan state, where `PanjerehApp` puts its runtime's guard.
    """
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "lifespan": "on",
        "server_header": False,
        "proxy_headers": False,
        "access_log": settings.log_level == "debug",
        "http": GuardedHttpProtocol,
        "timeout_keep_alive": settings.http_keep_alive,
    }
