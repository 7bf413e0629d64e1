"""GET /metrics: the exchange's Prometheus metrics, and who may read them.

Personas for the access policy: a scraper on this machine (loopback), one elsewhere on the
network, and, with PANJEREH_METRICS_TOKEN set, a scraper with the token, one with a wrong
token and one with none.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from panjereh.config import ConfigError, Environment, Settings, load_settings
from panjereh.web.app import PanjerehApp, create_app
from tests.integration.conftest import Live

PERSON = "/exchange/v1/services/civil-registry.person.v1"
TOKEN = "a-metrics-token-of-32-characters"
LOOPBACK = ("127.0.0.1", 40000)
ELSEWHERE = ("10.20.30.40", 40000)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"ApiKey {key}", "X-Purpose": "benefit-eligibility"}


async def scrape(live: Live) -> Samples:
    response = await live.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


async def test_an_inquiry_moves_the_counter_and_both_histograms(live: Live) -> None:
    answer = await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.granted_key)
    )
    assert answer.status_code == 200
    found = await scrape(live)
    ok = {"service": "civil-registry.person.v1", "outcome": "ok", "error": ""}
    assert value(found, "panjereh_inquiries_total", **ok) == 1
    agency = {"provider": "civil-registry"}
    assert value(found, "panjereh_inquiry_duration_seconds_count", **agency) == 1
    assert value(found, "panjereh_provider_duration_seconds_count", **agency) == 1
    assert value(found, "panjereh_inquiry_duration_seconds_bucket", **agency, le="+Inf") == 1
    seconds = value(found, "panjereh_inquiry_duration_seconds_sum", **agency)
    assert seconds is not None
    assert 0 < seconds < 5
    assert value(found, "panjereh_audit_records_written_total") == await live.audit.count()


async def test_it_publishes_the_state_gauges_after_an_inquiry(live: Live) -> None:
    await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.granted_key)
    )
    found = await scrape(live)
    snapshot = live.app.runtime.registry.current
    provider = snapshot.systems[snapshot.services["civil-registry.person.v1"].provider_system_id]
    assert value(found, "panjereh_circuit_state", provider_system=provider.ident) == 0
    assert value(found, "panjereh_provider_bulkhead_in_use", provider_system=provider.ident) == 0
    assert value(found, "panjereh_audit_queue_depth") == 0
    assert value(found, "panjereh_inquiries_in_flight") == 0
    assert value(found, "panjereh_inquiries_shed_total") == 0
    assert value(found, "panjereh_audit_records_failed_total") == 0
    assert value(found, "panjereh_registry_snapshot_version") == snapshot.version
    assert value(found, "panjereh_worker_inquiries") == 1


async def test_refusals_are_counted_by_outcome_and_error_type(live: Live) -> None:
    await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.stranger_key)
    )
    await live.client.post("/exchange/v1/services/no-such.service.v1", json={})
    found = await scrape(live)
    denied = {"service": "civil-registry.person.v1", "outcome": "denied", "error": "access-denied"}
    assert value(found, "panjereh_inquiries_total", **denied) == 1
    # Refused before a service was found: no service label, no provider agency.
    unknown = {"service": "", "outcome": "denied", "error": "unauthenticated"}
    assert value(found, "panjereh_inquiries_total", **unknown) == 1
    assert value(found, "panjereh_inquiry_duration_seconds_count", provider="") == 1


async def test_a_refused_signature_is_counted_by_its_reason(live: Live) -> None:
    answer = await live.client.post(
        PERSON,
        json={"national_code": live.citizen},
        headers={"Signature-Input": "sig=garbage", "Signature": "sig=:AAAA:"},
    )
    assert answer.status_code == 401
    reason = answer.json()["reason"]
    found = await scrape(live)
    assert value(found, "panjereh_signature_failures_total", reason=reason) == 1


async def test_a_retried_request_id_is_counted_as_a_replay(live: Live) -> None:
    headers = auth(live.granted_key) | {"X-Request-Id": "2b1f7d4e-9a3c-4e8f-b6d1-0c5a7e9f3b21"}
    for _ in range(2):
        answer = await live.client.post(
            PERSON, json={"national_code": live.citizen}, headers=headers
        )
        assert answer.status_code == 200
    found = await scrape(live)
    assert value(found, "panjereh_replays_total", service="civil-registry.person.v1") == 1
    ok = {"service": "civil-registry.person.v1", "outcome": "ok", "error": ""}
    assert value(found, "panjereh_inquiries_total", **ok) == 2


# Who may read /metrics -----------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path / "var")


def client(app: PanjerehApp, peer: tuple[str, int]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=peer)
    return httpx.AsyncClient(transport=transport, base_url="http://panjereh.test")


@pytest.fixture
def open_app(settings: Settings) -> PanjerehApp:
    return create_app(settings)


@pytest.fixture
def token_app(settings: Settings) -> PanjerehApp:
    return create_app(settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}))


async def test_without_a_token_a_scraper_on_this_machine_is_served(open_app: PanjerehApp) -> None:
    async with client(open_app, LOOPBACK) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert "panjereh_inquiries_in_flight" in response.text


async def test_without_a_token_a_scraper_elsewhere_is_told_there_is_nothing(
    open_app: PanjerehApp,
) -> None:
    async with client(open_app, ELSEWHERE) as http:
        response = await http.get("/metrics")
    assert response.status_code == 404
    assert response.json()["code"] == "not-found"
    assert "panjereh_" not in response.text


async def test_behind_a_trusted_local_proxy_a_scraper_elsewhere_is_not_loopback(
    settings: Settings,
) -> None:
    """The proxy on this machine is loopback; the client it names (X-Forwarded-For, read
    because the proxy is a trusted forwarder) is not."""
    app = create_app(settings.model_copy(update={"trusted_forwarders": ("127.0.0.1",)}))
    async with client(app, LOOPBACK) as http:
        forwarded = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        local = await http.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert forwarded.status_code == 404
    assert local.status_code == 200


async def test_with_a_token_a_scraper_with_it_is_served_from_anywhere(
    token_app: PanjerehApp,
) -> None:
    async with client(token_app, ELSEWHERE) as http:
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "panjereh_audit_queue_depth" in response.text


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-token"}, {"Authorization": TOKEN}],
    ids=["no token", "wrong token", "no bearer scheme"],
)
@pytest.mark.parametrize("peer", [LOOPBACK, ELSEWHERE], ids=["loopback", "elsewhere"])
async def test_with_a_token_a_scraper_without_it_is_refused(
    token_app: PanjerehApp, headers: dict[str, str], peer: tuple[str, int]
) -> None:
    async with client(token_app, peer) as http:
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "panjereh_" not in response.text


def test_a_short_metrics_token_stops_the_process(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PANJEREH_METRICS_TOKEN"):
        load_settings(data_dir=tmp_path, metrics_token="short")


def test_published_tallies_expose_exactly_what_observe_would() -> None:
    """The tallies reach prometheus_client through its histogram's bucket and sum values."""
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from panjereh.exchange.metrics import BUCKETS, _Tallied

    observed = [0.0004, 0.001, 0.0011, 0.003, 0.2, 0.25, 4.0, 7.5, 120.0]
    direct_registry, tallied_registry = CollectorRegistry(), CollectorRegistry()
    direct = Histogram("h", "h", ["provider"], buckets=BUCKETS, registry=direct_registry)
    tallied = Histogram("h", "h", ["provider"], buckets=BUCKETS, registry=tallied_registry)
    tally = _Tallied(tallied.labels("x"))
    for seconds in observed:
        direct.labels("x").observe(seconds)
        tally.add(seconds)
    tally.publish()
    tally.publish()  # publishing again adds nothing

    def lines(registry: CollectorRegistry) -> list[str]:
        return [
            line
            for line in generate_latest(registry).decode().splitlines()
            if not line.startswith("h_created")
        ]

    assert lines(tallied_registry) == lines(direct_registry)
