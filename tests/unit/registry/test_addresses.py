"""The classes of IP addresses a provider endpoint may be at, and the blocks an operator records."""

from __future__ import annotations

import contextlib
from ipaddress import ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from panjereh.domain.errors import InvalidValue
from panjereh.registry.addresses import (
    AddressClass,
    NetworkPolicy,
    classify,
    parse_block,
    parse_blocks,
    unwrapped,
)

CASES = {
    AddressClass.PUBLIC: ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "2a00:1450::1"],
    AddressClass.PRIVATE: [
        "10.20.3.4",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (CGNAT)
        "fd00::1",
        "fc00::1",
        "fec0::1",  # the old site-local range (Python 3.11 calls it global)
    ],
    AddressClass.LOOPBACK: ["127.0.0.1", "127.255.255.254", "::1"],
    AddressClass.LINK_LOCAL: ["169.254.169.254", "169.254.0.1", "fe80::1"],
    AddressClass.UNSPECIFIED: ["0.0.0.0", "0.1.2.3", "::"],  # noqa: S104 - not a binding
    AddressClass.MULTICAST: ["224.0.0.1", "239.255.255.250", "ff02::1"],
    AddressClass.RESERVED: [
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.7",  # documentation
        "198.18.0.1",  # benchmarking
        "2001:db8::1",
        "2001::1",  # Teredo
        "64:ff9b:1::1",  # local-use NAT64 (Python 3.11 calls it global)
    ],
}


@pytest.mark.parametrize(
    ("text", "kind"), [(text, kind) for kind, texts in CASES.items() for text in texts]
)
def test_each_address_has_its_class(text: str, kind: AddressClass) -> None:
    assert classify(ip_address(text)) is kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),  # IPv4-mapped
        ("::ffff:169.254.169.254", AddressClass.LINK_LOCAL),
        ("::ffff:10.20.3.4", AddressClass.PRIVATE),
        ("::ffff:8.8.8.8", AddressClass.PUBLIC),
        ("::127.0.0.1", AddressClass.LOOPBACK),  # IPv4-compatible (deprecated)
        ("::ffff:0:127.0.0.1", AddressClass.LOOPBACK),  # SIIT
        ("64:ff9b::127.0.0.1", AddressClass.LOOPBACK),  # NAT64 well-known prefix
        ("64:ff9b::a9fe:a9fe", AddressClass.LINK_LOCAL),
        ("2002:7f00:1::", AddressClass.LOOPBACK),  # 6to4 of 127.0.0.1
        ("2002:a14:304::1", AddressClass.PRIVATE),  # 6to4 of 10.20.3.4
    ],
)
def test_an_ipv6_address_carrying_an_ipv4_one_is_judged_as_that_one(
    text: str, kind: AddressClass
) -> None:
    assert classify(ip_address(text)) is kind


def test_unwrapping_gives_the_ipv4_address_itself() -> None:
    assert unwrapped(ip_address("::ffff:10.20.3.4")) == ip_address("10.20.3.4")
    assert unwrapped(ip_address("2001:4860::1")) == ip_address("2001:4860::1")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_an_ipv4_address_and_its_mapped_form_are_always_in_one_class(number: int) -> None:
    plain = ip_address(number)
    mapped = ip_address(f"::ffff:{plain}")
    assert classify(mapped) is classify(plain)


def test_a_policy_covers_only_its_blocks() -> None:
    policy = NetworkPolicy(parse_blocks(["10.20.0.0/16"]))

    assert policy.covers(ip_address("10.20.255.1"))
    assert not policy.covers(ip_address("10.21.0.1"))
    assert not policy.covers(ip_address("fd00::1"))


def test_the_stored_form_reads_back_as_the_same_policy() -> None:
    stored = NetworkPolicy.parse("10.20.0.0/16 fd00:20::/32", allow_http=True)

    made = NetworkPolicy((ip_network("10.20.0.0/16"), ip_network("fd00:20::/32")), allow_http=True)
    assert stored == made
    assert hash(stored) == hash(made)  # equal policies of two snapshots share one gate
    assert stored != NetworkPolicy(made.private_blocks)


@pytest.mark.parametrize(
    "text", ["10.20.0.0/16", "172.20.0.0/14", "192.168.7.0/24", "100.64.0.0/10", "fd00:20::/32"]
)
def test_a_private_block_may_be_recorded(text: str) -> None:
    assert str(parse_block(text)) == text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("10.20.0.1/16", "network.block"),  # host bits set
        ("10.20.0.0/33", "network.block"),
        ("a block", "network.block"),
        ("", "network.block"),
        ("0.0.0.0/0", "network.block-not-private"),
        ("10.0.0.0/7", "network.block-not-private"),  # reaches past 10.0.0.0/8
        ("127.0.0.0/8", "network.block-not-private"),
        ("169.254.0.0/16", "network.block-not-private"),
        ("8.8.8.0/24", "network.block-not-private"),
        ("::ffff:10.0.0.0/104", "network.block-not-private"),
        ("fe80::/10", "network.block-not-private"),
    ],
)
def test_anything_else_is_refused_in_both_languages(text: str, code: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_block(text)
    assert caught.value.code == code
    assert caught.value.message_fa
    assert caught.value.field == "private_blocks"


def test_blocks_are_kept_once_each_in_a_stable_order() -> None:
    found = parse_blocks(["fd00::/8", "192.168.0.0/16", "10.0.0.0/8", "10.0.0.0/8"])

    assert [str(b) for b in found] == ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"]


def test_at_most_64_blocks_are_recorded() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_blocks([f"10.{n}.0.0/16" for n in range(65)])
    assert caught.value.code == "network.too-many-blocks"


@given(st.text(max_size=60))
def test_parsing_a_block_never_fails_other_than_with_invalid_value(text: str) -> None:
    with contextlib.suppress(InvalidValue):
        parse_block(text)
