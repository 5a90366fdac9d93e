"""The HTTP proxy: CONNECT to a provider host is answered by the sandbox itself over TLS; nothing goes further.

A CONNECT to `<provider host>:443` gets `200 Connection established`, then a TLS handshake with the sandbox CA's
certificate, then HTTP/1.1 (keep-alive) into the same app. An absolute-form request (`GET http://<provider
host>/...`) is served at once. Anything else is refused: 403 for another host, 400 for what is not a proxy request.
This module opens no connection of its own: there is no code here that could reach the internet.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlsplit

from sandbox.transport.hosts import is_provider, refusal, split_authority
from sandbox.transport.http11 import HttpConnection
from sandbox.transport.tls import handshake

ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
NOT_A_PROXY_REQUEST = (
    "paysandbox proxy: {target!r} is not a proxy request. This port is an HTTP proxy: send `CONNECT host:443`"
    " (an HTTPS proxy, as HTTPS_PROXY makes clients do) or an absolute-form request (`GET http://host/path`).\n"
)


def proxy_handler(app: Callable, context: ssl.SSLContext) -> Callable[[socket.socket, tuple], None]:
    def handle(sock: socket.socket, peer: tuple) -> None:
        connection = HttpConnection(sock, app, "http", sock.getsockname(), peer)
        while (request := connection.next_request()) is not None:
            target = request.target.decode("latin-1")
            if request.method == b"CONNECT":
                _tunnel(connection, target, app, context)
                return
            refused = _check_absolute_form(target)
            if refused is not None:
                connection.refuse(*refused)
                return
            if not connection.run_app(request):
                return

    return handle


def _tunnel(connection: HttpConnection, target: str, app: Callable, context: ssl.SSLContext) -> None:
    authority = split_authority(target, default_port=0) if ":" in target else None
    if authority is None:
        connection.refuse(HTTPStatus.BAD_REQUEST, f"paysandbox proxy: CONNECT needs host:port, got {target!r}\n")
        return
    host, port = authority
    if not is_provider(host) or port != 443:
        connection.refuse(HTTPStatus.FORBIDDEN, refusal(target))
        return
    if connection.unread():
        connection.refuse(HTTPStatus.BAD_REQUEST, "paysandbox proxy: send nothing after CONNECT until its 200\n")
        return
    connection.send_raw(ESTABLISHED)
    tls = handshake(context, connection.sock, connection.peer, f"proxy (CONNECT {host})")
    if tls is None:
        return
    with tls:
        HttpConnection(tls, app, "https", connection.local, connection.peer).serve()


def _check_absolute_form(target: str) -> tuple[HTTPStatus, str] | None:
    """None for `http://<provider host>[:80]/...`, else the status and text of the refusal."""
    try:
        url = urlsplit(target)
        port = url.port or 80
    except ValueError:
        url, port = None, 0
    if url is None or url.scheme != "http" or not url.hostname:
        return HTTPStatus.BAD_REQUEST, NOT_A_PROXY_REQUEST.format(target=target)
    if not is_provider(url.hostname.rstrip(".")) or port != 80:
        return HTTPStatus.FORBIDDEN, refusal(url.netloc)
    return None
