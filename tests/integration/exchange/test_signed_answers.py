"""Every answer of the exchange is signed, bound to its question, and survives key rotation;
what the exchange forwards to a provider is signed too.

Personas: the granted consumer (social-security/benefits), a known system without a grant
(science-ministry/degrees) and a stranger without credentials; answers are verified with
`ResponseVerifier` against the keys published at GET /exchange/v1/keys.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from panjereh.audit.records import Outcome
from panjereh.domain.clock import utc_now
from panjereh.domain.identifiers import NationalCode, national_code_check_digit
from panjereh.exchange import keys as exchange_keys
from panjereh.exchange.signatures import (
    PROVIDER_REQUEST,
    Reason,
    RequestVerifier,
    SignatureError,
    content_digest,
)
from panjereh.simulator.population import Population
from tests.integration.exchange.harness import (
    GRANTED,
    PERSON,
    PERSON_ID,
    PURPOSE,
    UNGRANTED,
    Platform,
    capturing_provider,
    prepare_database,
    running,
    verify_answer,
)


@pytest.fixture
async def platform(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Platform]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'exchange.db'}"
    await prepare_database(url, sqlite_template)
    async with running(url, tmp_path / "var") as platform:
        yield platform


def unregistered_code(platform: Platform) -> str:
    """A valid national code that belongs to nobody in the synthetic population."""
    population = Population(platform.settings.simulator_seed)
    for n in range(100_000, 200_000):
        nine = f"{n:09d}"
        code = NationalCode.parse(nine + national_code_check_digit(nine))
        if population.person(code) is None:
            return code.value
    raise AssertionError("no unregistered code found")


async def answer_of(platform: Platform, kind: str) -> httpx.Response:
    if kind == "ok":
        return await platform.ask()
    if kind == "no-grant":
        return await platform.ask(system=UNGRANTED)
    if kind == "stranger":
        return await platform.client.post(PERSON, json={"national_code": platform.citizen})
    if kind == "unknown-service":
        return await platform.client.post(
            "/exchange/v1/services/civil-registry.nothing.v1", json={}, headers=platform.headers()
        )
    if kind == "invalid":
        return await platform.ask({"national_code": "1234567890"})
    assert kind == "provider-not-found"
    return await platform.ask({"national_code": unregistered_code(platform)})


@pytest.mark.parametrize(
    ("kind", "status", "source", "outcome"),
    [
        ("ok", 200, None, Outcome.OK),
        ("no-grant", 403, "exchange", Outcome.DENIED),
        ("stranger", 401, "exchange", Outcome.DENIED),
        ("unknown-service", 404, "exchange", Outcome.INVALID),
        ("invalid", 400, "exchange", Outcome.INVALID),
        ("provider-not-found", 404, "provider", Outcome.NOT_FOUND),
    ],
)
async def test_every_answer_is_signed_by_the_exchange_and_bound_to_the_request(
    platform: Platform, kind: str, status: int, source: str | None, outcome: Outcome
) -> None:
    response = await answer_of(platform, kind)
    assert response.status_code == status
    assert response.headers.get("x-error-source") == source
    assert response.headers["content-digest"] == content_digest(response.content)
    keys = await platform.exchange_keys()
    assert verify_answer(response, keys) == platform.app.runtime.keys.active_id
    record = await platform.record(response)
    assert record.outcome is outcome
    assert record.status_code == status
    # the record's response hash is of the very body that was signed (keyed: format 2)
    assert record.response_hash == platform.app.runtime.subject_keys.body_hash(response.content)
    assert record.response_hash != hashlib.sha256(response.content).hexdigest()


async def test_an_altered_answer_no_longer_verifies(platform: Platform) -> None:
    response = await platform.ask()
    assert response.status_code == 200
    keys = await platform.exchange_keys()
    verify_answer(response, keys)
    altered = orjson.dumps(response.json() | {"alive": not response.json()["alive"]})
    tampered: list[tuple[dict[str, object], Reason]] = [
        ({"body": altered}, Reason.DIGEST_MISMATCH),
        ({"status": 404}, Reason.BAD_SIGNATURE),
        ({"exchange_id": "00000000-0000-4000-8000-000000000000"}, Reason.BAD_SIGNATURE),
    ]
    for change, reason in tampered:
        with pytest.raises(SignatureError) as refused:
            verify_answer(response, keys, **change)  # type: ignore[arg-type]
        assert refused.value.reason is reason, change
    record = await platform.record(response)
    assert record.outcome is Outcome.OK


async def test_an_answer_does_not_verify_as_the_answer_to_another_question(
    platform: Platform,
) -> None:
    response = await platform.ask()
    other = await platform.ask({"national_code": unregistered_code(platform)})
    keys = await platform.exchange_keys()
    swapped = httpx.Request(
        "POST", response.request.url, headers=other.request.headers, content=other.request.content
    )
    response.request = swapped
    with pytest.raises(SignatureError) as refused:
        verify_answer(response, keys)
    assert refused.value.reason is Reason.BAD_SIGNATURE
    assert (await platform.record(other)).outcome is Outcome.NOT_FOUND


async def test_after_a_rotation_answers_are_signed_with_the_new_key_and_old_ones_still_verify(
    platform: Platform,
) -> None:
    runtime = platform.app.runtime
    old_id = runtime.keys.active_id
    before = await platform.ask()
    assert verify_answer(before, await platform.exchange_keys()) == old_id

    new_id = exchange_keys.rotate(platform.settings.effective_keys_dir, utc_now())
    for _ in range(100):  # the runtime reloads its keys in the refresh loop (~0.25 s)
        if runtime.keys.active_id == new_id:
            break
        await asyncio.sleep(0.02)
    assert runtime.keys.active_id == new_id

    after = await platform.ask()
    published = await platform.exchange_keys()
    assert set(published) == {old_id, new_id}
    jwks = (await platform.client.get("/exchange/v1/keys")).json()["keys"]
    assert {k["kid"]: k["status"] for k in jwks} == {new_id: "active", old_id: "retired"}
    assert verify_answer(after, published) == new_id
    assert verify_answer(before, published) == old_id  # the old answer, years later
    with pytest.raises(SignatureError):
        verify_answer(after, {old_id: published[old_id]})
    record = await platform.record(after)
    assert record.outcome is Outcome.OK


async def test_the_provider_receives_the_inquiry_signed_by_the_exchange(
    platform: Platform,
) -> None:
    async with capturing_provider() as provider:
        await platform.set_service(PERSON_ID, endpoint_url=provider.url)
        response = await platform.ask()
        assert response.status_code == 200
        assert response.json()["first_name"] == "Sara"
    assert len(provider.calls) == 1
    call = provider.calls[0]
    assert call.method == "POST"
    assert call.path == "/person"
    assert call.body == response.request.content  # the consumer's body, unchanged
    assert call.headers["x-exchange-id"] == response.headers["x-exchange-id"]
    assert call.headers["x-consumer-system"] == GRANTED
    assert call.headers["x-purpose"] == PURPOSE
    assert "authorization" not in call.headers  # the consumer's key stays with the exchange
    keys = await platform.exchange_keys()
    verified = RequestVerifier(PROVIDER_REQUEST).verify(
        method=call.method,
        authority=provider.url.removeprefix("http://").removesuffix("/person"),
        path=call.path,
        headers=call.headers,
        body=call.body,
        now=utc_now().timestamp(),
        resolve_key=keys.get,
    )
    assert verified.key_id == platform.app.runtime.keys.active_id
    record = await platform.record(response)
    assert record.outcome is Outcome.OK
    assert record.provider_ms is not None
