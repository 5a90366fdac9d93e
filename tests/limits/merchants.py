"""Merchants' notify URLs for the delivery tests and benchmarks: one that answers at once, and real sockets that
trickle, hang, or answer far too much."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Fast(ThreadingHTTPServer):
    """Answers `success` at once and notes when each path was first posted to (time.monotonic)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FastHandler)
        self.url = f"http://127.0.0.1:{self.server_port}"
        self.arrived: dict[str, float] = {}
        self.changed = threading.Condition()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def wait_for(self, path: str, timeout: float) -> float | None:
        with self.changed:
            self.changed.wait_for(lambda: path in self.arrived, timeout)
            return self.arrived.get(path)


class _FastHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"success")
        with self.server.changed:
            self.server.arrived.setdefault(self.path, time.monotonic())
            self.server.changed.notify_all()

    def log_message(self, *args) -> None:
        pass


class RawMerchant:
    """A loopback HTTP endpoint that reads each request and answers through `answer(conn)`, one thread a connection.

    `connected` counts requests read; `stop()` closes every open connection, so a sandbox still reading returns."""

    def __init__(self, answer) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connected = threading.Semaphore(0)
        self.sent = 0  # body bytes the sandbox accepted before it stopped reading
        self._open: list[socket.socket] = []
        self._stopping = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.connected.release()
            self._answer(self, conn)

    def wait_connections(self, count: int, timeout: float = 5.0) -> None:
        for _ in range(count):
            assert self.connected.acquire(timeout=timeout), "the sandbox did not connect in time"

    def stopping(self, seconds: float) -> bool:
        return self._stopping.wait(seconds)

    def stop(self) -> None:
        self._stopping.set()
        self._listener.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


def trickle(every: float):
    """A 200 whose body `success` comes one byte every `every` seconds (each read gets a byte before it times out)."""

    def answer(merchant: RawMerchant, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n")
        for byte in b"success":
            if merchant.stopping(every):
                return
            conn.sendall(bytes([byte]))

    return answer


def flood(total: int):
    """A 200 that declares and sends `total` bytes, counting what the sandbox took before it stopped reading."""

    def answer(merchant: RawMerchant, conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        piece = b"x" * 65536
        conn.settimeout(5)
        while merchant.sent < total:
            merchant.sent += conn.send(piece)

    return answer


def timed(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started
