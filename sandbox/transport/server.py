"""A listening port whose connections each get a thread of their own, with bounds: how many, and how long idle."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from collections.abc import Callable

log = logging.getLogger("paysandbox.transport")

MAX_CONNECTIONS = 64
IDLE_TIMEOUT = 30.0  # seconds a client may stay silent (handshake, request head, body, keep-alive)
_BUSY_TEXT = b"paysandbox: too many connections at once; try again soon\n"
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_TEXT), _BUSY_TEXT)
)
Handler = Callable[[socket.socket, tuple], None]


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on (host, port), for ConnectionServer's `listener`; OSError if it cannot listen."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=ConnectionServer.request_queue_size)


class ConnectionServer(socketserver.ThreadingTCPServer):
    """Serves `handle(sock, peer)` per connection in a daemon thread; past `max_connections` answers 503 at once."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        host: str,
        port: int,
        handle: Handler,
        name: str,
        max_connections: int = MAX_CONNECTIONS,
        idle_timeout: float = IDLE_TIMEOUT,
        listener: socket.socket | None = None,
    ) -> None:
        """Listen on (host, port), or accept on `listener`, a socket already listening: gunicorn's master binds the
        proxy and TLS ports once and each worker accepts on the same socket (see listen())."""
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # `handle` replaces the handler class
        super().__init__((host, port), socketserver.BaseRequestHandler, bind_and_activate=listener is None)
        if listener is not None:
            self.socket.close()
            self.socket, self.server_address = listener, listener.getsockname()
        self.name, self.port = name, self.server_address[1]
        self._handle, self._idle_timeout = handle, idle_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self._thread: threading.Thread | None = None

    def start(self) -> ConnectionServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=f"paysandbox-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        if not self._slots.acquire(blocking=False):
            request.settimeout(1.0)
            with contextlib.suppress(OSError):
                request.sendall(BUSY)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: tuple) -> None:
        try:
            request.settimeout(self._idle_timeout)
            # Small answers (a head, a chunk terminator) must not wait for the client's delayed ACK.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._handle(request, client_address)
        except Exception:
            log.exception("the %s connection from %s failed", self.name, client_address[0])
        finally:
            self._slots.release()
            self.shutdown_request(request)
