"""Merchants' notify URLs for the delivery benchmarks: one that answers at once, and raw sockets that misbehave."""

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


class Raw:
    """A loopback port that reads each request head and then runs `answer(self, conn)` on its own thread."""

    def __init__(self, answer) -> None:
        self._answer = answer
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests = threading.Semaphore(0)
        self.sent = 0
        self._stopping = threading.Event()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self._listener.accept()
                self._open.append(conn)
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(65536)
            self.requests.release()
            self._answer(self, conn)

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
    """HTTP 200, then the body `success` one byte every `every` seconds."""

    def answer(merchant: Raw, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n")
        for byte in b"success":
            if merchant.stopping(every):
                return
            conn.sendall(bytes([byte]))

    return answer


def flood(total: int):
    """HTTP 200 declaring `total` bytes, sent until done or the reader goes; `sent` counts what it took."""

    def answer(merchant: Raw, conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {total}\r\n\r\n".encode())
        piece = b"x" * (256 * 1024)
        conn.settimeout(30)
        while merchant.sent < total:
            merchant.sent += conn.send(piece[: total - merchant.sent])

    return answer
