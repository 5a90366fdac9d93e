"""The plain HTTP port of `serve` and the in-thread server: keep-alive, room made by closing idle connections, and a
stop that lets the requests in flight finish. Real sockets, real threads."""

from __future__ import annotations

import select
import socket
import threading

from sandbox.transport.plain import HttpServer
from tests.raw_http import exchange

REQUEST = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def answer(sock: socket.socket) -> bytes:
    """One whole answer to REQUEST (its head and the 5-byte body)."""
    data = b""
    while not data.endswith(b"hello"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_one_connection_carries_request_after_request():
    server = HttpServer(hello, "127.0.0.1", 0).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            for _ in range(3):
                sock.sendall(REQUEST)
                reply = answer(sock)
                assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"hello")
                assert b"connection: close" not in reply.lower()
    finally:
        server.stop()


def test_past_its_bound_the_server_closes_an_idle_keep_alive_connection_to_serve_a_new_client():
    server = HttpServer(hello, "127.0.0.1", 0, max_connections=2).start()
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(2)]
    try:
        for sock in idle:
            sock.sendall(REQUEST)
            assert answer(sock).endswith(b"hello")  # served, and now waiting for a next request
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as newcomer:
            newcomer.sendall(REQUEST)
            assert answer(newcomer).startswith(b"HTTP/1.1 200 ")
        readable, _, _ = select.select(idle, [], [], 5)
        assert readable and all(sock.recv(1) == b"" for sock in readable)  # one of them was closed
    finally:
        for sock in idle:
            sock.close()
        server.stop()


def test_stop_lets_a_request_in_flight_finish_and_closes_idle_connections():
    entered, release = threading.Event(), threading.Event()

    def slow(environ, start_response):
        entered.set()
        release.wait(5)
        return hello(environ, start_response)

    server = HttpServer(slow, "127.0.0.1", 0).start()
    # `waiting` connects first: the server accepts in order, so once `busy`'s request runs, `waiting` was accepted
    # too (a connection still in the listen backlog when the listener closes is reset, not closed).
    waiting = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    busy = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    busy.sendall(REQUEST)
    assert entered.wait(5)
    stopper = threading.Thread(target=server.stop, kwargs={"grace": 5})
    stopper.start()
    assert waiting.recv(1) == b""  # idle: closed at once
    assert stopper.is_alive()  # still waiting for the request in flight
    release.set()
    assert answer(busy).endswith(b"hello")
    stopper.join(5)
    assert not stopper.is_alive()
    busy.close()
    waiting.close()


def test_an_over_long_request_line_is_refused_with_a_plain_414():
    server = HttpServer(hello, "127.0.0.1", 0).start()
    try:
        reply = exchange(server.port, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414 ") and b"X-Content-Type-Options: nosniff" in head
        assert body.startswith(b"paysandbox: 414 Request-URI Too Long")
    finally:
        server.stop()


def test_a_connection_shut_while_waiting_counts_as_nothing_in_flight():
    """A stop closes the connections that wait idle, then waits only for requests in flight: one it has just shut
    is not one of them (it was counted busy until its thread ended, so every in-thread server's stop waited a turn)."""
    server = HttpServer(hello, "127.0.0.1", 0).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(REQUEST)
            assert answer(sock).endswith(b"hello")
            until_waiting(server)
            assert server.connections.close_waiting() == 1
            assert server.connections.busy() == 0
    finally:
        server.stop()


def until_waiting(server: HttpServer) -> None:
    """Until the connection's thread waits for a next request (it marks itself just after answering)."""
    done = threading.Event()
    for _ in range(500):
        if server.connections.busy() == 0:
            return
        done.wait(0.01)
    raise AssertionError("the connection never waited for a next request")
