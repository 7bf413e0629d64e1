"""Which IP addresses a provider endpoint may be at, and the network policy of an agency.

The exchange calls providers from inside the platform's network, with its own credentials; an
endpoint that reaches the exchange's own host (loopback), the cloud metadata service
(link-local), the platform's database or another internal server would turn the exchange into
a proxy into that network (SSRF).  So every address is put in one class here, the same way at
registration (`panjereh.registry.endpoints`) and when the exchange connects
(`panjereh.exchange.egress`):

- **public** addresses may be called (over https, or http where the agency's record allows it);
- **private** ones (RFC 1918, shared CGNAT space 100.64.0.0/10, IPv6 unique-local fc00::/7 and
  the old site-local fec0::/10) only inside the address blocks an operator recorded on the
  provider's agency;
- everything else is refused: loopback, link-local (169.254.169.254, fe80::/10), unspecified
  (0.0.0.0/8, ::), multicast, and every other special-purpose range (240.0.0.0/4, documentation,
  benchmarking, Teredo, ...).

An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, the deprecated
IPv4-compatible ``::a.b.c.d``, SIIT ``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d`` and 6to4
``2002:aabb:ccdd::``) is judged as that IPv4 address.  The lists are written out rather than
taken from `ipaddress`' ``is_private``/``is_global``, whose answers differ between Python
versions (3.11 calls fec0::1 and 64:ff9b::7f00:1 global).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from panjereh.domain.errors import InvalidValue

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
MAX_BLOCKS = 64


class AddressClass(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"


def _networks(*texts: str) -> tuple[IPNetwork, ...]:
    return tuple(ip_network(text) for text in texts)


# Checked in this order; the first that holds an address gives its class.
_CLASSES: tuple[tuple[AddressClass, tuple[IPNetwork, ...]], ...] = (
    (AddressClass.UNSPECIFIED, _networks("0.0.0.0/8", "::/128")),
    (AddressClass.LOOPBACK, _networks("127.0.0.0/8", "::1/128")),
    (AddressClass.LINK_LOCAL, _networks("169.254.0.0/16", "fe80::/10")),
    (AddressClass.MULTICAST, _networks("224.0.0.0/4", "ff00::/8")),
    (
        AddressClass.PRIVATE,
        _networks(
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "fc00::/7",
            "fec0::/10",
        ),
    ),
    (AddressClass.RESERVED, _networks("240.0.0.0/4", "64:ff9b:1::/48")),
)
# Never called, whatever an agency's record says (development allows loopback as well).
NEVER_CALLED = frozenset(
    {
        AddressClass.LINK_LOCAL,
        AddressClass.UNSPECIFIED,
        AddressClass.MULTICAST,
        AddressClass.RESERVED,
    }
)
PRIVATE_RANGES: tuple[IPNetwork, ...] = dict(_CLASSES)[AddressClass.PRIVATE]
_COMPATIBLE = ip_network("::/96")
_SIIT = ip_network("::ffff:0:0:0/96")
_NAT64 = ip_network("64:ff9b::/96")


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it stands for one."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _SIIT or (address in _COMPATIBLE and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def unwrapped(address: IPAddress) -> IPAddress:
    """The address as judged: an IPv6 address carrying an IPv4 one becomes that one."""
    return embedded_ipv4(address) or address


def classify(address: IPAddress) -> AddressClass:
    """The class of ``address`` (see the module docstring), IPv4 carried in IPv6 unwrapped."""
    address = unwrapped(address)
    for kind, networks in _CLASSES:
        if any(address in network for network in networks):
            return kind
    return AddressClass.PUBLIC if address.is_global else AddressClass.RESERVED


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """What an operator recorded on an agency about where its provider endpoints may be:
    private address blocks (CIDRs) they may resolve into, and whether plain ``http://`` is
    allowed (otherwise https only).  The default: public addresses over https."""

    private_blocks: tuple[IPNetwork, ...] = ()
    allow_http: bool = False
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The transport looks its gate up by policy on every call: hash once, not per call.
        object.__setattr__(self, "_hash", hash((self.private_blocks, self.allow_http)))

    def __hash__(self) -> int:
        return self._hash

    def covers(self, address: IPAddress) -> bool:
        """``address`` (already unwrapped) lies in one of the recorded blocks."""
        return any(address in block for block in self.private_blocks)

    @classmethod
    def parse(cls, blocks: str, *, allow_http: bool) -> NetworkPolicy:
        """From the stored form: blocks separated by spaces or commas (already validated)."""
        found = tuple(ip_network(part) for part in blocks.replace(",", " ").split())
        return cls(found, allow_http)


DEFAULT_POLICY = NetworkPolicy()


def parse_block(text: str) -> IPNetwork:
    """A private address block an operator records, e.g. ``10.20.0.0/16``; `InvalidValue`
    for anything else (a single address, host bits set, a public or special range)."""
    try:
        block = ip_network(text.strip(), strict=True)
    except ValueError:
        raise InvalidValue(
            "network.block",
            message_en=f"{text[:60]!r} is not an address block such as 10.20.0.0/16.",
            message_fa="بلوک نشانی باید به شکل 10.20.0.0/16 باشد (نشانی شبکه و طول پیشوند).",
            field="private_blocks",
        ) from None
    if not any(
        block.version == known.version and block.subnet_of(known)  # type: ignore[arg-type]
        for known in PRIVATE_RANGES
    ):
        raise InvalidValue(
            "network.block-not-private",
            message_en=(
                f"{block} is not inside a private range (10.0.0.0/8, 172.16.0.0/12, "
                "192.168.0.0/16, 100.64.0.0/10, fc00::/7): only private blocks are recorded; "
                "public addresses need no record and the others are never called."
            ),
            message_fa=(
                f"{block} در یک محدوده خصوصی نیست؛ فقط بلوک‌های خصوصی ثبت می‌شوند "
                "(نشانی‌های عمومی نیازی به ثبت ندارند و بقیه هرگز فراخوانده نمی‌شوند)."
            ),
            field="private_blocks",
        )
    return block


def parse_blocks(texts: list[str] | tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Several blocks, each checked by `parse_block`, without repeats, in a stable order."""
    if len(texts) > MAX_BLOCKS:
        raise InvalidValue(
            "network.too-many-blocks",
            message_en=f"At most {MAX_BLOCKS} address blocks may be recorded on an agency.",
            message_fa=f"حداکثر {MAX_BLOCKS} بلوک نشانی برای یک دستگاه ثبت می‌شود.",
            field="private_blocks",
        )
    blocks = {parse_block(text) for text in texts}
    return tuple(sorted(blocks, key=lambda b: (b.version, int(b.network_address), b.prefixlen)))


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is written as one (IPv6 without brackets)."""
    try:
        return ip_address(host)
    except ValueError:
        return None
