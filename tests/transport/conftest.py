"""The sandbox's proxy and TLS ports on free loopback ports, its CA in a file, and the clients' tools."""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.transport import ports


@dataclass
class Ports:
    proxy_port: int
    tls_port: int
    ca_file: Path
    sandbox_url: str

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"


@pytest.fixture
def transport(app, live, tmp_path, http) -> Ports:
    """`serve --proxy-port 0 --tls-port 0` for the live sandbox; the CA as a client fetches it, in a file."""
    running = ports.start(app, "127.0.0.1", 0, 0, live.url)
    ca_file = tmp_path / "paysandbox-ca.pem"
    ca_file.write_text(http.get(f"{live.url}/_sandbox/ca.pem", timeout=5).text)
    yield Ports(running.proxy.port, running.tls.port, ca_file, live.url)
    running.stop()


@pytest.fixture
def ssl_env(monkeypatch, transport):
    """The environment of an unmodified client: the proxy, and the sandbox CA as its only trust."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, transport.proxy_url)
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, str(transport.ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return transport


class Recorder:
    """A loopback port that counts the connections made to it: where a forwarding proxy would connect."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._sock.setblocking(False)

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self._sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    rec.close()


class TransportLog(logging.Handler):
    """What sandbox.transport logs; `wait_for` blocks until a line arrives (servers log from their own threads)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._arrived = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._arrived:
            self.records.append(record)
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[logging.LogRecord]:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.records) >= count, timeout), self.records
            return list(self.records)


@pytest.fixture
def transport_log():
    logger = logging.getLogger("paysandbox.transport")
    handler = TransportLog()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
