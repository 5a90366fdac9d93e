"""Where a notification goes: its notify_url parsed once, resolved once, and checked against SANDBOX_NOTIFY_ALLOW.

The sender connects to exactly the addresses checked here, so what the check saw is what is reached: numeric hosts
(`2130706433`, `0x7f.1`, `0177.0.0.1`) are whatever the resolver makes of them, a name cannot resolve to one
address for the check and another for the connection, and userinfo (`http://allowed@evil/`) is not the host.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DeliveryFailed(Exception):
    """Why an attempt was not made or got no complete answer, in words for the attempt's record."""


class DestinationNotAllowed(DeliveryFailed):
    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"destination not allowed: {host} ({detail})")


@dataclass(frozen=True)
class Target:
    """A notify_url as it is sent to: scheme, host (lower case, no trailing dot, IPv6 unbracketed), port, and the
    path and query for the request line."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def authority(self) -> str:
        """The Host header: the host as named, the port only when it is not the scheme's own."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def destination(self) -> str:
        """host:port, the unit that fair delivery shares senders between."""
        return f"{self.host}:{self.port}"


def parse_url(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DeliveryFailed(f"the notify URL is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise DeliveryFailed(f"the notify URL must be http or https, not {scheme or 'schemeless'}: {url[:200]}")
    host = (parts.hostname or "").rstrip(".")
    if not host or not (_NAME.match(host) or _ip(host)):
        raise DeliveryFailed(f"the notify URL has no usable host: {url[:200]}")
    path = parts.path or "/"
    return Target(scheme, host, port or DEFAULT_PORTS[scheme], path + (f"?{parts.query}" if parts.query else ""))


def resolve(target: Target) -> list[tuple]:
    """Every (family, sockaddr) the host resolves to, in the resolver's order."""
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryFailed(f"cannot resolve {target.host}: {getattr(exc, 'strerror', None) or exc}") from None
    unique = []
    for family, _, _, _, sockaddr in found:
        if (family, sockaddr) not in unique:
            unique.append((family, sockaddr))
    return unique


@dataclass(frozen=True)
class Allowlist:
    """SANDBOX_NOTIFY_ALLOW: host names (any port or one), and networks (CIDR, or one address; any port or one)."""

    names: frozenset[tuple[str, int | None]]
    networks: tuple[tuple[Network, int | None], ...]

    @classmethod
    def parse(cls, text: str | None) -> Allowlist | None:
        """None (anything goes) for no list; ValueError naming the entry that is not a name, host:port or CIDR."""
        if text is None or not text.strip():
            return None
        names, networks = set(), []
        for entry in (part.strip() for part in text.split(",")):
            if entry:
                host, port = _split_entry(entry)
                network = _network(host)
                if network is not None:
                    networks.append((network, port))
                elif _is_name(host):
                    names.add((host.lower().rstrip("."), port))
                else:
                    raise ValueError(f"notify allow list: {entry!r} is not a host name, host:port or CIDR range")
        return cls(frozenset(names), tuple(networks))

    def extended(self, entry: str) -> Allowlist:
        more = Allowlist.parse(entry)
        if more is None:
            return self
        return Allowlist(self.names | more.names, self.networks + more.networks)

    def allowed(self, target: Target, resolved: list[tuple]) -> list[tuple]:
        """The resolved addresses the list lets notifications reach; DestinationNotAllowed when none."""
        if (target.host, None) in self.names or (target.host, target.port) in self.names:
            return resolved
        kept = [(family, sockaddr) for family, sockaddr in resolved if self._covers(_ip(sockaddr[0]), target.port)]
        if not kept:
            addresses = ", ".join(sorted({sockaddr[0] for _, sockaddr in resolved}))
            detail = f"port {target.port}, resolves to {addresses}; not in SANDBOX_NOTIFY_ALLOW"
            raise DestinationNotAllowed(target.host, detail)
        return kept

    def _covers(self, address: Address | None, port: int) -> bool:
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        return any(address in network and wanted in (None, port) for network, wanted in self.networks)


def addresses_to_reach(target: Target, allow: Allowlist | None) -> list[tuple]:
    """The (family, sockaddr) pairs to connect to, checked against `allow` (None: any destination)."""
    resolved = resolve(target)
    return resolved if allow is None else allow.allowed(target, resolved)


def _split_entry(entry: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `[v6]:port`, a bare IPv6 address or a CIDR range, as (host, port or None)."""
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or _network(host) is None:
            raise ValueError(f"notify allow list: {entry!r} is not [IPv6 address] or [IPv6 address]:port")
        return host, _port(rest.removeprefix(":"), entry) if rest else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, _port(port, entry)
    return entry, None


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"notify allow list: {entry!r} has no valid port")
    return int(text)


def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _is_name(text: str) -> bool:
    """A DNS name whose last label is not all digits, so no numeric IPv4 form (`2130706433`, `127.1`) passes as one."""
    name = text.lower().rstrip(".")
    return bool(_NAME.match(name)) and not name.rsplit(".", 1)[-1].isdigit()


def _ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
