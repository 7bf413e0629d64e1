"""Who is on the other end: the one function every part of the web app asks for the client's
address (the sign-in throttle, /metrics' loopback rule).

Behind a reverse proxy the socket's peer is the proxy.  Only when that peer is listed in
``PANJEREH_TRUSTED_FORWARDERS`` is ``X-Forwarded-For`` read, from the right: each address a
trusted forwarder added is skipped, and the first address that is not a trusted forwarder is the
client (what a client wrote into the header itself stands further left and is never reached).
From any other peer the header is ignored, so nobody can choose the address they are counted
under.  IPv4-mapped IPv6 addresses are given as IPv4.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import Request

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 32  # a longer chain is read only this far from the right


@lru_cache(maxsize=8)
def networks(listed: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in listed)


def parse_address(text: str) -> Address | None:
    """An address as a header or the server gives it: ``1.2.3.4``, ``1.2.3.4:5678``,
    ``2001:db8::1``, ``[2001:db8::1]:443``; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _forwarded(request: Request) -> list[str]:
    hops = [hop for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    return hops[-MAX_HOPS:]


def client_address(request: Request, trusted_forwarders: Sequence[str]) -> str | None:
    """The client's address as text (None when the server gave no peer)."""
    peer = parse_address(request.client.host) if request.client is not None else None
    if peer is None:
        return None
    trusted = networks(tuple(trusted_forwarders))
    current = peer
    if not any(current in network for network in trusted):
        return str(current)
    for hop in reversed(_forwarded(request)):
        found = parse_address(hop)
        if found is None:  # a trusted forwarder would not write this: stop at its address
            break
        current = found
        if not any(current in network for network in trusted):
            break
    return str(current)
