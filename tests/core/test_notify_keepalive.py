"""Notification attempts reuse a kept connection to the same merchant, only to an address they may reach, and go
once more on a new connection when the kept one was closed while idle."""

from __future__ import annotations

import socket
import threading

import pytest

from sandbox.core import destinations, notify_http
from sandbox.core.notify_pool import IDLE

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nsuccess"


class Merchant:
    """A real loopback HTTP/1.1 server: answers `success` to each request; with `one_each` it closes every
    connection after its first answer (without saying so), as a server whose idle timeout just ran out; with
    `drop_second` it closes a connection when a second request comes on it, unanswered (the same timeout, run out
    just as the request was on its way)."""

    def __init__(self, one_each: bool = False, drop_second: bool = False) -> None:
        self.one_each, self.drop_second = one_each, drop_second
        self.connections = 0
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/notify"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data, served = b"", 0
            while True:
                while b"success" not in data and b"\r\n\r\nbody" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = b""
                served += 1
                if self.drop_second and served == 2:
                    return
                self.requests += 1
                conn.sendall(ANSWER)
                if self.one_each:
                    return

    def stop(self) -> None:
        self._listener.close()


@pytest.fixture
def merchant_with():
    """Merchant(**options) for the test; afterwards every kept connection is closed and the merchants stopped."""
    started: list[Merchant] = []

    def start(**options) -> Merchant:
        started.append(Merchant(**options))
        return started[-1]

    yield start
    IDLE.close_all()
    for merchant in started:
        merchant.stop()


def post(url: str, allow: destinations.Allowlist | None = None) -> notify_http.Reply:
    target = destinations.parse_url(url)
    return notify_http.post(target, destinations.addresses_to_reach(target, allow), b"body", {}, 5.0)


def test_attempts_to_one_merchant_share_one_connection(merchant_with):
    merchant = merchant_with()
    for _ in range(3):
        assert post(merchant.url).text == "success"
    assert (merchant.connections, merchant.requests) == (1, 3)


def test_a_kept_connection_closed_while_idle_is_replaced_and_the_merchant_gets_each_request_once(merchant_with):
    merchant = merchant_with(one_each=True)
    for _ in range(3):
        assert post(merchant.url).text == "success"
    assert merchant.requests == 3
    assert merchant.connections == 3


def test_a_kept_connection_is_reused_only_to_an_address_the_attempt_may_reach(merchant_with):
    merchant = merchant_with()
    assert post(merchant.url).text == "success"
    target = destinations.parse_url(merchant.url)
    elsewhere = [(socket.AF_INET, ("127.0.0.2", target.port))]
    assert IDLE.take(target, elsewhere) is None  # kept to 127.0.0.1: not handed to an attempt allowed elsewhere
    assert post(merchant.url).text == "success"
    assert merchant.connections == 2  # the kept one was closed when refused, so the next attempt connected anew


def test_a_kept_connection_that_fails_before_any_answer_is_replaced_within_the_attempt(merchant_with):
    merchant = merchant_with(drop_second=True)
    assert post(merchant.url).text == "success"
    assert post(merchant.url).text == "success"  # the kept connection dropped it: sent again on a new one
    assert (merchant.connections, merchant.requests) == (2, 2)
