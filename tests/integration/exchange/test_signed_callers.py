"""Callers signed with RFC 9421, and callers vouched for by a trusted proxy, over a real socket.

Personas: the granted consumer (social-security/benefits) signing with its registered key, a
known system without a grant (science-ministry/degrees), a suspended system
(welfare-organization/rehabilitation) and a stranger whose key nobody registered.  Every test
checks the answer and the audit record; storage-relevant cases run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from panjereh.audit.records import Outcome
from panjereh.domain.clock import utc_now
from panjereh.exchange.signatures import (
    CONSUMER_REQUEST,
    RESPONSE,
    SYSTEM_KEY_ID,
    Component,
    Profile,
    RequestSigner,
    content_digest,
)
from tests.integration.exchange.harness import (
    GRANTED,
    PERSON,
    PURPOSE,
    SUSPENDED,
    UNGRANTED,
    Platform,
    prepare_database,
    running,
    signed_headers,
    verify_answer,
)

KEYID = f"{GRANTED}/2026-11"


@pytest.fixture
async def platform(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Platform]:
    await prepare_database(database_url, sqlite_template)
    async with running(database_url, tmp_path / "var") as platform:
        yield platform


@pytest.fixture
async def sqlite_platform(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Platform]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'exchange.db'}"
    await prepare_database(url, sqlite_template)
    async with running(url, tmp_path / "var") as platform:
        yield platform


@pytest.fixture
async def signing_key(sqlite_platform: Platform) -> Ed25519PrivateKey:
    """The granted consumer's registered key (on the SQLite platform)."""
    return await sqlite_platform.add_signing_key(GRANTED, "2026-11")


def body_of(platform: Platform) -> bytes:
    return orjson.dumps({"national_code": platform.citizen})


async def post_signed(
    platform: Platform,
    key: Ed25519PrivateKey,
    keyid: str = KEYID,
    *,
    body: bytes | None = None,
    sent_body: bytes | None = None,
    created: float | None = None,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    body = body_of(platform) if body is None else body
    headers = signed_headers(
        key,
        keyid,
        authority=platform.authority,
        body=body,
        request_id=str(uuid.uuid4()),
        created=created,
    )
    return await platform.client.post(
        PERSON, content=body if sent_body is None else sent_body, headers=headers | (extra or {})
    )


async def assert_unauthenticated(platform: Platform, response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-error-source"] == "exchange"
    problem = response.json()
    assert problem["code"] == "unauthenticated"
    assert problem["reason"] == reason
    record = await platform.record(response)
    assert record.outcome is Outcome.DENIED
    assert record.status_code == 401
    assert record.error_type == "unauthenticated"
    assert record.consumer is None
    assert record.auth_method is None


async def test_a_signed_inquiry_is_answered_and_recorded_as_signed(platform: Platform) -> None:
    key = await platform.add_signing_key(GRANTED, "2026-11")
    body = body_of(platform)
    request_id = str(uuid.uuid4())
    headers = signed_headers(
        key, KEYID, authority=platform.authority, body=body, request_id=request_id
    )
    response = await platform.client.post(PERSON, content=body, headers=headers)
    assert response.status_code == 200
    assert response.json()["national_code"] == platform.citizen
    record = await platform.record(response)
    assert record.outcome is Outcome.OK
    assert record.consumer == GRANTED
    assert record.auth_method == "signature"
    assert record.request_id == request_id
    assert record.purpose == PURPOSE
    assert record.provider_ms is not None
    assert record.provider_ms > 0
    assert (
        verify_answer(response, await platform.exchange_keys())
        == platform.app.runtime.keys.active_id
    )


# -- interop with the generic http-message-signatures library ---------------------------------


@dataclass
class LibraryRequest:
    method: str
    url: str
    headers: dict[str, str]


@dataclass
class LibraryResponse:
    status_code: int
    headers: dict[str, str]
    request: LibraryRequest = field(repr=False)


async def test_a_request_signed_by_the_generic_library_is_answered_and_its_answer_verifies_there(
    sqlite_platform: Platform, signing_key: Ed25519PrivateKey
) -> None:
    platform = sqlite_platform
    body = body_of(platform)
    request = LibraryRequest(
        "POST",
        f"{platform.url}{PERSON}",
        {
            "Content-Type": "application/json",
            "X-Request-Id": str(uuid.uuid4()),
            "X-Purpose": PURPOSE,
        },
    )
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEYID: signing_key}),
    )
    signer.sign(
        request,
        body=body,  # the library adds the Content-Digest
        key_id=KEYID,
        label="sig",
        covered_component_ids=[c.name for c in CONSUMER_REQUEST.components],
    )
    response = await platform.client.post(PERSON, content=body, headers=request.headers)
    assert response.status_code == 200
    record = await platform.record(response)
    assert record.auth_method == "signature"
    assert record.consumer == GRANTED

    exchange_keys = await platform.exchange_keys()
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys=exchange_keys, private_keys={}),
    )
    answer = LibraryResponse(response.status_code, dict(response.headers), request)
    results = verifier.verify(
        answer,
        require_components=[c.identifier for c in RESPONSE.components],
        body=response.content,
    )
    assert results[0].label == "sig"
    assert results[0].parameters["keyid"] == platform.app.runtime.keys.active_id


# -- refusals ---------------------------------------------------------------------------------


async def test_a_signature_created_more_than_five_minutes_ago_is_refused(
    sqlite_platform: Platform, signing_key: Ed25519PrivateKey
) -> None:
    response = await post_signed(sqlite_platform, signing_key, created=time.time() - 301)
    await assert_unauthenticated(sqlite_platform, response, "expired")
    assert "ago" in response.json()["detail"]


async def test_a_signature_replayed_under_another_request_id_is_refused(
    sqlite_platform: Platform, signing_key: Ed25519PrivateKey
) -> None:
    platform = sqlite_platform
    body = body_of(platform)
    headers = signed_headers(
        signing_key, KEYID, authority=platform.authority, body=body, request_id=str(uuid.uuid4())
    )
    first = await platform.client.post(PERSON, content=body, headers=headers)
    assert first.status_code == 200
    replayed = headers | {"x-request-id": str(uuid.uuid4())}
    response = await platform.client.post(PERSON, content=body, headers=replayed)
    await assert_unauthenticated(platform, response, "bad-signature")


async def test_a_body_changed_after_signing_is_refused(
    sqlite_platform: Platform, signing_key: Ed25519PrivateKey
) -> None:
    other = orjson.dumps({"national_code": "0013542419"})
    response = await post_signed(sqlite_platform, signing_key, sent_body=other)
    await assert_unauthenticated(sqlite_platform, response, "digest-mismatch")


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired"])
async def test_a_signature_by_a_key_that_is_not_usable_is_refused(
    sqlite_platform: Platform, state: str
) -> None:
    platform = sqlite_platform
    past = utc_now() - datetime.timedelta(days=1)
    if state == "unknown":
        key = Ed25519PrivateKey.generate()  # a stranger's key: registered by nobody
    else:
        key = await platform.add_signing_key(
            GRANTED,
            "2026-11",
            revoked_at=past if state == "revoked" else None,
            expires_at=past if state == "expired" else None,
        )
    response = await post_signed(platform, key)
    await assert_unauthenticated(platform, response, "unknown-key")


async def test_a_key_registered_for_another_system_does_not_sign_for_this_one(
    sqlite_platform: Platform,
) -> None:
    platform = sqlite_platform
    their_key = await platform.add_signing_key(UNGRANTED, "2026-11")
    response = await post_signed(platform, their_key, KEYID)  # claims to be the granted one
    await assert_unauthenticated(platform, response, "unknown-key")


async def test_a_signature_that_does_not_cover_the_purpose_is_refused(
    sqlite_platform: Platform, signing_key: Ed25519PrivateKey
) -> None:
    platform = sqlite_platform
    partial = Profile(
        "partial",
        tuple(c for c in CONSUMER_REQUEST.components if c.name != "x-purpose"),
        SYSTEM_KEY_ID,
    )
    body = body_of(platform)
    headers = {
        "content-type": "application/json",
        "content-digest": content_digest(body),
        "x-request-id": str(uuid.uuid4()),
        "x-purpose": PURPOSE,
    }
    headers |= RequestSigner(signing_key, KEYID, partial).sign(
        method="POST", authority=platform.authority, path=PERSON, headers=headers,
        created=time.time(),
    )  # fmt: skip
    assert Component("x-purpose").identifier not in headers["signature-input"]
    response = await platform.client.post(PERSON, content=body, headers=headers)
    await assert_unauthenticated(platform, response, "components")
    assert '"x-purpose"' in response.json()["detail"]


async def test_a_signed_request_is_judged_by_its_signature_not_by_a_key_beside_it(
    sqlite_platform: Platform, signing_key: Ed25519PrivateKey
) -> None:
    platform = sqlite_platform
    beside = {"Authorization": f"ApiKey {platform.api_keys[UNGRANTED]}"}
    answered = await post_signed(platform, signing_key, extra=beside)
    assert answered.status_code == 200
    record = await platform.record(answered)
    assert record.consumer == GRANTED  # the signer, not the key's system
    assert record.auth_method == "signature"

    # ...and a bad signature is not rescued by the granted system's own valid key.
    stolen = {"Authorization": f"ApiKey {platform.api_keys[GRANTED]}"}
    refused = await post_signed(platform, signing_key, created=time.time() - 3600, extra=stolen)
    await assert_unauthenticated(platform, refused, "expired")


async def test_a_system_without_a_grant_is_denied_even_when_its_signature_is_good(
    sqlite_platform: Platform,
) -> None:
    platform = sqlite_platform
    key = await platform.add_signing_key(UNGRANTED, "k1")
    response = await post_signed(platform, key, f"{UNGRANTED}/k1")
    assert response.status_code == 403
    assert response.json()["code"] == "access-denied"
    record = await platform.record(response)
    assert record.outcome is Outcome.DENIED
    assert record.consumer == UNGRANTED
    assert record.auth_method == "signature"


async def test_a_suspended_system_is_denied_even_when_its_signature_is_good(
    sqlite_platform: Platform,
) -> None:
    platform = sqlite_platform
    key = await platform.add_signing_key(SUSPENDED, "k1")
    response = await post_signed(platform, key, f"{SUSPENDED}/k1")
    assert response.status_code == 403
    assert response.json()["code"] == "access-denied"
    assert "suspended" in response.json()["detail"]
    record = await platform.record(response)
    assert record.outcome is Outcome.DENIED
    assert record.status_code == 403


# -- the trusted proxy ---------------------------------------------------------------------------


async def test_a_proxys_word_is_ignored_when_no_proxy_is_trusted(sqlite_platform: Platform) -> None:
    platform = sqlite_platform
    response = await platform.client.post(
        PERSON,
        json={"national_code": platform.citizen},
        headers={"X-Verified-Client-System": GRANTED, "X-Purpose": PURPOSE},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    record = await platform.record(response)
    assert record.outcome is Outcome.DENIED
    assert record.consumer is None


@pytest.fixture
async def behind_proxy(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Platform]:
    monkeypatch.setenv("PANJEREH_TRUSTED_PROXIES", "127.0.0.1")
    url = f"sqlite+aiosqlite:///{tmp_path / 'exchange.db'}"
    await prepare_database(url, sqlite_template)
    async with running(url, tmp_path / "var") as platform:
        yield platform


async def test_a_trusted_proxy_identifies_the_calling_system(behind_proxy: Platform) -> None:
    platform = behind_proxy
    assert platform.settings.trusted_proxies == ("127.0.0.1/32",)
    response = await platform.client.post(
        PERSON,
        json={"national_code": platform.citizen},
        headers={"X-Verified-Client-System": GRANTED, "X-Purpose": PURPOSE},
    )
    assert response.status_code == 200
    record = await platform.record(response)
    assert record.outcome is Outcome.OK
    assert record.consumer == GRANTED
    assert record.auth_method == "proxy"


@pytest.mark.parametrize(
    ("named", "status", "code"),
    [
        (UNGRANTED, 403, "access-denied"),
        (SUSPENDED, 403, "access-denied"),
        ("nobody/nothing", 401, "unauthenticated"),
    ],
    ids=["known-without-grant", "suspended", "unknown"],
)
async def test_a_trusted_proxy_cannot_lend_more_than_the_named_system_holds(
    behind_proxy: Platform, named: str, status: int, code: str
) -> None:
    platform = behind_proxy
    response = await platform.client.post(
        PERSON,
        json={"national_code": platform.citizen},
        headers={"X-Verified-Client-System": named, "X-Purpose": PURPOSE},
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    record = await platform.record(response)
    assert record.outcome is Outcome.DENIED
    assert record.consumer == (UNGRANTED if named == UNGRANTED else None)
