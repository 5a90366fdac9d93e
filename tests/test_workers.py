"""SANDBOX_WORKERS: the container's gunicorn with two workers on one PostgreSQL database is one sandbox for orders;
a file or memory store refuses more than one worker. Real gunicorn, real PostgreSQL."""

from __future__ import annotations

import socket
import ssl
import urllib.request

import pytest
import requests

from sandbox.merchant.alipay import AlipayClient
from tests.gunicorn_process import PROCESS, Gunicorn, free_port, pinned_sessions
from tests.shop.shopping import wait_until

pytest.importorskip("gunicorn", reason="the container's server: pip install gunicorn (the `server` extra)")

APP, BUYER = "2021000000000001", "2088000000000009"
# gunicorn closes an idle keep-alive connection after 2 s: longer, so a session stays on the worker that took it.
KEEP_ALIVE = {"GUNICORN_CMD_ARGS": "--keep-alive 30"}


@pytest.fixture
def started():
    servers: list[Gunicorn] = []

    def start(**env: str) -> Gunicorn:
        server = Gunicorn(env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def merchant(url: str, alipay_demo, session: requests.Session) -> AlipayClient:
    return AlipayClient(
        APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{url}/gateway.do", session=session
    )


def answered_by(session: requests.Session) -> set[str]:
    """Every process that answered `session`, from its answers' X-Sandbox-Process (collected by a hook)."""
    seen: set[str] = set()
    session.hooks["response"].append(lambda response, *args, **kwargs: seen.add(response.headers[PROCESS]))
    return seen


def test_two_workers_on_postgresql_share_orders(started, postgres_url, alipay_demo):
    server = started(SANDBOX_DATA=postgres_url, SANDBOX_WORKERS="2", **KEEP_ALIVE).wait_healthy()
    assert len(server.workers()) == 2
    (first, one), (second, other) = pinned_sessions(server.url, 2).items()
    assert first != second and {int(name.rsplit("/", 1)[1]) for name in (first, second)} == set(server.workers())
    seen_one, seen_other = answered_by(one), answered_by(other)
    through_one, through_other = merchant(server.url, alipay_demo, one), merchant(server.url, alipay_demo, other)

    created = through_one.create("WORKERS-1", 100, "two workers", BUYER)
    assert through_other.query("WORKERS-1")["trade_no"] == created["trade_no"]
    paid = other.post(f"{server.url}/_sandbox/orders/alipay/{APP}/WORKERS-1/pay", json={}, timeout=10)
    assert paid.json()["status"] == "paid"
    assert through_one.query("WORKERS-1")["trade_status"] == "TRADE_SUCCESS"
    assert through_other.refund("WORKERS-1", 40, "R-1")["fund_change"] == "Y"
    assert through_one.refund("WORKERS-1", 60, "R-2")["refund_fee"] == "1.00"
    assert one.get(f"{server.url}/_sandbox/orders/alipay/{APP}/WORKERS-1", timeout=10).json()["status"] == "refunded"
    assert seen_one == {first} and seen_other == {second}  # each session stayed on its worker throughout

    assert server.stop() == 0
    log = server.log()
    assert log.count("Worker exiting") == 2 and "Traceback" not in log, log


def test_both_workers_serve_the_proxy_and_tls_ports_the_master_bound_with_one_ca(started, postgres_url, tmp_path):
    tls = free_port()
    server = started(SANDBOX_DATA=postgres_url, SANDBOX_WORKERS="2", SANDBOX_TLS_PORT=str(tls), **KEEP_ALIVE)
    server.wait_healthy()
    # The workers started together on a new database: they made one CA between them, and each serves it.
    authorities = {
        session.get(f"{server.url}/_sandbox/ca.pem", timeout=10).text
        for session in pinned_sessions(server.url, 2).values()
    }
    assert len(authorities) == 1
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(authorities.pop())
    context = ssl.create_default_context(cafile=str(ca_file))
    for _ in range(8):  # new connections, taken by whichever worker accepts first
        with urllib.request.urlopen(f"https://localhost:{tls}/_sandbox/health", context=context, timeout=10) as answer:
            assert answer.status == 200
    assert server.stop() == 0
    log = server.log()
    assert "Traceback" not in log and "cannot listen" not in log, log


@pytest.mark.parametrize("store", ["file", "memory"])
def test_more_than_one_worker_without_postgresql_is_refused_with_one_line(started, tmp_path, store):
    data = {"SANDBOX_DATA": str(tmp_path / "paysandbox.json")} if store == "file" else {}
    server = started(SANDBOX_WORKERS="2", **data)
    assert server.process.wait(timeout=30) == 2
    [line] = server.log().splitlines()
    assert line.startswith("paysandbox: 2 workers need SANDBOX_DATA to be a postgresql:// URL"), line
    assert f"a store in {'a file' if store == 'file' else 'memory'}" in line
    assert not (tmp_path / "paysandbox.json").exists()


def test_gunicorn_arguments_cannot_raise_the_workers_past_what_the_store_allows(started):
    server = started(GUNICORN_CMD_ARGS="--workers 3")
    assert server.process.wait(timeout=30) == 2
    log = server.log()
    assert "paysandbox: 3 workers need SANDBOX_DATA to be a postgresql:// URL" in log and "Traceback" not in log
    assert "Booting worker" not in log


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"SANDBOX_WORKERS": "0"}, "SANDBOX_WORKERS=0 is not a number of workers"),
        ({"SANDBOX_WORKERS": "2", "SANDBOX_SEED": "7"}, "2 workers cannot share SANDBOX_SEED"),
    ],
)
def test_a_worker_count_that_cannot_work_is_refused(started, postgres_url, env, said):
    server = started(SANDBOX_DATA=postgres_url, **env)
    assert server.process.wait(timeout=30) == 2
    [line] = server.log().splitlines()
    assert line.startswith(f"paysandbox: {said}"), line
    assert postgres_url.split("@")[0].rsplit(":", 1)[1] not in line  # the password


def test_one_worker_by_default_on_a_file_store(started, tmp_path):
    server = started(SANDBOX_DATA=str(tmp_path / "paysandbox.json")).wait_healthy()
    assert len(server.workers()) == 1
    answer = server.http.get(f"{server.url}/_sandbox/health", timeout=10)
    assert answer.headers[PROCESS].endswith(f"/{server.workers()[0]}")
    assert server.stop() == 0


def test_two_workers_refuse_a_port_something_else_listens_on(postgres_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = Gunicorn({"SANDBOX_DATA": postgres_url, "SANDBOX_WORKERS": "2"}, port=taken.getsockname()[1])
        try:
            assert server.process.wait(timeout=30) == 2
            log = server.log()
            assert f"paysandbox: cannot listen on 127.0.0.1:{server.port}" in log and "Booting worker" not in log, log
        finally:
            server.close()


def test_two_workers_send_each_notification_once_and_share_one_clock(started, postgres_url, alipay_demo, receiver):
    server = started(SANDBOX_DATA=postgres_url, SANDBOX_WORKERS="2", **KEEP_ALIVE).wait_healthy()
    sessions = list(pinned_sessions(server.url, 2).values())
    clients = [merchant(server.url, alipay_demo, session) for session in sessions]
    names = [f"WN-{n}" for n in range(30)]
    for n, name in enumerate(names):  # created through one worker, paid through the other
        clients[n % 2].precreate(name, 100, "two workers", notify_url=f"{receiver.url}/alipay")
        paid = sessions[(n + 1) % 2].post(f"{server.url}/_sandbox/orders/alipay/{APP}/{name}/pay", json={}, timeout=10)
        assert paid.json()["status"] == "paid"
    receiver.wait_for(len(names), timeout=30)
    assert sessions[0].post(f"{server.url}/_sandbox/notifications/flush", json={}, timeout=30).ok
    assert sorted(r.form["out_trade_no"] for r in receiver.received) == sorted(names)  # each once

    def all_delivered() -> list[dict] | None:
        records = sessions[1].get(f"{server.url}/_sandbox/notifications", timeout=10).json()["notifications"]
        return records if {n["status"] for n in records} == {"delivered"} else None

    # The flush does not wait for an attempt the other worker has sent and not yet recorded: its record follows.
    delivered = wait_until(all_delivered, "every notification recorded as delivered")
    assert len(delivered) == len(names)

    # One clock: set through one worker, advanced through the other, read alike through both.
    assert sessions[0].post(f"{server.url}/_sandbox/clock", json={"mode": "manual"}, timeout=10).ok
    before = sessions[1].get(f"{server.url}/_sandbox/clock", timeout=10).json()
    assert before["mode"] == "manual"
    assert sessions[1].post(f"{server.url}/_sandbox/clock/advance", json={"seconds": 3600}, timeout=30).ok
    now = [session.get(f"{server.url}/_sandbox/clock", timeout=10).json()["now"] for session in sessions]
    assert now[0] == now[1] != before["now"]
