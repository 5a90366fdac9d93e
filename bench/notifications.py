"""Notifications delivered per second by the sandbox's dispatcher to a fast local receiver.

Pays --count Alipay orders through the real gateway (signed alipay.trade.create, then the control API's pay,
both through the Flask test client) with the dispatcher stopped, so their notifications wait in the outbox; then
starts the dispatcher and counts arrivals at a minimal threaded HTTP receiver answering `success`, in its own
process (as a merchant is). Beside it, the same receiver's rate for one keep-alive requests.Session posting one
at a time: the ceiling of a serial sender. The target: over 500 notifications/s. This is a script, not a test:

    python bench/notifications.py [--count 2000] [--file-store] [--delay 5]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from sandbox.app import create_app  # noqa: E402
from sandbox.config import Config  # noqa: E402
from sandbox.merchant.alipay import AlipayClient  # noqa: E402

# The TEST-ONLY demo merchant and sandbox keys from fixtures/ (public on purpose; never for real money).
FIXTURES = ROOT / "fixtures" / "alipay"
APP_ID = "2021000000000001"
BUYER = "2088000000000009"
TARGET = 500.0


class Receiver(ThreadingHTTPServer):
    """A merchant's notify URL at its cheapest: reads the body, waits `delay` seconds, answers `success`, counts."""

    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.count = 0
        self.last = 0.0
        self.changed = threading.Condition()
        self.url = f"http://127.0.0.1:{self.server_port}/notify"
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def arrived(self) -> None:
        with self.changed:
            self.count += 1
            self.last = time.monotonic()  # system-wide on Linux: comparable with the parent's clock
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= count, timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the dispatcher's requests.Session expects
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.delay:
            time.sleep(self.server.delay)  # the merchant's handler at work (a database write, say)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"success")
        self.server.arrived()

    def log_message(self, *args) -> None:
        pass


def receive(conn, delay: float) -> None:
    """The receiver process: serves, and answers (count, time of the last arrival) once asked-for arrivals came."""
    receiver = Receiver(delay)
    conn.send(receiver.url)
    while (ask := conn.recv()) is not None:
        count, timeout = ask
        receiver.wait_for(count, timeout)
        conn.send((receiver.count, receiver.last))
    receiver.shutdown()


def serial_ceiling(url: str, count: int) -> float:
    """Posts per second from one keep-alive session, one at a time: what a one-at-a-time sender can reach."""
    session = requests.Session()
    session.trust_env = False
    body = b"x" * 1000  # about an Alipay notification's size
    started = time.monotonic()
    for _ in range(count):
        reply = session.post(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert reply.text == "success"
    return count / (time.monotonic() - started)


def pay_orders(app, count: int, notify_url: str) -> float:
    """Create and pay `count` orders through the gateway and the control API; answers the seconds it took."""
    client = AlipayClient(
        APP_ID,
        (FIXTURES / "demo" / "app_private_key.pem").read_text(),
        (FIXTURES / "sandbox" / "alipay_public_key.pem").read_text(),
        "http://localhost/gateway.do",
    )
    http = app.test_client()
    started = time.perf_counter()
    for n in range(count):
        biz = {"out_trade_no": f"N-{n}", "total_amount": "1.00", "subject": "bench", "buyer_id": BUYER}
        reply = http.post("/gateway.do", data=client.signed_params("alipay.trade.create", biz, notify_url=notify_url))
        assert b'"code":"10000"' in reply.data, reply.data
        paid = http.post(f"/_sandbox/orders/alipay/{APP_ID}/N-{n}/pay", json={})
        assert paid.status_code == 200, paid.data
    return time.perf_counter() - started


def measure(count: int, file_store: bool, delay: float) -> None:
    conn, child_conn = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(target=receive, args=(child_conn, delay), daemon=True)
    child.start()
    url = conn.recv()
    probes = min(count, 2000 if not delay else 200)
    ceiling = serial_ceiling(url, probes)
    with tempfile.TemporaryDirectory() as folder:
        data = str(Path(folder, "paysandbox.json")) if file_store else None
        app = create_app(Config(seed=1, data_path=data, notify_timeout=10))
        sandbox = app.extensions["paysandbox"]
        paying = pay_orders(app, count, url)
        pending = len(sandbox.outbox.list(status="pending"))
        timeout = max(60.0, count * (delay + 0.05))
        started = time.monotonic()
        sandbox.start()  # the dispatcher thread finds `count` notifications due
        conn.send((probes + count, timeout))
        received, last = conn.recv()
        arrived = received - probes
        elapsed = (last if arrived == count else time.monotonic()) - started
        sandbox.stop()
        acked = len(sandbox.outbox.list(status="delivered"))
    conn.send(None)
    child.join(timeout=5)
    rate = arrived / elapsed
    store = "file" if file_store else "memory"
    print(f"orders paid through the gateway: {count} in {paying:.1f} s; notifications pending: {pending}")
    print(f"receiver: its own process, {delay * 1000:g} ms per notification before answering `success`")
    print(f"serial ceiling (one keep-alive session, one POST at a time): {ceiling:,.0f} POST/s")
    print(f"dispatcher ({store} store): {arrived} delivered in {elapsed:.2f} s = {rate:,.0f} notifications/s")
    print(f"recorded as delivered: {acked}; {rate / ceiling:.0%} of the serial ceiling")
    passed = arrived == count and rate > TARGET
    print(f"target over {TARGET:.0f}/s: {'PASS' if passed else 'FAIL'}")
    if not passed:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="paid orders, one notification each")
    parser.add_argument("--file-store", action="store_true", help="keep the store in a temporary JSON file")
    parser.add_argument("--delay", type=float, default=0.0, help="ms the receiver takes per notification")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    measure(args.count, args.file_store, args.delay / 1000)


if __name__ == "__main__":
    main()
