"""The provider transport checks the address it actually connects to (SSRF), over real sockets.

The tests answer host names themselves (a `Resolver` they control, never the machine's files)
and connect through a `Connector` that notes the address the client asked for and then goes to
a small server on 127.0.0.1, so "10.20.3.4" can stand for an agency's private network.  What is
asserted: the answer or the refusal, the addresses and host names the client connected with,
how often names were resolved, and how many connections the server accepted.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from panjereh.exchange.egress import EgressGate, EgressRules, OwnServer
from panjereh.exchange.http1 import AddressRefused, Dialer, endpoint
from panjereh.exchange.problems import Problem
from panjereh.exchange.transport import ProviderReply, ProviderTransport
from panjereh.registry.addresses import NetworkPolicy, parse_blocks
from tests.unit.exchange.test_http1 import (
    OK,
    RawServer,
    Servers,
    answering,
    eventually,
    self_signed,
)

NAME = "person.civil-registry.example"
HTTPS_ONLY = NetworkPolicy()
BLOCK = NetworkPolicy(parse_blocks(["10.20.0.0/16"]))
BLOCK_AND_HTTP = NetworkPolicy(BLOCK.private_blocks, allow_http=True)
HTTP_ONLY_PUBLIC = NetworkPolicy(allow_http=True)
CLOSING = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
    b'Connection: close\r\n\r\n{"ok":true}'
)


@dataclass
class Network:
    """Names the test answers, and a connector that reaches ``server`` whatever the address."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    resolved: list[str] = field(default_factory=list)
    connected: list[tuple[str, int, str | None]] = field(default_factory=list)
    server: RawServer | None = None

    async def resolve(self, host: str, port: int) -> Sequence[str]:
        self.resolved.append(host)
        if host not in self.answers:
            raise OSError(f"no such name {host}")
        return self.answers[host]

    async def connect(
        self,
        factory: Callable[[], asyncio.Protocol],
        address: str,
        port: int,
        *,
        ssl: ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        self.connected.append((address, port, server_hostname))
        assert self.server is not None
        return await asyncio.get_running_loop().create_connection(
            factory, "127.0.0.1", self.server.port, ssl=ssl, server_hostname=server_hostname
        )

    @property
    def dialer(self) -> Dialer:
        return Dialer(resolve=self.resolve, connect=self.connect)


@pytest.fixture
async def servers() -> AsyncIterator[Servers]:
    made = Servers()
    yield made
    assert await made.close() == []


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
async def transports(network: Network) -> AsyncIterator[Callable[..., Any]]:
    made: list[ProviderTransport] = []

    async def make(**rules: Any) -> ProviderTransport:
        transport = ProviderTransport(
            max_response_bytes=1024, egress=EgressRules(**rules), dialer=network.dialer
        )
        await transport.start()
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.close()


async def _refused(
    transport: ProviderTransport, url: str, policy: NetworkPolicy = HTTPS_ONLY
) -> Problem:
    with pytest.raises(Problem) as raised:
        await transport.post(url, b"{}", {}, 1.0, policy=policy, service="civil-registry.person.v1")
    assert raised.value.kind.code == "provider-address-refused"
    assert raised.value.kind.status == 502
    return raised.value


# Names that lead where the exchange must not go ---------------------------------------------


async def test_a_name_resolving_to_loopback_is_refused_before_any_connection(
    servers: Servers, network: Network, transports: Callable[..., Any]
) -> None:
    network.server = await servers.start(answering(OK))
    network.answers[NAME] = ["127.0.0.1"]
    transport = await transports()

    problem = await _refused(transport, f"https://{NAME}/person")

    assert "127.0.0.1" not in problem.detail
    assert network.connected == []
    assert network.server.accepted == 0


@pytest.mark.parametrize(
    "address", ["::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:0:127.0.0.1", "::1"]
)
async def test_an_ipv6_answer_carrying_a_refused_ipv4_address_is_refused(
    servers: Servers, network: Network, transports: Callable[..., Any], address: str
) -> None:
    network.server = await servers.start(answering(OK))
    network.answers[NAME] = [address]
    transport = await transports()

    await _refused(transport, f"https://{NAME}/person")

    assert network.connected == []


async def test_one_bad_address_among_several_refuses_the_call(
    servers: Servers, network: Network, transports: Callable[..., Any]
) -> None:
    network.server = await servers.start(answering(OK))
    network.answers[NAME] = ["10.20.0.7", "93.184.216.34", "169.254.169.254"]
    transport = await transports()

    await _refused(transport, f"http://{NAME}/person", BLOCK_AND_HTTP)

    assert network.connected == []


async def test_a_name_that_changes_its_answer_is_checked_again_on_the_next_new_connection(
    servers: Servers, network: Network, transports: Callable[..., Any]
) -> None:
    network.server = await servers.start(answering(CLOSING))  # every answer ends its connection
    network.answers[NAME] = ["93.184.216.34"]  # public when it was registered and first called
    transport = await transports()
    url = f"http://{NAME}/person"

    first = await transport.post(url, b"{}", {}, 1.0, policy=HTTP_ONLY_PUBLIC)
    network.answers[NAME] = ["127.0.0.1"]  # rebound
    await _refused(transport, url, HTTP_ONLY_PUBLIC)

    assert first.status == 200
    assert network.resolved == [NAME, NAME]
    assert network.connected == [("93.184.216.34", 80, None)]
    assert network.server.accepted == 1


async def test_a_kept_alive_connection_is_not_resolved_again(
    servers: Servers, network: Network, transports: Callable[..., Any]
) -> None:
    network.server = await servers.start(answering(OK))
    network.answers[NAME] = ["10.20.3.4"]
    transport = await transports()
    url = f"http://{NAME}:8080/person"

    for _ in range(3):
        reply = await transport.post(url, b"{}", {}, 1.0, policy=BLOCK_AND_HTTP)
        assert reply == ProviderReply(200, b'{"ok":true}', "application/json")

    assert network.resolved == [NAME]
    assert network.connected == [("10.20.3.4", 8080, None)]
    assert network.server.accepted == 1


async def test_a_kept_alive_connection_is_checked_again_when_the_agencys_record_changes(
    servers: Servers, network: Network, transports: Callable[..., Any]
) -> None:
    network.server = await servers.start(answering(OK))
    network.answers[NAME] = ["10.20.3.4"]
    transport = await transports()
    url = f"http://{NAME}/person"
    await transport.post(url, b"{}", {}, 1.0, policy=BLOCK_AND_HTTP)
    same = NetworkPolicy(BLOCK_AND_HTTP.private_blocks, allow_http=True)  # the next snapshot's

    again = await transport.post(url, b"{}", {}, 1.0, policy=same)
    await _refused(transport, url, HTTP_ONLY_PUBLIC)  # the block was taken off the record

    assert again.status == 200
    assert network.server.accepted == 1  # an equal record: the same gate, the same connection
    # Refused on its kept address, the connection was dropped and the name resolved afresh.
    assert network.resolved == [NAME, NAME]
    await eventually(lambda: network.server is not None and network.server.ended == 1)


# What an operator allows -------------------------------------------------------------------


async def test_a_name_inside_a_recorded_block_is_connected_at_the_checked_address(
    servers: Servers, network: Network, transports: Callable[..., Any]
) -> None:
    network.server = await servers.start(answering(OK))
    network.answers[NAME] = ["10.20.3.4"]
    network.answers[f"other.{NAME}"] = ["10.21.0.1"]
    transport = await transports()

    reply = await transport.post(f"http://{NAME}:8443/p", b"{}", {}, 1.0, policy=BLOCK_AND_HTTP)
    await _refused(transport, f"http://other.{NAME}:8443/p", BLOCK_AND_HTTP)

    assert reply.status == 200
    assert network.connected == [("10.20.3.4", 8443, None)]
    assert network.server.requests[0].startswith(
        f"POST /p HTTP/1.1\r\nHost: {NAME}:8443\r\n".encode()
    )


async def test_plain_http_is_refused_unless_the_agency_or_development_allows_it(
    servers: Servers, network: Network, transports: Callable[..., Any]
) -> None:
    network.server = await servers.start(answering(OK))
    network.answers[NAME] = ["10.20.3.4"]
    production = await transports()
    development = await transports(allow_private=True)
    url = f"http://{NAME}/person"

    await _refused(production, url, BLOCK)
    assert (await production.post(url, b"{}", {}, 1.0, policy=BLOCK_AND_HTTP)).status == 200
    assert (await development.post(url, b"{}", {}, 1.0)).status == 200


async def test_over_tls_the_host_name_is_sent_and_the_certificate_checked_against_it(
    servers: Servers, network: Network, tmp_path: Path
) -> None:
    right = self_signed(tmp_path / "right", dns=NAME, ip="10.20.3.4")
    wrong = self_signed(tmp_path / "wrong", dns="elsewhere.example", ip="10.20.3.4")
    seen: list[str | None] = []
    context = right.server_context()
    context.sni_callback = lambda _sock, name, _ctx: seen.append(name)
    network.server = await servers.start(answering(OK), tls=context)
    network.answers[NAME] = ["10.20.3.4"]
    for certificate, expected in ((right, 200), (wrong, None)):
        transport = ProviderTransport(
            max_response_bytes=1024,
            ssl_context=certificate.trusting_context(),
            dialer=network.dialer,
        )
        await transport.start()
        try:
            if expected is None:
                with pytest.raises(Problem) as raised:
                    await transport.post(f"https://{NAME}/p", b"{}", {}, 1.0, policy=BLOCK)
                assert raised.value.kind.code == "provider-unavailable"
            else:
                reply = await transport.post(f"https://{NAME}/p", b"{}", {}, 1.0, policy=BLOCK)
                assert reply.status == expected
        finally:
            await transport.close()

    assert network.connected == [("10.20.3.4", 443, NAME)] * 2
    assert seen[0] == NAME


# The platform's own servers ------------------------------------------------------------------


def _gate(policy: NetworkPolicy, **rules: Any) -> EgressGate:
    own = (
        OwnServer("database", ip_address("10.20.0.5"), 5432),
        OwnServer("redis", ip_address("127.0.0.1"), 6379),
    )
    return EgressRules(own=own, **rules).gate(policy)


@pytest.mark.parametrize(
    ("address", "port", "allow_private", "reason"),
    [
        ("10.20.0.5", 5432, False, "the platform's own database"),
        ("10.20.0.5", 443, False, "the platform's own database"),  # any port of its host
        ("::ffff:10.20.0.5", 443, False, "the platform's own database"),
        ("10.20.0.6", 443, False, None),
        ("127.0.0.1", 6379, True, "the platform's own redis"),  # development: its port...
        ("127.0.0.1", 8000, True, None),  # ...not the simulated agencies on the app's port
        ("10.20.0.5", 443, True, None),
        ("127.0.0.1", 8000, False, "loopback"),
        ("169.254.169.254", 80, True, "link-local"),
        ("10.21.0.1", 443, False, "private, outside the address blocks recorded on its agency"),
    ],
)
def test_the_gate_says_why_it_refuses(
    address: str, port: int, allow_private: bool, reason: str | None
) -> None:
    gate = _gate(BLOCK, allow_private=allow_private)

    assert gate.refusal(ip_address(address), port) == reason


def test_the_gate_names_the_host_the_address_and_the_reason() -> None:
    gate = _gate(BLOCK)
    where = endpoint(f"https://{NAME}:5432/x")

    with pytest.raises(AddressRefused) as raised:
        gate.admit(where, [ip_address("10.20.0.9"), ip_address("10.20.0.5")])

    assert (raised.value.host, raised.value.address) == (NAME, "10.20.0.5")
    assert raised.value.reason == "the platform's own database"


async def test_a_name_that_does_not_resolve_is_a_failed_connect(
    network: Network, transports: Callable[..., Any]
) -> None:
    transport = await transports()

    with pytest.raises(Problem) as raised:
        await transport.post(f"https://{NAME}/person", b"{}", {}, 1.0)

    assert raised.value.kind.code == "provider-unavailable"
    assert network.connected == []
