"""TLS with the sandbox CA's server certificate: the context, the handshake (in the connection's own thread), the port.

The handshake runs after accept, in the connection's thread and under its idle timeout, so a client that never
finishes it holds up nobody else.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import tempfile
from collections.abc import Callable
from http import HTTPStatus

from sandbox.transport.ca import SandboxCA
from sandbox.transport.http11 import HttpConnection

log = logging.getLogger("paysandbox.transport")

TLS_RECORD_HANDSHAKE = 0x16  # the first byte of every TLS ClientHello
PLAIN_HTTP = (
    "paysandbox: this port speaks HTTPS (TLS with the sandbox CA's certificate for the provider hosts), not plain"
    " HTTP. Use https:// and trust the CA (GET /_sandbox/ca.pem, or `paysandbox ca --path`).\n"
)


def server_context(ca: SandboxCA) -> ssl.SSLContext:
    """A server context holding the CA's certificate for every provider host (TLS 1.2 and up, HTTP/1.1)."""
    issued = ca.server_certificate()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    # ssl loads a certificate chain only from a file: write it to a private temporary file, then drop the file.
    fd, path = tempfile.mkstemp(prefix="paysandbox-tls-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(issued.certificate_pem + issued.private_key_pem)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)
    return context


def handshake(context: ssl.SSLContext, sock: socket.socket, peer: tuple, port_name: str) -> ssl.SSLSocket | None:
    """The server side of a TLS handshake; None (and one log line, no traceback) when the client gives up."""
    tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
    try:
        tls.do_handshake()
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        log.warning(
            "TLS handshake with %s on the %s failed (%s): a client must trust the sandbox CA"
            " (GET /_sandbox/ca.pem, or `paysandbox ca --path`)",
            peer[0],
            port_name,
            reason,
        )
        tls.close()
        return None
    return tls


def tls_port_handler(app: Callable, context: ssl.SSLContext) -> Callable[[socket.socket, tuple], None]:
    """Every path of the app over HTTPS; plain HTTP sent here gets a 400 that says so."""

    def handle(sock: socket.socket, peer: tuple) -> None:
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if not first:
            return
        if first[0] != TLS_RECORD_HANDSHAKE:
            HttpConnection(sock, app, "http", sock.getsockname(), peer).refuse(HTTPStatus.BAD_REQUEST, PLAIN_HTTP)
            return
        tls = handshake(context, sock, peer, "TLS port")
        if tls is None:
            return
        with tls:
            HttpConnection(tls, app, "https", tls.getsockname(), peer).serve()

    return handle
