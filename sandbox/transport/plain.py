"""The plain HTTP port of `serve`, `shop` and the plugin's in-thread server: HTTP/1.1 with keep-alive, a thread per
connection, no access log.

werkzeug's development server closes the connection after every answer (a new connection and a new thread per
request) and writes an access-log line for each; this one keeps the connection and its thread for the next request.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from sandbox.transport.http11 import HttpConnection
from sandbox.transport.server import ConnectionServer

# Idle keep-alive connections hold a thread each; past this many, the server closes an idle one to make room.
MAX_CONNECTIONS = 256


class HttpServer(ConnectionServer):
    """`app` served on (host, port), bound and listening (OSError if it cannot); run it with serve_forever() or
    start(), end it with stop(grace)."""

    def __init__(
        self, app: Callable, host: str, port: int, name: str = "http", max_connections: int = MAX_CONNECTIONS
    ) -> None:
        self.app = app
        super().__init__(host, port, self._serve_connection, name, max_connections=max_connections)

    def _serve_connection(self, sock: socket.socket, peer: tuple) -> None:
        HttpConnection(sock, self.app, "http", self.server_address, peer, self.connections).serve()
