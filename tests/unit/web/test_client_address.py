"""Whose address a request is counted under: the peer, or behind a trusted forwarder the
right-most address in X-Forwarded-For that no trusted forwarder added."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from panjereh.web.client_address import client_address, parse_address

TRUSTED = ("127.0.0.1", "192.0.2.0/29", "2001:db8:f::/48")


def request_from(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": headers,
        "client": (peer, 40000) if peer is not None else None,
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # an untrusted peer: the header is ignored, whatever it says
        ("198.51.100.7", ["203.0.113.5"], "198.51.100.7"),
        ("198.51.100.7", [], "198.51.100.7"),
        # a trusted forwarder: the address it appended
        ("127.0.0.1", ["203.0.113.5"], "203.0.113.5"),
        # a client's own X-Forwarded-For stands left of what the forwarder appended
        ("127.0.0.1", ["10.9.9.9, 203.0.113.5"], "203.0.113.5"),
        ("127.0.0.1", ["10.9.9.9", "203.0.113.5"], "203.0.113.5"),
        # two trusted forwarders in a row are both skipped
        ("127.0.0.1", ["203.0.113.5, 192.0.2.3"], "203.0.113.5"),
        ("127.0.0.1", ["2001:db8:1::7, 2001:db8:f::1"], "2001:db8:1::7"),
        # only trusted hops (or none): the left-most one / the peer
        ("127.0.0.1", ["192.0.2.4"], "192.0.2.4"),
        ("127.0.0.1", [], "127.0.0.1"),
        # garbage from the right stops at the last trusted hop
        ("127.0.0.1", ["203.0.113.5, not-an-address"], "127.0.0.1"),
        # ports, brackets and IPv4-mapped IPv6
        ("127.0.0.1", ["[2001:db8:1::7]:4431"], "2001:db8:1::7"),
        ("127.0.0.1", ["203.0.113.5:8080"], "203.0.113.5"),
        ("::ffff:198.51.100.7", [], "198.51.100.7"),
    ],
)
def test_it_reads_x_forwarded_for_only_from_a_trusted_forwarder(
    peer: str, forwarded: list[str], expected: str
) -> None:
    assert client_address(request_from(peer, *forwarded), TRUSTED) == expected


def test_without_trusted_forwarders_it_is_always_the_peer() -> None:
    assert client_address(request_from("127.0.0.1", "203.0.113.5"), ()) == "127.0.0.1"


def test_a_request_without_a_peer_has_no_address() -> None:
    assert client_address(request_from(None, "203.0.113.5"), TRUSTED) is None
    assert parse_address("") is None
    assert parse_address("1.2.3") is None
