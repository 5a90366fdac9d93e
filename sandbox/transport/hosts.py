"""The provider hosts the sandbox answers for over TLS and through its proxy, and how to read a request's target."""

from __future__ import annotations

import ipaddress

PROVIDER_HOSTS = (
    "api.mch.weixin.qq.com",
    "api2.mch.weixin.qq.com",
    "openapi.alipay.com",
    "openapi-sandbox.dl.alipaydev.com",
    "gateway.95516.com",
    "gateway.test.95516.com",
)
# The TLS port is also reached by these names, so a browser or curl on the same machine needs no --resolve.
LOOPBACK_NAMES = ("localhost",)
LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
# app.extensions key: the sandbox's own plain address, for pages handed out to requests that came by a provider's name
DIRECT_URL = "paysandbox.direct_url"


def split_authority(authority: str, default_port: int) -> tuple[str, int] | None:
    """`host:port` (or `[v6]:port`, or a bare host) as (lower-case host, port); None when it is not one."""
    host, port_text = authority, ""
    if authority.startswith("["):
        host, _, rest = authority[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    elif authority.count(":") == 1:
        host, port_text = authority.split(":")
    if not host or (port_text and not (port_text.isascii() and port_text.isdigit())):
        return None
    port = int(port_text) if port_text else default_port
    return (host.lower().rstrip("."), port) if 0 < port < 65536 else None  # a default of 0: a port is required


def is_provider(host: str) -> bool:
    return host in PROVIDER_HOSTS


def refusal(target: str) -> str:
    """The body of a 403: what is served, and that nothing goes to the internet."""
    hosts = ", ".join(PROVIDER_HOSTS)
    return (
        f"paysandbox proxy: {target} is not a payment provider host the sandbox answers for, so it is refused.\n"
        f"Served (CONNECT host:443, or plain http://host/... requests): {hosts}.\n"
        "Nothing is ever forwarded to the internet.\n"
    )


def loopback(host: str) -> str:
    """Where a client on this machine reaches a server bound to `host`."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
