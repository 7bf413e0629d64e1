"""Kept payloads: AES-256-GCM with a random nonce per body, bound to its record and kind."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from panjereh.audit.payloads import (
    KeptPayloads,
    PayloadError,
    PayloadKeys,
    PayloadKind,
    associated_data,
)

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
BODY = b'{"national_code":"0012345679","name":"\xd9\x85\xd8\xb1\xdb\x8c\xd9\x85"}'
EXCHANGE_ID = "01JEXAMPLE0000000000000000"


def test_a_sealed_body_opens_to_the_same_bytes() -> None:
    keys = PayloadKeys(KEY, key_id="p1")
    sealed = keys.seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY)
    assert (sealed.exchange_id, sealed.kind, sealed.key_id) == (
        EXCHANGE_ID,
        PayloadKind.REQUEST,
        "p1",
    )
    assert len(sealed.nonce) == 12
    assert len(sealed.ciphertext) == len(BODY) + 16  # GCM's tag
    assert keys.open(sealed) == BODY


def test_it_is_plain_aes_256_gcm_with_the_documented_associated_data() -> None:
    """Any AES-GCM implementation opens it with the key, the nonce and the documented AAD."""
    sealed = PayloadKeys(KEY, key_id="p1").seal(EXCHANGE_ID, PayloadKind.RESPONSE, BODY)
    aad = f"panjereh.payload/1\n{EXCHANGE_ID}\nresponse".encode()
    assert associated_data(EXCHANGE_ID, PayloadKind.RESPONSE) == aad
    assert AESGCM(KEY).decrypt(sealed.nonce, sealed.ciphertext, aad) == BODY


def test_the_ciphertext_does_not_contain_the_plaintext_and_nonces_differ() -> None:
    keys = PayloadKeys(KEY, key_id="p1")
    first = keys.seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY)
    second = keys.seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY)
    assert b"0012345679" not in first.ciphertext
    assert BODY not in first.ciphertext
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_seal_both_seals_the_request_and_the_response() -> None:
    keys = PayloadKeys(KEY, key_id="p1")
    request, response = keys.seal_both(KeptPayloads(EXCHANGE_ID, b"{}", b'{"ok":true}'))
    assert (request.kind, response.kind) == (PayloadKind.REQUEST, PayloadKind.RESPONSE)
    assert (keys.open(request), keys.open(response)) == (b"{}", b'{"ok":true}')


def test_an_older_key_still_opens_what_it_sealed_after_a_rotation() -> None:
    sealed = PayloadKeys(KEY, key_id="p1").seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY)
    rotated = PayloadKeys(OTHER, key_id="p2", previous=[("p1", KEY)])
    assert rotated.open(sealed) == BODY
    assert rotated.seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY).key_id == "p2"
    assert rotated.key_ids == ("p2", "p1")


def test_an_unknown_key_id_is_a_clear_error() -> None:
    sealed = PayloadKeys(KEY, key_id="p1").seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY)
    with pytest.raises(PayloadError, match=r"sealed with key 'p1', which is not configured"):
        PayloadKeys(OTHER, key_id="p2").open(sealed)


def test_the_wrong_key_under_the_same_id_is_a_clear_error() -> None:
    sealed = PayloadKeys(KEY, key_id="p1").seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY)
    with pytest.raises(PayloadError, match=r"does not decrypt under key 'p1'"):
        PayloadKeys(OTHER, key_id="p1").open(sealed)


@pytest.mark.parametrize(
    "change",
    [
        {"ciphertext": b"\x00" + b"x" * (len(BODY) + 15)},
        {"exchange_id": "01JOTHERRECORD000000000000"},  # moved to another record
        {"kind": PayloadKind.RESPONSE},  # request and response swapped
        {"nonce": bytes(12)},
    ],
    ids=["ciphertext", "exchange-id", "kind", "nonce"],
)
def test_a_tampered_payload_is_a_clear_error(change: dict[str, object]) -> None:
    keys = PayloadKeys(KEY, key_id="p1")
    sealed = keys.seal(EXCHANGE_ID, PayloadKind.REQUEST, BODY)
    flipped = bytearray(sealed.ciphertext)
    flipped[3] ^= 0x01
    with pytest.raises(PayloadError, match="the stored payload was altered"):
        keys.open(dataclasses.replace(sealed, ciphertext=bytes(flipped)))
    with pytest.raises(PayloadError, match="the stored payload was altered"):
        keys.open(dataclasses.replace(sealed, **change))  # type: ignore[arg-type]


def test_keys_of_the_wrong_size_and_repeated_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="exactly 32 bytes"):
        PayloadKeys(b"x" * 16, key_id="p1")
    with pytest.raises(ValueError, match="differ"):
        PayloadKeys(KEY, key_id="p1", previous=[("p1", OTHER)])
