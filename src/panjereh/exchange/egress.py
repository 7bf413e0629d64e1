"""Where the exchange may connect when it calls a provider (SSRF), checked per new connection.

Registration checks what an endpoint URL says (`panjereh.registry.endpoints`); this checks where
the exchange actually goes: every address the endpoint's host resolved to, for the connection
being made (`panjereh.exchange.http1` calls `EgressGate.admit` before it connects, then
connects to the checked address).  The rules, in order:

1. public addresses may be called;
2. link-local (cloud metadata), unspecified, multicast and reserved addresses never are;
3. in development (``PANJEREH_ALLOW_PRIVATE_ENDPOINTS``) loopback and private addresses may be;
4. otherwise a private address only inside a block recorded on the provider's agency
   (`NetworkPolicy`), and loopback never;
5. the platform's own servers (its database, Redis, NATS; resolved from the settings when the
   runtime starts) are never called, even where 1-4 allow their address: in production on no
   port of their addresses, in development not on their own ports — the demo's simulated
   agencies answer on loopback too, on the application's port;
6. plain ``http://`` only where the agency's record allows it (or in development).

An IPv6 address carrying an IPv4 one (``::ffff:127.0.0.1``) is judged as the IPv4 address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from panjereh.exchange.http1 import AddressRefused, Endpoint, IPAddress
from panjereh.registry.addresses import (
    NEVER_CALLED,
    AddressClass,
    NetworkPolicy,
    classify,
    unwrapped,
)


@dataclass(frozen=True, slots=True)
class OwnServer:
    """One of the platform's own servers: never called as a provider."""

    name: str  # "database", "redis", "nats": for the log line
    address: IPAddress
    port: int


@dataclass(frozen=True, slots=True)
class EgressRules:
    """The process's part of the rules: the development switch and the platform's servers."""

    allow_private: bool = False
    own: tuple[OwnServer, ...] = ()

    def gate(self, policy: NetworkPolicy) -> EgressGate:
        return EgressGate(self, policy)

    def own_server(self, address: IPAddress, port: int) -> OwnServer | None:
        """The platform server at ``address`` (any port in production, ``port`` in
        development), if there is one."""
        for server in self.own:
            if server.address == address and (not self.allow_private or server.port == port):
                return server
        return None


class EgressGate:
    """The rules for one agency's providers (a `panjereh.exchange.http1.Gate`)."""

    __slots__ = ("_policy", "_rules")

    def __init__(self, rules: EgressRules, policy: NetworkPolicy) -> None:
        self._rules = rules
        self._policy = policy

    def admit(self, where: Endpoint, addresses: Sequence[IPAddress]) -> None:
        for address in addresses:
            reason = self.refusal(address, where.port)
            if reason is not None:
                raise AddressRefused(where.host, str(address), reason)
        if where.scheme == "http" and not (self._policy.allow_http or self._rules.allow_private):
            shown = str(addresses[0]) if addresses else ""
            raise AddressRefused(where.host, shown, "plain http, and its agency may use https only")

    def refusal(self, address: IPAddress, port: int) -> str | None:
        """Why the exchange does not call ``address``:``port``, or None if it may."""
        plain = unwrapped(address)
        reason = self._class_refusal(plain)
        if reason is not None:
            return reason
        own = self._rules.own_server(plain, port)
        return f"the platform's own {own.name}" if own is not None else None

    def _class_refusal(self, address: IPAddress) -> str | None:
        kind = classify(address)
        if kind is AddressClass.PUBLIC:
            return None
        if kind in NEVER_CALLED:
            return kind.value
        if self._rules.allow_private or self._policy.covers(address):
            return None
        if kind is AddressClass.PRIVATE:
            return "private, outside the address blocks recorded on its agency"
        return kind.value
