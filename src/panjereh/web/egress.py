"""The platform's own servers, which the exchange never calls as a provider (SSRF).

The database, Redis and NATS named in the settings are resolved once, when the runtime starts,
with the transport's resolver, and handed to the transport (`ProviderTransport.protect`): the
core never reads settings.  A name that does not resolve then is logged and left out (the
server it names cannot be reached by its name either).  SQLite files and Unix sockets have no
address to protect.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from panjereh.config import Settings
from panjereh.exchange.egress import OwnServer
from panjereh.exchange.http1 import Resolver
from panjereh.registry.addresses import literal_address, unwrapped

log = logging.getLogger(__name__)

RESOLVE_SECONDS = 5.0  # a name that takes longer is left out, with a warning
DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "rediss": 6379, "nats": 4222, "tls": 4222}


def own_endpoints(settings: Settings) -> list[tuple[str, str, int]]:
    """(server, host, port) of every network server the settings name."""
    found: list[tuple[str, str, int]] = []
    if settings.database_url is not None:
        found += _hosts("database", settings.database_url)
    if settings.redis_url is not None:
        found += _hosts("redis", settings.redis_url)
    if settings.nats_url is not None:
        for url in settings.nats_url.split(","):
            found += _hosts("nats", url)
    return found


def _hosts(server: str, url: str) -> list[tuple[str, str, int]]:
    """The hosts of one URL (PostgreSQL's may list several: ``h1:5432,h2:5433``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in DEFAULT_PORTS:  # sqlite+aiosqlite, unix://
        return []
    found = []
    for item in parts.netloc.rsplit("@", 1)[-1].split(","):
        try:
            host = urlsplit(f"//{item}")
            port = host.port or DEFAULT_PORTS[scheme]
        except ValueError:
            continue
        if host.hostname:
            found.append((server, host.hostname, port))
    return found


async def own_servers(settings: Settings, resolve: Resolver) -> list[OwnServer]:
    """Every address of the platform's own servers, resolved now."""
    found: list[OwnServer] = []
    for server, host, port in own_endpoints(settings):
        literal = literal_address(host)
        if literal is not None:
            found.append(OwnServer(server, unwrapped(literal), port))
            continue
        try:
            async with asyncio.timeout(RESOLVE_SECONDS):
                addresses = [literal_address(text) for text in await resolve(host, port)]
        except (OSError, UnicodeError, TimeoutError) as exc:
            log.warning("the %s's host %s did not resolve (%r)", server, host, exc)
            continue
        found += [OwnServer(server, unwrapped(a), port) for a in addresses if a is not None]
    return found
