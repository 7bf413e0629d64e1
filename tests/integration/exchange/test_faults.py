"""The exchange in front of failing providers, over real HTTP, on SQLite and PostgreSQL.

A fault proxy (tests/faults.py) sits between the exchange and the simulated civil registry:
passing bytes through (the exchange's signature still verifies), hanging, dropping, resetting,
or answering as a broken provider would.  Each test checks the consumer's answer (status,
problem code, X-Error-Source, Retry-After), the audit record of the inquiry, and that nothing
of a provider's failing body reaches the consumer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from panjereh.audit.records import Outcome
from panjereh.config import Settings
from panjereh.domain.clock import utc_now
from panjereh.exchange.resilience import Breakers, BreakerSettings, BreakerState
from panjereh.storage.registry_repo import bump_version, registry_version
from panjereh.storage.tables import services
from tests.faults import Answer, Fault, FaultProxy
from tests.integration.conftest import Live

SERVICE = "civil-registry.person.v1"
PERSON = f"/exchange/v1/services/{SERVICE}"
OTHER_PROVIDER = "/exchange/v1/services/health-insurance.coverage.v1"
UPSTREAM_PATH = "/simulator/civil-registry/person"
SECRET = "Traceback: psycopg.OperationalError at db-07.civil.internal password=hunter2"
MAX_PROVIDER_BODY = 4 * 1024 * 1024


@pytest.fixture
def dev_settings(dev_settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The shared settings, with a test's overrides (``indirect`` parametrization)."""
    overrides: dict[str, Any] = getattr(request, "param", {})
    return dev_settings.model_copy(update=overrides)


@pytest.fixture
async def proxy(live: Live) -> AsyncIterator[FaultProxy]:
    """A pass-through fault proxy in front of the simulated civil registry, which the person
    service now points at."""
    upstream = httpx.URL(live.url).port
    assert upstream is not None
    async with FaultProxy(upstream) as proxy:
        await _route(live, proxy.url(UPSTREAM_PATH))
        yield proxy


async def test_a_pass_through_proxy_keeps_the_exchanges_signature_valid(
    live: Live, proxy: FaultProxy
) -> None:
    response = await _inquire(live)
    assert response.status_code == 200
    assert response.json()["national_code"] == live.citizen
    assert proxy.connections == 1
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.OK


async def test_a_hanging_provider_is_answered_provider_timeout_within_the_services_timeout(
    live: Live, proxy: FaultProxy
) -> None:
    await _route(live, proxy.url(UPSTREAM_PATH), timeout_ms=400)
    proxy.fault = Fault.HANG
    started = time.monotonic()
    response = await _inquire(live)
    elapsed = time.monotonic() - started
    await _assert_refused(live, response, 504, "provider-timeout", "provider")
    assert 0.35 <= elapsed < 1.5
    assert proxy.connections == 1  # a timeout is not retried: the time is used up


async def test_a_slow_provider_within_the_timeout_is_answered(
    live: Live, proxy: FaultProxy
) -> None:
    await _route(live, proxy.url(UPSTREAM_PATH), timeout_ms=2000)
    proxy.delay_ms = 300
    started = time.monotonic()
    response = await _inquire(live)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "answer",
    [
        Answer(500, f'{{"error": "{SECRET}"}}'.encode()),
        Answer(503, f"<h1>{SECRET}</h1>".encode(), "text/html"),
        Answer(200, f'{{"first_name": "{SECRET}", '.encode()),
        Answer(200, SECRET.encode(), "text/plain"),
        Answer(302, f'{{"location": "{SECRET}"}}'.encode()),
        Answer(200, b'{"first_name": "' + b"x" * MAX_PROVIDER_BODY + f'{SECRET}"}}'.encode()),
    ],
    ids=["500", "503-html", "invalid-json", "not-json", "redirect", "huge-body"],
)
async def test_a_broken_answer_is_provider_error_and_its_body_stays_inside(
    live: Live, proxy: FaultProxy, answer: Answer
) -> None:
    proxy.fault = Fault.HTTP
    proxy.answer = answer
    response = await _inquire(live)
    await _assert_refused(live, response, 502, "provider-error", "provider")
    assert SECRET not in response.text
    assert "hunter2" not in response.text
    assert not any("hunter2" in value for value in response.headers.values())


async def test_an_answer_that_is_not_http_is_provider_error(live: Live, proxy: FaultProxy) -> None:
    proxy.fault = Fault.GARBAGE
    response = await _inquire(live)
    await _assert_refused(live, response, 502, "provider-error", "provider")
    assert "SSH" not in response.text


@pytest.mark.parametrize("fault", [Fault.DROP, Fault.RESET])
async def test_a_provider_that_closes_the_connection_is_provider_unavailable(
    live: Live, proxy: FaultProxy, fault: Fault
) -> None:
    proxy.fault = fault
    response = await _inquire(live)
    await _assert_refused(live, response, 502, "provider-unavailable", "provider")
    assert proxy.connections == 2  # the service is idempotent: one retry, then no more


async def test_a_provider_that_is_down_is_provider_unavailable(
    live: Live, proxy: FaultProxy
) -> None:
    await proxy.close()  # nothing listens on its port any more
    response = await _inquire(live)
    await _assert_refused(live, response, 502, "provider-unavailable", "provider")


async def test_the_breaker_opens_after_five_failures_and_a_probe_closes_it(
    live: Live, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    skipped = [0.0]  # seconds the breakers' clock is ahead of the real one
    breakers = Breakers(BreakerSettings(), clock=lambda: time.monotonic() + skipped[0])
    monkeypatch.setattr(live.app.runtime.handler.gateway, "breakers", breakers)
    proxy.fault = Fault.HTTP
    proxy.answer = Answer(500, SECRET.encode(), "text/plain")
    for _ in range(5):
        await _assert_refused(live, await _inquire(live), 502, "provider-error", "provider")
    assert proxy.connections == 5

    refused = await _inquire(live)
    await _assert_refused(live, refused, 503, "circuit-open", "exchange", retry_after=True)
    assert int(refused.headers["retry-after"]) in (4, 5)  # open for 5 s, just opened
    assert proxy.connections == 5  # the provider was not called

    proxy.fault = Fault.PASS
    skipped[0] = BreakerSettings().open_for + 0.1
    probe = await _inquire(live)
    assert probe.status_code == 200
    assert proxy.connections == 6
    assert set(breakers.states().values()) == {BreakerState.CLOSED}
    assert (await _inquire(live)).status_code == 200


@pytest.mark.parametrize(
    "answer",
    [Answer(200, b'{"first_name": '), Answer(200, b"<html></html>", "text/html")],
    ids=["invalid-json", "not-json"],
)
async def test_junk_answered_with_200_counts_against_the_providers_breaker(
    live: Live, proxy: FaultProxy, answer: Answer
) -> None:
    proxy.fault = Fault.HTTP
    proxy.answer = answer
    for _ in range(5):
        await _assert_refused(live, await _inquire(live), 502, "provider-error", "provider")
    refused = await _inquire(live)
    await _assert_refused(live, refused, 503, "circuit-open", "exchange", retry_after=True)
    assert proxy.connections == 5


async def test_a_failed_probe_opens_the_breaker_again(
    live: Live, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    skipped = [0.0]
    breakers = Breakers(BreakerSettings(), clock=lambda: time.monotonic() + skipped[0])
    monkeypatch.setattr(live.app.runtime.handler.gateway, "breakers", breakers)
    proxy.fault = Fault.HTTP
    for _ in range(5):
        await _inquire(live)
    skipped[0] = BreakerSettings().open_for + 0.1
    probe = await _inquire(live)
    await _assert_refused(live, probe, 502, "provider-error", "provider")
    assert proxy.connections == 6
    refused = await _inquire(live)
    await _assert_refused(live, refused, 503, "circuit-open", "exchange", retry_after=True)
    assert int(refused.headers["retry-after"]) > BreakerSettings().open_for  # twice as long
    assert proxy.connections == 6


async def test_an_idempotent_service_is_answered_on_the_retry(
    live: Live, proxy: FaultProxy
) -> None:
    proxy.then(Fault.DROP)
    response = await _inquire(live)
    assert response.status_code == 200
    assert response.json()["national_code"] == live.citizen
    assert proxy.connections == 2
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.OK


async def test_a_service_that_is_not_idempotent_is_not_retried(
    live: Live, proxy: FaultProxy
) -> None:
    await _route(live, proxy.url(UPSTREAM_PATH), idempotent=False)
    proxy.then(Fault.DROP)
    response = await _inquire(live)
    await _assert_refused(live, response, 502, "provider-unavailable", "provider")
    assert proxy.connections == 1


@pytest.mark.parametrize("dev_settings", [{"provider_concurrency": 2}], indirect=True)
async def test_a_full_bulkhead_refuses_at_once_and_spares_other_providers(
    live: Live, proxy: FaultProxy
) -> None:
    await _route(live, proxy.url(UPSTREAM_PATH), timeout_ms=1500)
    proxy.fault = Fault.HANG
    hanging = [asyncio.create_task(_inquire(live)) for _ in range(2)]
    await _until(lambda: proxy.connections == 2)

    started = time.monotonic()
    third = await _inquire(live)
    assert time.monotonic() - started < 0.5
    await _assert_refused(live, third, 503, "overloaded", "exchange", retry_after=True)
    assert proxy.connections == 2
    other = await _inquire(live, OTHER_PROVIDER)
    assert other.status_code < 500
    assert other.headers.get("x-error-source") != "exchange"

    for response in await asyncio.gather(*hanging):
        await _assert_refused(live, response, 504, "provider-timeout", "provider")


@pytest.mark.parametrize("dev_settings", [{"max_in_flight": 2}], indirect=True)
async def test_inquiries_beyond_the_in_flight_limit_are_refused_overloaded(
    live: Live, proxy: FaultProxy
) -> None:
    await _route(live, proxy.url(UPSTREAM_PATH), timeout_ms=1500)
    proxy.fault = Fault.HANG
    hanging = [asyncio.create_task(_inquire(live)) for _ in range(2)]
    await _until(lambda: proxy.connections == 2)

    for path in (PERSON, OTHER_PROVIDER):  # the worker's limit, whichever the provider
        refused = await _inquire(live, path)
        await _assert_refused(live, refused, 503, "overloaded", "exchange", retry_after=True)
    assert proxy.connections == 2

    for response in await asyncio.gather(*hanging):
        await _assert_refused(live, response, 504, "provider-timeout", "provider")
    proxy.fault = Fault.PASS
    assert (await _inquire(live)).status_code == 200  # admitted again once they are done


# Helpers ------------------------------------------------------------------------------------


async def _inquire(live: Live, path: str = PERSON) -> httpx.Response:
    return await live.client.post(
        path,
        json={"national_code": live.citizen},
        headers={"Authorization": f"ApiKey {live.granted_key}", "X-Purpose": "benefit-eligibility"},
    )


async def _assert_refused(
    live: Live,
    response: httpx.Response,
    status: int,
    code: str,
    source: str,
    *,
    retry_after: bool = False,
) -> None:
    """The answer is the expected problem, and its audit record says the same."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.headers["x-error-source"] == source
    assert ("retry-after" in response.headers) is retry_after
    if retry_after:
        assert int(response.headers["retry-after"]) >= 1
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.FAILED
    assert record.error_type == code
    assert record.status_code == status


async def _route(live: Live, endpoint_url: str, **values: object) -> None:
    """Point the person service at ``endpoint_url`` (and change ``values``), as the registry
    would, and wait until the running exchange has the new snapshot."""
    async with live.engine.begin() as conn:
        await conn.execute(
            update(services)
            .where(services.c.id == SERVICE)
            .values(endpoint_url=endpoint_url, **values)
        )
        await bump_version(conn, utc_now())
    target = await registry_version(live.engine)
    await _until(lambda: live.app.runtime.registry.current.version == target)


async def _until(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not reached within {seconds} s")
