"""A listening port whose connections each get a thread of their own, with bounds: how many, and how long idle."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable

log = logging.getLogger("paysandbox.transport")

MAX_CONNECTIONS = 64
IDLE_TIMEOUT = 30.0  # seconds a client may stay silent (handshake, request head, body, keep-alive)
GRACE = 5.0  # seconds a stopping server waits for the requests in flight
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


class Connections:
    """A server's open connections, and which of them wait for a next request with nothing of it read yet: those
    can be closed at no loss (to make room for a new client, or when the server stops)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._waiting: set[socket.socket] = set()
        self._shut: set[socket.socket] = set()  # shut while waiting: nothing in flight, their threads just ending

    def opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
            self._waiting.discard(sock)
            self._shut.discard(sock)

    def waiting(self, sock: socket.socket, idle: bool) -> None:
        with self._lock:
            if idle:
                self._waiting.add(sock)
            else:
                self._waiting.discard(sock)

    def busy(self) -> int:
        with self._lock:
            return len(self._open - self._waiting - self._shut)

    def close_waiting(self, most: int | None = None) -> int:
        """Shut up to `most` (default: all) waiting connections; their threads then see the client gone."""
        with self._lock:
            chosen = list(self._waiting)[:most]
            self._waiting.difference_update(chosen)
            self._shut.update(chosen)
        for sock in chosen:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return len(chosen)

    def close_all(self) -> None:
        with self._lock:
            every = list(self._open)
        for sock in every:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ConnectionServer(socketserver.ThreadingTCPServer):
    """Serves `handle(sock, peer)` per connection in a daemon thread. Past `max_connections` it closes a connection
    that waits idle for its next request, if one does, else answers 503 at once."""

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
        # Before binding: a failed bind calls server_close, which closes these.
        self._stopping, self._stopped = threading.Event(), threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        # `handle` replaces the handler class
        super().__init__((host, port), socketserver.BaseRequestHandler, bind_and_activate=listener is None)
        if listener is not None:
            self.socket.close()
            self.socket, self.server_address = listener, listener.getsockname()
        self.name, self.port = name, self.server_address[1]
        self._handle, self._idle_timeout = handle, idle_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self.connections = Connections()
        self._thread: threading.Thread | None = None

    def start(self) -> ConnectionServer:
        self._thread = threading.Thread(target=self.serve_forever, name=f"paysandbox-{self.name}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self, poll_interval: float | None = None) -> None:
        """Accept until shutdown(), which wakes the wait at once (socketserver's loop polls: a test that starts and
        stops a server each time paid half a poll interval to stop it)."""
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                selector.register(self._wake_reader, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    ready = selector.select(poll_interval)
                    if not self._stopping.is_set() and any(key.fileobj is self.socket for key, _ in ready):
                        self._handle_request_noblock()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"x")
        self._stopped.wait()

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def stop(self, grace: float = 0.0) -> None:
        """Stop accepting; close the connections that wait idle; give requests in flight up to `grace` seconds to
        be answered; then close every connection. Call it after serve_forever returned, or with start()."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()
        deadline = time.monotonic() + grace
        while True:
            self.connections.close_waiting()
            if self.connections.busy() == 0 or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        self.connections.close_all()

    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        # Past the bound, make room by closing an idle keep-alive connection, whose thread then releases its slot.
        if not self._slots.acquire(blocking=False) and not (
            self.connections.close_waiting(1) and self._slots.acquire(timeout=1.0)
        ):
            request.settimeout(1.0)
            with contextlib.suppress(OSError):
                request.sendall(BUSY)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: tuple) -> None:
        self.connections.opened(request)
        try:
            request.settimeout(self._idle_timeout)
            # Small answers (a head, a chunk terminator) must not wait for the client's delayed ACK.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._handle(request, client_address)
        except Exception:
            log.exception("the %s connection from %s failed", self.name, client_address[0])
        finally:
            self.connections.closed(request)
            self._slots.release()
            self.shutdown_request(request)
