"""The throttle's rules and keys, without storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from panjereh.domain.throttle import (
    DEFAULT_POLICY,
    KeyKind,
    KeyState,
    Verdict,
    account_key,
    address_key,
    audited_refusal,
    key_id,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_five_failures_are_free_then_each_further_one_doubles_the_lock_up_to_fifteen_minutes() -> (
    None
):
    delays = [DEFAULT_POLICY.delay_after(n).total_seconds() for n in range(1, 19)]
    assert delays == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert DEFAULT_POLICY.delay_after(10_000) == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2::10", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ],
)
def test_ipv6_clients_are_counted_by_their_64_bit_network(address: str, key: str) -> None:
    found = address_key(address)
    assert (found.kind, found.value, found.label) == (KeyKind.ADDRESS, key, key)


def test_keys_are_stored_by_an_hmac_that_differs_per_kind_and_secret() -> None:
    owner = account_key(" owner ")
    assert owner.value == "owner"
    assert key_id(b"one", owner) != key_id(b"two", owner)
    assert key_id(b"one", owner) != key_id(b"one", address_key("203.0.113.9"))
    assert "owner" not in key_id(b"one", owner)


def test_refusals_are_written_for_powers_of_two_only() -> None:
    written = [n for n in range(1, 70) if audited_refusal(n)]
    assert written == [1, 2, 4, 8, 16, 32, 64]
    assert not audited_refusal(0)


def test_a_verdict_waits_for_its_longest_lock_rounded_up_to_whole_seconds() -> None:
    states = (
        KeyState("a", KeyKind.ACCOUNT, "owner", 6, NOW + timedelta(seconds=1)),
        KeyState("b", KeyKind.ADDRESS, "203.0.113.9", 8, NOW + timedelta(seconds=3.2)),
        KeyState("c", KeyKind.ADDRESS, "203.0.113.8", 9, NOW - timedelta(seconds=3)),
    )
    verdict = Verdict(NOW, states)
    assert not verdict.allowed
    assert verdict.retry_after == 3.2
    assert verdict.retry_after_header() == "4"
    assert Verdict(NOW, states[2:]).allowed
