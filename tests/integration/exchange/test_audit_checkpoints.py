"""The exchange's audit checkpoints end to end: inquiries are chained, a checkpoint is signed
with the exchange's key and published at /api/v1/audit/checkpoints for anyone to keep."""

from __future__ import annotations

import base64

import nacl.bindings

from panjereh.audit.checkpoints import Checkpoint
from tests.integration.exchange.harness import Platform, Provider


def _jwk_key(jwk: dict[str, str]) -> bytes:
    return base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))


async def test_a_published_checkpoint_covers_the_inquiries_and_verifies_with_the_jwks(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    for _ in range(3):
        assert (await platform.ask()).status_code == 200
    assert (await platform.client.get("/api/v1/audit/checkpoints")).json() == []
    made = await platform.app.runtime.checkpoint()
    assert made is not None
    published = (await platform.client.get("/api/v1/audit/checkpoints")).json()
    assert [c["number"] for c in published] == [1]
    checkpoint = Checkpoint.from_json(published[0])
    assert checkpoint == made
    assert checkpoint.tree_size == 3
    jwks = (await platform.client.get("/exchange/v1/keys")).json()
    keys = {jwk["kid"]: _jwk_key(jwk) for jwk in jwks["keys"]}
    assert checkpoint.signature_valid(keys.get)
    signature = base64.b64decode(checkpoint.signature)
    assert nacl.bindings.crypto_sign_open(signature + checkpoint.body(), keys[checkpoint.key_id])
    after = (await platform.client.get("/api/v1/audit/checkpoints?after=1")).json()
    assert after == []
