"""The exchange refuses to call a provider at an address it must not reach (SSRF), end to end.

A provider endpoint is registered by *name*; what matters is the address the name resolves to
when the exchange connects.  These tests answer the names themselves, through the event loop's
``getaddrinfo`` (what the exchange's default resolver asks; no /etc/hosts), so a name can
resolve to loopback, to several addresses, or change its answer between two calls.  The
platform runs with production rules (``allow_private_endpoints`` off) unless a test says
otherwise, on SQLite and PostgreSQL.  Each refusal is checked as the consumer sees it
(problem+json), as the audit log keeps it, in the metrics and in the log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from sqlalchemy.engine import make_url

from panjereh.audit.records import Outcome
from panjereh.exchange.http1 import Dialer
from panjereh.storage.tables import agencies
from tests.integration.exchange.harness import (
    PERSON_ID,
    Platform,
    Provider,
    prepare_database,
    running,
)

REFUSED = "provider-address-refused"
NAME = "person.civil-registry.example"
AddrInfo = tuple[Any, ...]


class Dns:
    """Answers for the names a test makes up, in place of the event loop's getaddrinfo; any
    other name is resolved as usual.  ``asked`` counts the questions per name."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.answers: dict[str, list[str]] = {}
        self.asked: dict[str, int] = {}
        self._real = loop.getaddrinfo

    async def getaddrinfo(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> Sequence[AddrInfo]:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return await self._real(host, port, family=family, type=type, proto=proto, flags=flags)
        self.asked[name] = self.asked.get(name, 0) + 1
        number = int(port or 0)
        found: list[AddrInfo] = []
        for text in self.answers[name]:
            if ipaddress.ip_address(text).version == 6:
                found.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, number, 0, 0)))
            else:
                found.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, number)))
        return found


@pytest.fixture
async def dns(monkeypatch: pytest.MonkeyPatch) -> Dns:
    loop = asyncio.get_running_loop()
    made = Dns(loop)
    monkeypatch.setattr(loop, "getaddrinfo", made.getaddrinfo)
    return made


@pytest.fixture
async def platform(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Platform]:
    """The platform with production rules for provider addresses, on both backends."""
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var", allow_private_endpoints=False) as made:
        yield made


@pytest.fixture
async def sqlite_platform(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Platform]:
    """The same on SQLite only, for what the storage has no part in (how names resolve)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'exchange.db'}"
    await prepare_database(url, sqlite_template)
    async with running(url, tmp_path / "var", allow_private_endpoints=False) as made:
        yield made


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="panjereh.exchange.transport")
    return caplog


async def _point(platform: Platform, url: str, **values: Any) -> None:
    await platform.set_service(PERSON_ID, endpoint_url=url, **values)


async def _allow(platform: Platform, *, blocks: str = "", http: bool = False) -> None:
    """What an operator records on the provider's agency (set here straight in its row)."""
    async with platform.changing_registry() as conn:
        await conn.execute(
            update(agencies)
            .where(agencies.c.code == "civil-registry")
            .values(private_blocks=blocks, allow_http=http)
        )


def _refusals(platform: Platform) -> float:
    """panjereh_inquiries_total for the person service refused for its provider's address."""
    text = platform.app.runtime.metrics_text().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "panjereh_inquiries_total" and sample.labels == {
                "service": PERSON_ID,
                "outcome": "failed",
                "error": REFUSED,
            }:
                return sample.value
    return 0.0


async def _assert_refused(
    platform: Platform, response: httpx.Response, provider: Provider, address: str
) -> None:
    assert response.status_code == 502, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-error-source"] == "provider"
    assert response.json()["code"] == REFUSED
    assert address not in response.text  # the provider's network is not the consumer's business
    assert provider.calls == []
    record = await platform.record(response)
    assert record.outcome is Outcome.FAILED
    assert record.error_type == REFUSED
    assert _refusals(platform) >= 1


def _port(provider: Provider) -> int:
    port = httpx.URL(provider.url).port
    assert port is not None
    return port


# Names that resolve where the exchange must not go --------------------------------------------


async def test_a_name_resolving_to_loopback_is_refused_once_recorded_counted_and_logged(
    platform: Platform, provider: Provider, dns: Dns, logs: pytest.LogCaptureFixture
) -> None:
    dns.answers[NAME] = ["127.0.0.1"]
    await _point(platform, f"http://{NAME}:{_port(provider)}/person", idempotent=True)

    response = await platform.ask()

    await _assert_refused(platform, response, provider, "127.0.0.1")
    assert dns.asked[NAME] == 1  # not retried: the name would lead to the same place
    line = next(r.getMessage() for r in logs.records if "refused" in r.getMessage())
    assert PERSON_ID in line
    assert NAME in line
    assert "127.0.0.1" in line
    assert "loopback" in line


async def test_an_ipv4_mapped_ipv6_answer_is_refused_as_its_ipv4_address(
    sqlite_platform: Platform, provider: Provider, dns: Dns
) -> None:
    for number, address in enumerate(("::ffff:127.0.0.1", "::ffff:169.254.169.254")):
        name = f"mapped-{number}.civil-registry.example"
        dns.answers[name] = [address]
        await _point(sqlite_platform, f"http://{name}:{_port(provider)}/person", timeout_ms=300)

        response = await sqlite_platform.ask()

        await _assert_refused(sqlite_platform, response, provider, address)


async def test_a_name_with_one_bad_address_among_several_is_refused(
    sqlite_platform: Platform, provider: Provider, dns: Dns
) -> None:
    await _allow(sqlite_platform, blocks="10.20.0.0/16", http=True)
    dns.answers[NAME] = ["10.20.0.7", "127.0.0.1"]  # the first would be fine
    await _point(sqlite_platform, f"http://{NAME}:{_port(provider)}/person")

    response = await sqlite_platform.ask()

    await _assert_refused(sqlite_platform, response, provider, "127.0.0.1")


# What an operator allows -------------------------------------------------------------------


class Redirect:
    """Connects wherever the exchange asks to the capturing provider, and notes the address and
    the host name the exchange asked for (no real private network in a test)."""

    def __init__(self, provider: Provider) -> None:
        self.port = _port(provider)
        self.asked: list[tuple[str, int, str | None]] = []

    async def __call__(
        self,
        factory: Any,
        address: str,
        port: int,
        *,
        ssl: Any = None,
        server_hostname: str | None = None,
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        self.asked.append((address, port, server_hostname))
        loop = asyncio.get_running_loop()
        return await loop.create_connection(factory, "127.0.0.1", self.port)


async def test_private_addresses_only_inside_the_agencys_blocks_and_http_only_if_allowed(
    platform: Platform, provider: Provider, dns: Dns
) -> None:
    await _allow(platform, blocks="10.20.0.0/16")
    redirect = Redirect(provider)
    platform.app.runtime.transport.dialer = Dialer(connect=redirect)
    dns.answers[NAME] = ["10.20.3.4"]
    dns.answers[f"outside.{NAME}"] = ["10.21.0.1"]
    await _point(platform, f"http://{NAME}:8443/person")

    https_only = await platform.ask()
    await _allow(platform, blocks="10.20.0.0/16", http=True)
    first = await platform.ask()
    second = await platform.ask()
    await _point(platform, f"http://outside.{NAME}:8443/person")
    outside = await platform.ask()

    assert https_only.json()["code"] == REFUSED
    assert first.status_code == second.status_code == 200, first.text
    assert redirect.asked == [("10.20.3.4", 8443, None)]  # the checked address; kept alive
    assert dns.asked[NAME] == 2  # once refused, once for the one new connection
    assert [call.headers["host"] for call in provider.calls] == [f"{NAME}:8443"] * 2
    provider.calls.clear()
    await _assert_refused(platform, outside, provider, "10.21.0.1")


async def test_a_name_that_rebinds_to_loopback_after_registration_is_refused_at_the_call(
    sqlite_platform: Platform, provider: Provider, dns: Dns
) -> None:
    await _allow(sqlite_platform, blocks="10.20.0.0/16", http=True)
    transport = sqlite_platform.app.runtime.transport
    transport.dialer = Dialer(connect=Redirect(provider))
    dns.answers[NAME] = ["10.20.3.4"]  # what it resolved to when it was registered
    await _point(sqlite_platform, f"http://{NAME}:8443/person")
    assert (await sqlite_platform.ask()).status_code == 200
    await transport.close()  # the next call needs a new connection
    await transport.start()

    dns.answers[NAME] = ["127.0.0.1"]
    response = await sqlite_platform.ask()

    provider.calls.clear()
    await _assert_refused(sqlite_platform, response, provider, "127.0.0.1")


# The platform's own services --------------------------------------------------------------


@pytest.fixture
async def dev_platform(
    database_url: str, sqlite_template: Path, tmp_path: Path, redis_url: str
) -> AsyncIterator[Platform]:
    """The platform as `make run` has it (private endpoints allowed), with Redis."""
    await prepare_database(database_url, sqlite_template)
    async with running(
        database_url, tmp_path / "var", allow_private_endpoints=True, redis_url=redis_url
    ) as platform:
        yield platform


async def test_in_development_loopback_works_but_not_the_platforms_own_services(
    dev_platform: Platform,
    provider: Provider,
    database_url: str,
    redis_url: str,
    logs: pytest.LogCaptureFixture,
) -> None:
    await _point(dev_platform, provider.url)
    assert (await dev_platform.ask()).status_code == 200
    provider.calls.clear()
    own = [make_url(redis_url)]
    if not database_url.startswith("sqlite"):
        own.append(make_url(database_url))

    for url in own:
        default = 6379 if url.drivername.startswith("redis") else 5432
        await _point(dev_platform, f"http://{url.host}:{url.port or default}/")
        response = await dev_platform.ask()
        await _assert_refused(dev_platform, response, provider, str(url.host))
    said = logs.text
    assert "the platform's own redis" in said
    assert database_url.startswith("sqlite") or "the platform's own database" in said
