"""A grant's projection, rate limit and daily quota, and a service's response cache, end to end.

Personas: the granted consumer (social-security/benefits, API key), a second consumer whose
grant projects the answer to names (health-insurance/coverage, signing) and a known system
without a grant (science-ministry/degrees).  The provider is a capturing server in the test
wherever "the provider was (not) asked" is the point; every test reads the audit records.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from redis.asyncio import Redis

from panjereh.audit.records import Outcome
from panjereh.simulator.population import Population
from tests.integration.exchange.harness import (
    GRANTED,
    PERSON,
    PERSON_ID,
    UNGRANTED,
    Platform,
    Provider,
    prepare_database,
    running,
    signed_headers,
    verify_answer,
)

PROJECTED = "health-insurance/coverage"  # its grant: /first_name, /last_name, /father_name


@pytest.fixture
async def platform(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Platform]:
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var") as platform:
        yield platform


# -- projection -------------------------------------------------------------------------------


async def test_a_projected_grant_sees_only_its_fields_and_the_signature_covers_them(
    platform: Platform,
) -> None:
    full = await platform.ask()
    assert full.status_code == 200
    assert {"first_name", "birth_date", "last_name", "alive"} <= set(full.json())
    await platform.set_grant(GRANTED, projection=["/first_name", "/birth_date"])
    projected = await platform.ask()
    assert projected.status_code == 200
    assert projected.json() == {
        "first_name": full.json()["first_name"],
        "birth_date": full.json()["birth_date"],
    }
    verify_answer(projected, await platform.exchange_keys())
    record = await platform.record(projected)
    assert record.outcome is Outcome.OK
    assert record.response_hash == platform.app.runtime.subject_keys.body_hash(projected.content)
    assert record.response_hash != (await platform.record(full)).response_hash


# -- rate limits and quotas -------------------------------------------------------------------


async def test_the_inquiry_over_the_grants_rate_is_refused_and_not_forwarded(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    await platform.set_grant(GRANTED, rate_limit_per_minute=3)
    answers = [await platform.ask() for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "rate-limited"
    # burst 3, one more every 60/3 s: the 4th is admitted ~20 s after the first
    assert 17 <= int(refused.headers["retry-after"]) <= 20
    assert len(provider.calls) == 3
    verify_answer(refused, await platform.exchange_keys())
    record = await platform.record(refused)
    assert record.outcome is Outcome.DENIED
    assert record.error_type == "rate-limited"
    assert record.provider_ms is None
    # another system's inquiries are not counted against this grant
    other = await platform.ask(system=UNGRANTED)
    assert other.status_code == 403


async def test_the_inquiry_over_the_daily_quota_is_refused_until_tehran_midnight(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    await platform.set_grant(GRANTED, daily_quota=2)
    answers = [await platform.ask() for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "quota-exhausted"
    now = datetime.now(UTC)
    midnight = now.replace(hour=20, minute=30, second=0, microsecond=0)  # 00:00 Tehran
    if midnight <= now:
        midnight += timedelta(days=1)
    assert abs(int(refused.headers["retry-after"]) - (midnight - now).total_seconds()) <= 10
    assert len(provider.calls) == 2
    record = await platform.record(refused)
    assert record.outcome is Outcome.DENIED
    assert record.error_type == "quota-exhausted"


async def _forget_limits(redis_url: str, grant: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"pnj:*{{{grant}}}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def test_two_workers_on_redis_share_one_rate_limit(
    sqlite_template: Path, tmp_path: Path, provider: Provider, redis_url: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'exchange.db'}"
    await prepare_database(url, sqlite_template)
    data_dir = tmp_path / "var"
    async with (
        running(url, data_dir, redis_url=redis_url) as first,
        running(url, data_dir, redis_url=redis_url) as second,
    ):
        grant = f"{await first.system_id(GRANTED)}:{PERSON_ID}"
        await _forget_limits(redis_url, grant)
        try:
            await first.set_service(PERSON_ID, endpoint_url=provider.url)
            await first.set_grant(GRANTED, rate_limit_per_minute=3)
            for _ in range(100):  # the second worker sees the same registry change
                if second.app.runtime.registry.current.version == (
                    first.app.runtime.registry.current.version
                ):
                    break
                await asyncio.sleep(0.02)
            answers = [await worker.ask() for worker in (first, second, first, second)]
            assert [a.status_code for a in answers] == [200, 200, 200, 429]
            assert answers[-1].json()["code"] == "rate-limited"
            assert len(provider.calls) == 3
            record = await first.record(answers[-1])  # one database: both workers' records
            assert record.outcome is Outcome.DENIED
            assert second.app.runtime.state.backend == "redis"
        finally:
            await _forget_limits(redis_url, grant)


# -- the response cache -----------------------------------------------------------------------


async def test_a_repeated_question_is_answered_from_the_cache(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    await platform.set_service(PERSON_ID, cache_ttl_s=60)
    first = await platform.ask()
    second = await platform.ask()
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["x-exchange-id"] != first.headers["x-exchange-id"]
    assert len(provider.calls) == 1
    verify_answer(second, await platform.exchange_keys())
    asked, cached = await platform.record(first), await platform.record(second)
    assert (asked.cached, cached.cached) == (False, True)
    assert cached.outcome is Outcome.OK
    assert cached.provider_ms is None
    assert cached.response_hash == asked.response_hash


async def _ask_signed(platform: Platform, key: Ed25519PrivateKey, system: str) -> bytes:
    body = orjson.dumps({"national_code": platform.citizen})
    response = await platform.client.post(
        PERSON,
        content=body,
        headers=signed_headers(
            key, f"{system}/k1", authority=platform.authority, body=body,
            request_id=str(uuid.uuid4()), purpose="identity-verification",
        ),
    )  # fmt: skip
    assert response.status_code == 200
    record = await platform.record(response)
    assert record.consumer == system
    return response.content + b"\n" + str(record.cached).encode()


async def test_a_consumer_with_another_projection_is_not_served_the_first_ones_answer(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    await platform.set_service(PERSON_ID, cache_ttl_s=60)
    key = await platform.add_signing_key(PROJECTED, "k1")
    whole = await platform.ask()
    assert whole.status_code == 200
    assert "birth_date" in whole.json()

    projected, cached = (await _ask_signed(platform, key, PROJECTED)).split(b"\n")
    assert orjson.loads(projected) == {
        "first_name": "Sara",
        "last_name": "Karimi",
        "father_name": "Ali",
    }
    assert cached == b"False"
    assert len(provider.calls) == 2
    again, cached = (await _ask_signed(platform, key, PROJECTED)).split(b"\n")
    assert (again, cached) == (projected, b"True")  # the same projection is shared
    assert len(provider.calls) == 2


async def test_another_subject_is_not_answered_from_the_cache(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    await platform.set_service(PERSON_ID, cache_ttl_s=60)
    someone_else = Population(platform.settings.simulator_seed).sample(2)[1].national_code
    first = await platform.ask()
    second = await platform.ask({"national_code": someone_else})
    assert second.json()["national_code"] == someone_else != first.json()["national_code"]
    assert len(provider.calls) == 2
    assert (await platform.record(second)).cached is False


async def test_a_service_with_ttl_zero_never_caches(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    assert platform.app.runtime.registry.current.services[PERSON_ID].cache_ttl_s == 0
    answers = [await platform.ask() for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len(provider.calls) == 3
    records = [await platform.record(a) for a in answers]
    assert [r.cached for r in records] == [False, False, False]
