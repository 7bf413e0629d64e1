"""X-Request-Id: a retried inquiry gets its first answer back and the provider is asked once.

Personas: the granted consumer (social-security/benefits, API key), a second granted consumer
(welfare-organization/clients, signing), and a known system without a grant
(science-ministry/degrees).  The provider is a capturing server in the test, so "asked once"
is counted where it happens; every test also reads the audit records.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from panjereh.audit.records import Outcome
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

OTHER_GRANTED = "welfare-organization/clients"  # also holds a grant on civil-registry.person.v1


@pytest.fixture
async def platform(
    database_url: str, sqlite_template: Path, tmp_path: Path, provider: Provider
) -> AsyncIterator[Platform]:
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var") as platform:
        await platform.set_service(PERSON_ID, endpoint_url=provider.url)
        yield platform


async def test_a_retry_with_the_same_id_gets_the_stored_answer_without_a_second_provider_call(
    platform: Platform, provider: Provider
) -> None:
    request_id = str(uuid.uuid4())
    first = await platform.ask(request_id=request_id)
    second = await platform.ask(request_id=request_id)
    assert first.status_code == second.status_code == 200
    assert "x-replayed" not in first.headers
    assert second.headers["x-replayed"] == "true"
    assert second.content == first.content
    assert second.headers["x-exchange-id"] == first.headers["x-exchange-id"]
    assert second.headers["signature"] == first.headers["signature"]
    verify_answer(second, await platform.exchange_keys())  # the replay is the signed original
    assert len(provider.calls) == 1

    original, replay = await platform.records_with_request_id(request_id)
    assert original.exchange_id == first.headers["x-exchange-id"]
    assert original.replay_of is None
    assert original.provider_ms is not None
    assert replay.exchange_id != original.exchange_id  # every inquiry has its own record
    assert replay.replay_of == original.exchange_id
    assert replay.outcome is Outcome.OK
    assert replay.consumer == GRANTED
    assert replay.provider_ms is None
    assert replay.response_hash == original.response_hash


@pytest.mark.parametrize("change", ["body", "purpose"])
async def test_the_same_id_for_a_different_request_is_a_duplicate(
    sqlite_platform: Platform, provider: Provider, change: str
) -> None:
    platform = sqlite_platform
    request_id = str(uuid.uuid4())
    first = await platform.ask(request_id=request_id)
    assert first.status_code == 200
    if change == "body":
        other = await platform.ask({"national_code": "0013542419"}, request_id=request_id)
    else:
        other = await platform.ask(request_id=request_id, purpose="employment-check")
    assert other.status_code == 409
    assert other.json()["code"] == "duplicate-request"
    assert "x-replayed" not in other.headers
    assert len(provider.calls) == 1
    record = await platform.record(other)
    assert record.status_code == 409
    assert record.error_type == "duplicate-request"
    assert record.request_id == request_id
    assert record.replay_of is None


async def test_two_concurrent_requests_with_the_same_id_make_one_provider_call(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    provider.delay = 0.3
    request_id = str(uuid.uuid4())
    answers = await asyncio.gather(
        platform.ask(request_id=request_id), platform.ask(request_id=request_id)
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert sorted(a.headers.get("x-replayed", "") for a in answers) == ["", "true"]
    assert len(provider.calls) == 1
    records = await platform.records_with_request_id(request_id)
    assert len(records) == 2
    assert sorted(r.replay_of is None for r in records) == [False, True]


@pytest.mark.parametrize("raw", ["not-a-uuid", "1234", "0b7d2c3e-8f1a-4d6b-9a57-3c1e2f4a5b6czz"])
async def test_a_malformed_request_id_is_refused_before_the_provider(
    sqlite_platform: Platform, provider: Provider, raw: str
) -> None:
    platform = sqlite_platform
    response = await platform.ask(request_id=raw)
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid-request"
    assert "X-Request-Id" in problem["detail"]
    assert provider.calls == []
    record = await platform.record(response)
    assert record.outcome is Outcome.INVALID
    assert record.consumer == GRANTED


async def test_after_a_provider_failure_a_retry_with_the_same_id_asks_the_provider_again(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    request_id = str(uuid.uuid4())
    provider.status = 500
    failed = await platform.ask(request_id=request_id)
    assert failed.status_code == 502
    assert failed.json()["code"] == "provider-error"
    assert failed.headers["x-error-source"] == "provider"
    provider.status = 200
    retried = await platform.ask(request_id=request_id)
    assert retried.status_code == 200
    assert "x-replayed" not in retried.headers
    assert retried.headers["x-exchange-id"] != failed.headers["x-exchange-id"]
    assert len(provider.calls) == 2
    first, second = await platform.records_with_request_id(request_id)
    assert (first.outcome, first.error_type) == (Outcome.FAILED, "provider-error")
    assert (second.outcome, second.replay_of) == (Outcome.OK, None)


async def test_request_ids_belong_to_the_calling_system(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    key = await platform.add_signing_key(OTHER_GRANTED, "k1")
    request_id = str(uuid.uuid4())
    mine = await platform.ask(request_id=request_id)
    body = orjson.dumps({"national_code": platform.citizen})
    theirs = await platform.client.post(
        PERSON,
        content=body,
        headers=signed_headers(
            key, f"{OTHER_GRANTED}/k1", authority=platform.authority, body=body,
            request_id=request_id,
        ),
    )  # fmt: skip
    assert mine.status_code == theirs.status_code == 200
    assert "x-replayed" not in theirs.headers
    assert theirs.headers["x-exchange-id"] != mine.headers["x-exchange-id"]
    assert len(provider.calls) == 2
    records = await platform.records_with_request_id(request_id)
    assert sorted(r.consumer or "" for r in records) == sorted([GRANTED, OTHER_GRANTED])
    assert all(r.replay_of is None for r in records)

    # ...and a system without a grant using the same id is refused, not replayed to.
    stranger = await platform.ask(system=UNGRANTED, request_id=request_id)
    assert stranger.status_code == 403
    assert (await platform.record(stranger)).consumer == UNGRANTED


async def test_an_identical_signed_retry_is_answered_with_the_stored_answer(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    key = await platform.add_signing_key(GRANTED, "k1")
    body = orjson.dumps({"national_code": platform.citizen})
    headers = signed_headers(
        key, f"{GRANTED}/k1", authority=platform.authority, body=body,
        request_id=str(uuid.uuid4()),
    )  # fmt: skip
    first = await platform.client.post(PERSON, content=body, headers=headers)
    again = await platform.client.post(PERSON, content=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["x-replayed"] == "true"
    assert again.content == first.content
    assert len(provider.calls) == 1
    _, replay = await platform.records_with_request_id(headers["x-request-id"])
    assert replay.auth_method == "signature"
    assert replay.replay_of == first.headers["x-exchange-id"]
