"""The inquiry endpoint over a real socket, on SQLite and PostgreSQL.

Personas: the granted consumer (social-security/benefits), a known system without a grant
(science-ministry/degrees), and a stranger with no key at all.  Each test checks the answer and
the audit record the exchange stored for it.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from panjereh.audit.records import Outcome
from panjereh.domain.clock import utc_now
from panjereh.domain.identifiers import NationalCode, national_code_check_digit
from panjereh.domain.text import persian_digits
from panjereh.simulator.population import Population
from panjereh.storage.registry_repo import bump_version, registry_version
from panjereh.storage.tables import services, systems
from tests.integration.conftest import Live
from tests.support import free_port

PERSON = "/exchange/v1/services/civil-registry.person.v1"
JSON = "application/json"


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"ApiKey {key}", "X-Purpose": "benefit-eligibility"}


async def test_it_answers_a_granted_inquiry_and_records_it(live: Live) -> None:
    response = await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.granted_key)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["national_code"] == live.citizen
    assert body["first_name"]
    exchange_id = response.headers["x-exchange-id"]
    record = await live.audit.by_exchange_id(exchange_id)
    assert record is not None
    assert record.outcome is Outcome.OK
    assert record.consumer == "social-security/benefits"
    assert record.service_id == "civil-registry.person.v1"
    assert record.purpose == "benefit-eligibility"
    assert record.status_code == 200
    assert record.subject_hash is not None
    assert live.citizen not in record.subject_hash


async def test_it_normalizes_persian_digits_in_the_subject(live: Live) -> None:
    plain = await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.granted_key)
    )
    persian = await live.client.post(
        PERSON, json={"national_code": persian_digits(live.citizen)}, headers=auth(live.granted_key)
    )
    assert persian.status_code == 200
    assert persian.json() == plain.json()
    first = await live.audit.by_exchange_id(plain.headers["x-exchange-id"])
    second = await live.audit.by_exchange_id(persian.headers["x-exchange-id"])
    assert first is not None
    assert second is not None
    assert first.subject_hash == second.subject_hash


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer something"},
        {"Authorization": "ApiKey"},
        {"Authorization": "ApiKey pnj_not-a-real-key"},
    ],
    ids=["no-header", "wrong-scheme", "empty-key", "unknown-key"],
)
async def test_it_refuses_a_caller_without_a_valid_key(live: Live, headers: dict[str, str]) -> None:
    response = await live.client.post(PERSON, json={"national_code": live.citizen}, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-error-source"] == "exchange"
    problem = response.json()
    assert problem["code"] == "unauthenticated"
    assert problem["type"] == "/problems/unauthenticated"
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.DENIED
    assert record.consumer is None


async def test_it_refuses_a_system_without_a_grant_and_sends_nothing(live: Live) -> None:
    response = await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.stranger_key)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "access-denied"
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.DENIED
    assert record.consumer == "science-ministry/degrees"
    assert record.request_hash is None  # refused before the body was even read as a request


async def test_it_answers_unknown_service_for_a_service_that_does_not_exist(live: Live) -> None:
    response = await live.client.post(
        "/exchange/v1/services/civil-registry.nothing.v1", json={}, headers=auth(live.granted_key)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "unknown-service"
    assert response.headers["x-error-source"] == "exchange"


async def test_it_refuses_a_suspended_system_even_with_a_valid_key(live: Live) -> None:
    async with live.engine.begin() as conn:
        await conn.execute(
            update(systems).where(systems.c.code == "benefits").values(status="suspended")
        )
        await bump_version(conn, utc_now())
    await _wait_for_refresh(live)
    response = await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.granted_key)
    )
    assert response.status_code == 403
    assert response.json()["code"] == "access-denied"


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"not json", "must be JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "national_code"),
        (b'{"national_code": "0013542419", "other": 1}', "unexpected"),
        (b'{"national_code": 1234567890}', "schema at /national_code"),
        (b'{"national_code": "1234567890"}', "check digit"),
    ],
)
async def test_it_rejects_a_malformed_request_before_the_provider(
    live: Live, content: bytes, detail: str
) -> None:
    response = await live.client.post(
        PERSON,
        content=content,
        headers=auth(live.granted_key) | {"content-type": "application/json"},
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid-request"
    assert detail in problem["detail"]
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.INVALID


@pytest.mark.parametrize(
    ("purpose", "detail"),
    [(None, "Declare the purpose"), ("law-enforcement", "is not granted"), ("", "Declare")],
)
async def test_it_refuses_an_inquiry_without_a_granted_purpose(
    live: Live, purpose: str | None, detail: str
) -> None:
    headers = {"Authorization": f"ApiKey {live.granted_key}"}
    if purpose is not None:
        headers["X-Purpose"] = purpose
    response = await live.client.post(PERSON, json={"national_code": live.citizen}, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "access-denied"
    assert detail in response.json()["detail"]
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.DENIED


async def test_it_refuses_a_body_larger_than_the_limit(live: Live) -> None:
    huge = b'{"national_code": "' + b"1" * 2_000_000 + b'"}'
    response = await live.client.post(PERSON, content=huge, headers=auth(live.granted_key))
    assert response.status_code == 413
    assert response.json()["code"] == "payload-too-large"


async def test_it_passes_on_the_providers_not_found_answer(live: Live) -> None:
    unknown = await _unregistered_code(live)
    response = await live.client.post(
        PERSON, json={"national_code": unknown}, headers=auth(live.granted_key)
    )
    assert response.status_code == 404
    assert response.headers["x-error-source"] == "provider"
    assert response.json()["type"] == "/problems/not-found"
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.NOT_FOUND


async def test_it_answers_provider_unavailable_when_the_provider_is_down(live: Live) -> None:
    closed = free_port()
    async with live.engine.begin() as conn:
        await conn.execute(
            update(services)
            .where(services.c.id == "civil-registry.person.v1")
            .values(endpoint_url=f"http://127.0.0.1:{closed}/person")
        )
        await bump_version(conn, utc_now())
    await _wait_for_refresh(live)
    response = await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.granted_key)
    )
    assert response.status_code == 502
    assert response.headers["x-error-source"] == "provider"
    assert response.json()["code"] == "provider-unavailable"
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.FAILED
    assert record.error_type == "provider-unavailable"


async def test_every_answered_inquiry_has_exactly_one_record(live: Live) -> None:
    before = await live.audit.count()
    answers = await asyncio.gather(
        *(
            live.client.post(PERSON, json={"national_code": live.citizen}, headers=auth(key))
            for key in [live.granted_key] * 20 + [live.stranger_key] * 5
        )
    )
    assert sorted(r.status_code for r in answers) == [200] * 20 + [403] * 5
    assert await live.audit.count() == before + 25
    ids = {r.headers["x-exchange-id"] for r in answers}
    assert len(ids) == 25


async def test_the_service_directory_lists_the_service(live: Live) -> None:
    listing = await live.client.get("/exchange/v1/services")
    assert listing.status_code == 200
    ids = [s["id"] for s in listing.json()["services"]]
    assert "civil-registry.person.v1" in ids
    assert ids == sorted(ids)
    one = await live.client.get(PERSON)
    assert one.status_code == 200
    assert one.json()["subject_kind"] == "national_code"
    missing = await live.client.get("/exchange/v1/services/nobody.nothing.v1")
    assert missing.status_code == 404
    assert missing.json()["code"] == "unknown-service"


async def test_allowed_lists_only_the_calling_systems_grants(live: Live) -> None:
    mine = await live.client.get(
        "/exchange/v1/services?allowed=true",
        headers={"Authorization": f"ApiKey {live.granted_key}"},
    )
    assert mine.status_code == 200
    ids = [s["id"] for s in mine.json()["services"]]
    assert "civil-registry.person.v1" in ids
    everything = await live.client.get("/exchange/v1/services")
    assert len(ids) < len(everything.json()["services"])
    stranger = await live.client.get(
        "/exchange/v1/services?allowed=true",
        headers={"Authorization": f"ApiKey {live.stranger_key}"},
    )
    assert "civil-registry.person.v1" not in [s["id"] for s in stranger.json()["services"]]
    anonymous = await live.client.get("/exchange/v1/services?allowed=true")
    assert anonymous.status_code == 401


async def test_a_keys_last_use_is_recorded_in_the_background(live: Live) -> None:
    from sqlalchemy import select

    from panjereh.storage.tables import api_keys

    answered = await live.client.post(
        PERSON, json={"national_code": live.citizen}, headers=auth(live.granted_key)
    )
    assert answered.status_code == 200
    async with live.engine.connect() as conn:
        before = list((await conn.execute(select(api_keys.c.last_used_at))).scalars())
    assert before == [None] * len(before)  # nothing written per inquiry
    await live.app.runtime.flush_usage()
    async with live.engine.connect() as conn:
        after = [t for t in (await conn.execute(select(api_keys.c.last_used_at))).scalars() if t]
    assert len(after) == 1


async def test_it_serves_its_openapi_description(live: Live) -> None:
    response = await live.client.get("/exchange/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    assert "post" in spec["paths"]["/exchange/v1/services/{service_id}"]


async def test_it_reports_ready_once_started(live: Live) -> None:
    response = await live.client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["registry_snapshot"] is checks["audit_writer"] is True
    assert all(checks.values())  # the rest: tests/integration/web/test_readiness.py
    assert (await live.client.get("/healthz")).json() == {"status": "ok"}


async def _wait_for_refresh(live: Live) -> None:
    """The registry poller picks up a change within a second."""
    target = await registry_version(live.engine)
    for _ in range(100):
        if live.app.runtime.registry.current.version == target:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the snapshot was not refreshed within 2 seconds")


async def _unregistered_code(live: Live) -> str:
    """A valid national code that belongs to nobody in the synthetic population."""
    population = Population(live.app.runtime.settings.simulator_seed)
    for n in range(100_000, 200_000):
        nine = f"{n:09d}"
        code = NationalCode.parse(nine + national_code_check_digit(nine))
        if population.person(code) is None:
            return code.value
    raise AssertionError("no unregistered code found")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_it_refuses_a_body_that_is_not_declared_json_with_415(
    live: Live, content_type: str
) -> None:
    response = await live.client.post(
        PERSON,
        content=b'{"national_code": "%s"}' % live.citizen.encode(),
        headers=auth(live.granted_key) | {"Content-Type": content_type},
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported-media-type"
    record = await live.audit.by_exchange_id(response.headers["x-exchange-id"])
    assert record is not None
    assert record.outcome is Outcome.INVALID


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
async def test_it_takes_a_json_content_type_with_or_without_charset(
    live: Live, content_type: str
) -> None:
    response = await live.client.post(
        PERSON,
        content=b'{"national_code": "%s"}' % live.citizen.encode(),
        headers=auth(live.granted_key) | {"Content-Type": content_type},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "authorization", [None, "ApiKey not-a-key", "Bearer something"], ids=["none", "bad", "other"]
)
async def test_its_401_names_the_schemes_a_caller_may_use(
    live: Live, authorization: str | None
) -> None:
    headers = {"X-Purpose": "benefit-eligibility"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await live.client.post(PERSON, json={"national_code": live.citizen}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'ApiKey realm="panjereh-exchange"'
    assert response.headers["accept-signature"] == (
        'sig1=("@method" "@authority" "@path" "content-digest" "x-request-id" "x-purpose")'
        ';alg="ed25519"'
    )


async def test_a_body_that_is_not_utf8_gets_the_malformed_json_problem(live: Live) -> None:
    body = b'{"national_code": "\xff\xfe"}'
    response = await live.client.post(
        PERSON, content=body, headers=auth(live.granted_key) | {"Content-Type": JSON}
    )
    malformed = await live.client.post(
        PERSON, content=b"{not json", headers=auth(live.granted_key) | {"Content-Type": JSON}
    )
    assert response.status_code == malformed.status_code == 400
    assert response.json()["code"] == malformed.json()["code"] == "invalid-request"
    assert response.json()["detail"] == malformed.json()["detail"]
