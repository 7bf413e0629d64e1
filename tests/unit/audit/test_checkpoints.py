"""A checkpoint's canonical body, its signature and its published form."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import nacl.bindings
import pytest

from panjereh.audit.checkpoints import FORMAT, FORMAT_V1, NO_PREVIOUS, Checkpoint

PUBLIC, SECRET = nacl.bindings.crypto_sign_seed_keypair(bytes(range(32)))


def _sign(body: bytes) -> bytes:
    return nacl.bindings.crypto_sign(body, SECRET)[:64]


CHECKPOINT = Checkpoint(
    number=3,
    created_at=datetime(2026, 12, 2, 9, 0, 0, 250000, tzinfo=UTC),
    heads={"w2": (4, "bb" * 32), "w1": (10, "aa" * 32)},
    ranges={"w1": (8, 10), "w2": (1, 4)},
    tree_size=7,
    merkle_root="cc" * 32,
    previous="dd" * 32,
)


PINNED = dataclasses.replace(CHECKPOINT, events={"control-plane": (12, "ee" * 32)})


def test_the_body_is_the_documented_canonical_json() -> None:
    assert PINNED.body() == (
        b'{"created_at":"2026-12-02T09:00:00.250000Z",'
        b'"events":{"control-plane":[12,"' + b"ee" * 32 + b'"]},"format":"panjereh.checkpoint/2",'
        b'"heads":{"w1":[10,"' + b"aa" * 32 + b'"],"w2":[4,"' + b"bb" * 32 + b'"]},'
        b'"merkle_root":"' + b"cc" * 32 + b'","number":3,"previous":"' + b"dd" * 32 + b'",'
        b'"ranges":{"w1":[8,10],"w2":[1,4]},"tree_size":7}'
    )  # fmt: skip
    assert (FORMAT, PINNED.format) == ("panjereh.checkpoint/2", "panjereh.checkpoint/2")
    assert NO_PREVIOUS == "0" * 64


def test_a_checkpoint_made_before_the_events_were_pinned_keeps_its_format_1_body() -> None:
    """Without ``events`` the body is format 1 as it was signed, byte for byte."""
    assert CHECKPOINT.body() == (
        b'{"created_at":"2026-12-02T09:00:00.250000Z","format":"panjereh.checkpoint/1",'
        b'"heads":{"w1":[10,"' + b"aa" * 32 + b'"],"w2":[4,"' + b"bb" * 32 + b'"]},'
        b'"merkle_root":"' + b"cc" * 32 + b'","number":3,"previous":"' + b"dd" * 32 + b'",'
        b'"ranges":{"w1":[8,10],"w2":[1,4]},"tree_size":7}'
    )  # fmt: skip
    assert (FORMAT_V1, CHECKPOINT.format) == ("panjereh.checkpoint/1", "panjereh.checkpoint/1")


def test_a_signed_checkpoint_verifies_with_its_key_only() -> None:
    signed = CHECKPOINT.signed("exchange-2026-12-02", _sign)
    keys = {"exchange-2026-12-02": PUBLIC}
    assert signed.signature_valid(keys.get)
    other, _ = nacl.bindings.crypto_sign_seed_keypair(bytes(32))
    assert not signed.signature_valid(lambda _: other)
    assert not signed.signature_valid(lambda _: None)
    changed = dataclasses.replace(signed, tree_size=8)
    assert not changed.signature_valid(lambda _: PUBLIC)
    garbled = dataclasses.replace(signed, signature="not base64!")
    assert not garbled.signature_valid(lambda _: PUBLIC)


@pytest.mark.parametrize("checkpoint", [PINNED, CHECKPOINT], ids=["format-2", "format-1"])
def test_the_published_form_reads_back_to_the_same_checkpoint(checkpoint: Checkpoint) -> None:
    signed = checkpoint.signed("exchange-2026-12-02", _sign)
    published = signed.as_json()
    assert published["hash"] == signed.hash
    assert ("events" in published) is (checkpoint.events is not None)
    back = Checkpoint.from_json(published)
    assert back == signed
    assert back.body() == signed.body()
    assert back.signature_valid(lambda _: PUBLIC)


def test_the_pinned_events_head_is_signed() -> None:
    signed = PINNED.signed("exchange-2026-12-02", _sign)
    for events in ({"control-plane": (11, "ee" * 32)}, {"control-plane": (12, "ef" * 32)}, None):
        changed = dataclasses.replace(signed, events=events)
        assert not changed.signature_valid(lambda _: PUBLIC)


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"format": "other"},
        {"format": FORMAT},
        {"format": FORMAT, "number": "x"},
        [],
        {**CHECKPOINT.as_json(), "format": FORMAT},  # format 2 without its events
        {**PINNED.as_json(), "events": {"control-plane": "x"}},
    ],
)
def test_something_else_is_not_read_as_a_checkpoint(document: object) -> None:
    with pytest.raises(ValueError, match="not a"):
        Checkpoint.from_json(document)  # type: ignore[arg-type]
