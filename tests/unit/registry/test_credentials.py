from __future__ import annotations

import base64

import pytest

from panjereh.domain.errors import InvalidValue
from panjereh.registry.credentials import (
    KEY_PREFIX,
    derived_api_key,
    display_prefix,
    hash_api_key,
    new_api_key,
)
from panjereh.registry.model import parse_code, parse_service_id


def test_a_new_key_carries_128_random_bits() -> None:
    key = new_api_key()
    assert key.startswith(KEY_PREFIX)
    raw = base64.urlsafe_b64decode(key[len(KEY_PREFIX) :] + "==")
    assert len(raw) == 16
    assert len({new_api_key() for _ in range(1000)}) == 1000


def test_the_hash_depends_on_the_pepper() -> None:
    key = new_api_key()
    assert hash_api_key(b"pepper-one-0123456", key) != hash_api_key(b"pepper-two-0123456", key)
    assert hash_api_key(b"pepper-one-0123456", key) == hash_api_key(b"pepper-one-0123456", key)
    assert key not in hash_api_key(b"pepper-one-0123456", key)


def test_derived_demo_keys_are_stable_per_pepper_and_label() -> None:
    assert derived_api_key(b"p" * 20, "a/b") == derived_api_key(b"p" * 20, "a/b")
    assert derived_api_key(b"p" * 20, "a/b") != derived_api_key(b"q" * 20, "a/b")
    assert derived_api_key(b"p" * 20, "a/b") != derived_api_key(b"p" * 20, "a/c")


def test_the_display_prefix_reveals_only_a_few_characters() -> None:
    key = new_api_key()
    assert display_prefix(key) == key[:8]


@pytest.mark.parametrize(
    "value", ["civil-registry.person.v1", "a.b.v2", "tax-admin.tax-status.v12"]
)
def test_it_accepts_well_formed_service_ids(value: str) -> None:
    assert parse_service_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "civil-registry.person",
        "Civil.person.v1",
        "a.b.v0",
        "a..v1",
        "a.b.v1 ",
        "ثبت.فرد.v1",
        "a.b.v١",
    ],
)
def test_it_rejects_malformed_service_ids(value: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_service_id(value)
    assert caught.value.code == "service-id.format"


def test_it_rejects_malformed_codes() -> None:
    assert parse_code("civil-registry") == "civil-registry"
    with pytest.raises(InvalidValue):
        parse_code("-civil")
