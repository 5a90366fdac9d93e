"""Start and stop the proxy and TLS ports of an app: `serve`, `demo`, the container's worker and the plugin use this."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from flask import Flask

from sandbox.transport.ca import SandboxCA
from sandbox.transport.hosts import DIRECT_URL
from sandbox.transport.proxy import proxy_handler
from sandbox.transport.server import ConnectionServer, listen
from sandbox.transport.tls import server_context, tls_port_handler

EXTENSION = "paysandbox.ca"


def authority(app: Flask) -> SandboxCA:
    """The app's CA (create_app puts it beside the Sandbox; it makes its keys when first asked)."""
    return app.extensions[EXTENSION]


@dataclass
class Transport:
    """The running proxy and TLS ports (either may be absent)."""

    proxy: ConnectionServer | None = None
    tls: ConnectionServer | None = None
    servers: list[ConnectionServer] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()


@dataclass
class Listeners:
    """The proxy and TLS ports bound ahead of the servers, by a process that forks the ones that serve them (gunicorn's
    master): every worker then accepts on the same sockets, which the kernel hands connections from in turn."""

    proxy: socket.socket | None = None
    tls: socket.socket | None = None

    @classmethod
    def bind(cls, host: str, proxy_port: int | None, tls_port: int | None) -> Listeners:
        """Listen on the ports asked for; OSError if one cannot listen (nothing is left open then)."""
        listeners = cls()
        try:
            if proxy_port is not None:
                listeners.proxy = listen(host, proxy_port)
            if tls_port is not None:
                listeners.tls = listen(host, tls_port)
        except OSError:
            listeners.close()
            raise
        return listeners

    def close(self) -> None:
        for sock in (self.proxy, self.tls):
            if sock is not None:
                sock.close()


def start(
    app: Flask,
    host: str,
    proxy_port: int | None = None,
    tls_port: int | None = None,
    direct_url: str = "",
    listeners: Listeners | None = None,
    **limits,
) -> Transport:
    """Listen on the ports asked for (0 picks a free one), or accept on `listeners` bound already, and serve them in
    threads; OSError if one cannot listen.

    `direct_url` is the sandbox's own plain address: pages handed out to requests that came by a provider's name
    point there, since no browser resolves that name to the sandbox. `limits` go to each ConnectionServer
    (max_connections, idle_timeout)."""
    transport = Transport()
    if proxy_port is None and tls_port is None:
        return transport
    if direct_url:
        app.extensions[DIRECT_URL] = direct_url.rstrip("/")
    context = server_context(authority(app))
    bound = listeners or Listeners()
    try:
        if proxy_port is not None:
            handler = proxy_handler(app, context)
            transport.proxy = ConnectionServer(host, proxy_port, handler, "proxy", listener=bound.proxy, **limits)
            transport.servers.append(transport.proxy.start())
        if tls_port is not None:
            handler = tls_port_handler(app, context)
            transport.tls = ConnectionServer(host, tls_port, handler, "tls", listener=bound.tls, **limits)
            transport.servers.append(transport.tls.start())
    except OSError:
        transport.stop()
        raise
    return transport


def banner(transport: Transport, host: str, sandbox_url: str) -> list[str]:
    """The start-up lines for the ports, with the environment an SDK with a hard-coded host needs."""
    if not transport.servers:
        return []
    lines = []
    if transport.proxy is not None:
        lines.append(
            f"  HTTPS proxy      http://{host}:{transport.proxy.port}   CONNECT to a provider host answered here"
        )
    if transport.tls is not None:
        lines.append(f"  TLS port         https://{host}:{transport.tls.port}   every gateway, for the provider hosts")
    lines.append(f"  sandbox CA       {sandbox_url}/_sandbox/ca.pem   TEST-ONLY, valid for the provider hosts only")
    lines.append("  SDKs with hard-coded hosts, in their environment:")
    if transport.proxy is not None:
        lines.append(f"    export HTTPS_PROXY=http://{host}:{transport.proxy.port} NO_PROXY=127.0.0.1,localhost")
    lines.append(f'    export REQUESTS_CA_BUNDLE="$(paysandbox ca --path --url {sandbox_url})"')
    lines.append('    export SSL_CERT_FILE="$REQUESTS_CA_BUNDLE" NODE_EXTRA_CA_CERTS="$REQUESTS_CA_BUNDLE"')
    return lines
