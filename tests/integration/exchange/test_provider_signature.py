"""The provider side: the simulated agencies answer only requests the exchange signed.

Personas: the exchange (signs with its active key), a caller going around the exchange (no
signature), and an impostor (signs with a key the exchange never published).
"""

from __future__ import annotations

import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from panjereh.exchange.signatures import PROVIDER_REQUEST, RequestSigner, content_digest
from tests.integration.conftest import Live

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PERSON = "/simulator/civil-registry/person"


def _signed(live: Live, key: Ed25519PrivateKey, key_id: str, body: bytes) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "content-digest": content_digest(body),
        "x-exchange-id": str(uuid.uuid4()),
        "x-consumer-system": "social-security/benefits",
        "x-purpose": "benefit-eligibility",
    }
    authority = live.url.removeprefix("http://")
    signer = RequestSigner(key, key_id, PROVIDER_REQUEST)
    headers |= signer.sign(
        method="POST", authority=authority, path=PERSON, headers=headers, created=time.time()
    )
    return headers


async def test_the_agency_refuses_a_request_that_went_around_the_exchange(live: Live) -> None:
    answer = await live.client.post(PERSON, json={"national_code": live.citizen})
    assert answer.status_code == 401
    assert answer.json()["code"] == "exchange-signature-required"
    assert live.citizen not in answer.text


async def test_the_agency_refuses_a_request_signed_with_an_unpublished_key(live: Live) -> None:
    body = f'{{"national_code": "{live.citizen}"}}'.encode()
    impostor = Ed25519PrivateKey.generate()
    headers = _signed(live, impostor, live.app.runtime.keys.active_id, body)
    answer = await live.client.post(PERSON, content=body, headers=headers)
    assert answer.status_code == 401


async def test_the_agency_refuses_a_signed_request_whose_body_was_changed(live: Live) -> None:
    keys = live.app.runtime.keys
    body = f'{{"national_code": "{live.citizen}"}}'.encode()
    headers = _signed(live, keys.private_key, keys.active_id, body)
    changed = body.replace(b'"}', b'", "x": 1}')
    answer = await live.client.post(PERSON, content=changed, headers=headers)
    assert answer.status_code == 401


async def test_the_agency_answers_a_request_the_exchange_signed(live: Live) -> None:
    keys = live.app.runtime.keys
    body = f'{{"national_code": "{live.citizen}"}}'.encode()
    headers = _signed(live, keys.private_key, keys.active_id, body)
    answer = await live.client.post(PERSON, content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json()["national_code"] == live.citizen


async def test_an_inquiry_through_the_exchange_reaches_the_agency_signed(live: Live) -> None:
    answer = await live.client.post(
        "/exchange/v1/services/civil-registry.person.v1",
        json={"national_code": live.citizen},
        headers={"Authorization": f"ApiKey {live.granted_key}", "X-Purpose": "benefit-eligibility"},
    )
    assert answer.status_code == 200
    assert answer.json()["national_code"] == live.citizen
