"""The plugin's control client on kept connections answers and fails as the CLI's Control does, and replaces a kept
connection the sandbox closed meanwhile without the caller seeing it."""

from __future__ import annotations

import socket
import threading

import pytest

from sandbox.control import Control, ControlError
from sandbox.testing.keepalive import Connections, KeptControl


def both(url: str, **options) -> list[Control]:
    return [Control(url, **options), KeptControl(Connections(url), url, **options)]


def failure(control: Control, *call) -> tuple[str, int | None, str | None]:
    with pytest.raises(ControlError) as caught:
        control.call(*call)
    return str(caught.value), caught.value.status, caught.value.code


def test_answers_and_errors_are_the_cli_control_s(live):
    cli, kept = both(live.url, namespace="default")
    assert kept.call("GET", "/clock")["mode"] == cli.call("GET", "/clock")["mode"]
    assert kept.call("GET", "/orders", params={"gateway": "alipay", "status": ""}) == cli.call(
        "GET", "/orders", params={"gateway": "alipay", "status": ""}
    )
    missing = ("GET", "/orders/alipay/2021000000000001/no such 订单%2F1")
    assert failure(kept, *missing) == failure(cli, *missing)
    bad_body = ("POST", "/scenarios", {"match": "everything"})
    assert failure(kept, *bad_body) == failure(cli, *bad_body)
    assert kept.call("POST", "/clock", {"mode": "manual"}) == cli.call("GET", "/clock")
    assert kept.call("POST", "/clock/reset")["mode"] == "real"  # a POST without a body, as the CLI sends it


def test_a_missing_or_foreign_server_fails_with_the_cli_control_s_message(receiver):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening: refused
        cli, kept = both(nobody)
        assert failure(kept, "GET", "/health") == failure(cli, "GET", "/health")
    cli, kept = both(receiver.url)  # answers "success", not JSON
    assert failure(kept, "GET", "/clock") == failure(cli, "GET", "/clock")
    assert not kept.healthy()


def test_a_kept_connection_the_sandbox_closed_is_replaced_once(live):
    connections = Connections(live.url)
    control = KeptControl(connections, live.url)
    control.call("GET", "/health")
    [kept] = connections._idle
    kept.sock.shutdown(socket.SHUT_RDWR)  # as if the server had closed it meanwhile
    assert control.call("GET", "/health")["status"] == "ok"
    assert connections._idle and connections._idle[0] is not kept


class ClosesAfterOneAnswer:
    """A server that answers the first request on a connection with keep-alive, then closes that connection when the
    next request arrives, unread: what a server does to an idle connection just as a client reuses it."""

    ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"ok"}'

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.recv(65536)
                conn.sendall(self.ANSWER)
                conn.recv(65536)  # the next request: left unanswered


def test_a_request_on_a_connection_closed_as_it_was_reused_goes_again_on_a_new_one():
    server = ClosesAfterOneAnswer()
    try:
        control = KeptControl(Connections(server.url), server.url)
        for _ in range(3):
            assert control.call("GET", "/health") == {"status": "ok"}
        assert server.connections >= 2
    finally:
        server.listener.close()
