"""Crash safety: acknowledged writes lost, and notifications sent twice, after a kill -9 of a real server.

Starts `python -m sandbox serve` on each store in turn (this process is the client): SANDBOX_DATA a file in a
temporary folder (the embedded TinyDB store), then a PostgreSQL database (a throwaway cluster of its own with
PostgreSQL's durable defaults, or `--postgres URL`, an empty database). On each:

1. creates: `--clients` threads send signed Alipay `trade.precreate` requests, each a new order; once `--creates`
   have been answered with code 10000 the server is killed with SIGKILL while the clients go on sending. It is
   started again on the same store, and every order whose creation was answered with success must be there.
2. notifications: `--orders` orders are created, then paid through the control API by `--clients` threads; each
   payment makes a notification to a receiver in this process, which acknowledges it (`success`). Once half the
   payments are answered the server is killed, started again, and left to deliver what is pending. A notification the
   receiver acknowledged and then got again is a duplicate; a paid order whose notification never came is lost.

The goal, on both stores: 0 acknowledged creates lost and 0 notifications lost (PASS needs both), and 0 duplicates
(an attempt answered in the moment before the kill, its record not yet written, is sent again after the restart, as
a provider would: the figure says how often that happens). A script, not a test (tests/test_bench.py runs it with
--quick):

    python bench/crash.py [--creates 2000] [--orders 1000] [--clients 8] [--store file|postgresql] [--postgres URL]
                          [--quick]
"""

from __future__ import annotations

import argparse
import collections
import http.client
import tempfile
import threading
import time
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from sandbox_process import APP_ID, SUCCESS, Server, alipay_client, get_json, kill, post, precreate_body, servers
from store_backends import own_database

STORES = ("file", "postgresql")


def serve(data: str) -> Server:
    return Server(servers(with_gunicorn=False)["serve"], {"SANDBOX_DATA": data})


def send_all(
    url: str, requests: list[tuple[str, str, bytes]], clients: int, answered: list[str]
) -> list[threading.Thread]:
    """Send (name, path, body) requests from `clients` threads until done or the server is gone; `answered` gets
    the name of each answered with success."""
    queue = collections.deque(requests)

    def client() -> None:
        while True:
            try:
                name, path, body = queue.popleft()
            except IndexError:
                return
            try:
                content_type = "application/json" if path.startswith("/_sandbox") else None
                status, answer = post(url, path, body, *([content_type] if content_type else []))
            except (OSError, http.client.HTTPException):
                return  # killed: the rest go unanswered
            if status == 200 and (SUCCESS in answer or path.startswith("/_sandbox")):
                answered.append(name)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    return threads


def kill_when(server: Server, reached) -> None:
    while not reached():
        time.sleep(0.001)
    kill(server)


def creates(data: str, count: int, clients: int) -> int:
    """Acknowledged creates missing after kill -9 and a restart."""
    merchant = alipay_client("http://unused")
    total = count + count // 2  # more than are answered before the kill: clients are busy when it lands
    bodies = [(f"C{n:07d}", "/gateway.do", precreate_body(merchant, f"C{n:07d}")) for n in range(total)]
    server = serve(data)
    answered: list[str] = []
    threads = send_all(server.url, bodies, clients, answered)
    kill_when(server, lambda: len(answered) >= count)
    for thread in threads:
        thread.join()
    acknowledged = set(answered)
    server = serve(data)
    try:
        stored = {o["out_trade_no"] for o in get_json(server.url, "/_sandbox/orders?gateway=alipay")["orders"]}
    finally:
        server.stop()
    missing = len(acknowledged - stored)
    print(f"creates answered with success before the kill: {len(acknowledged)}, sent: {total}, clients: {clients}")
    print(f"acknowledged creates missing after the restart: {missing}")
    return missing


class Receiver:
    """A merchant's notify URL: counts each Alipay notification (by notify_id) it acknowledged."""

    def __init__(self) -> None:
        self.acked: collections.Counter[str] = collections.Counter()
        self.orders: set[str] = set()
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                fields = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                self.send_response(200)
                self.send_header("Content-Length", "7")
                self.end_headers()
                self.wfile.write(b"success")
                with lock:
                    receiver.acked[fields["notify_id"][0]] += 1
                    receiver.orders.add(fields["out_trade_no"][0])

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/notify"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()


def notifications(data: str, count: int, clients: int) -> tuple[int, int]:
    """(notifications acknowledged and sent again, paid orders never notified) across kill -9 and a restart."""
    receiver = Receiver()
    merchant = alipay_client("http://unused")
    names = [f"N{n:07d}" for n in range(count)]
    server = serve(data)
    created: list[str] = []
    bodies = [(name, "/gateway.do", precreate_body(merchant, name, receiver.url)) for name in names]
    for thread in send_all(server.url, bodies, clients, created):
        thread.join()
    paid: list[str] = []
    pays = [(name, f"/_sandbox/orders/alipay/{APP_ID}/{name}/pay", b"{}") for name in names]
    threads = send_all(server.url, pays, clients, paid)
    kill_when(server, lambda: len(paid) >= count // 2)
    for thread in threads:
        thread.join()
    before = sum(receiver.acked.values())
    server = serve(data)
    try:
        deadline = time.monotonic() + 120
        while get_json(server.url, "/_sandbox/notifications?status=pending")["notifications"]:
            if time.monotonic() > deadline:
                raise SystemExit("notifications still pending 120 s after the restart")
            time.sleep(0.05)
    finally:
        server.stop()
    receiver.close()
    twice = sum(1 for times in receiver.acked.values() if times > 1)
    lost = len(set(paid) - receiver.orders)
    print(f"orders paid (answered) before the kill: {len(paid)} of {count}; notifications acknowledged then: {before}")
    print(f"notifications acknowledged, then sent again after the restart: {twice}")
    print(f"paid orders whose notification never came: {lost}")
    return twice, lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=2000, help="acknowledged creates before the kill")
    parser.add_argument("--orders", type=int, default=1000, help="orders paid while notifications go out")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--store", choices=STORES, action="append", help="only this store (default: both)")
    parser.add_argument("--postgres", metavar="URL", help="an empty database to use (default: a cluster of its own)")
    parser.add_argument("--quick", action="store_true", help="300 creates, 100 orders (the test suite's size)")
    args = parser.parse_args()
    if args.quick:
        args.creates, args.orders = 300, 100
    passed = True
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="paysandbox-crash-"))
        for store in args.store or STORES:
            print(f"-- {store} store")
            if store == "file":
                create_data, notify_data = f"{folder}/creates.json", f"{folder}/notifications.json"
            else:  # the phases' order numbers differ (C..., N...), so one database serves both
                create_data = notify_data = args.postgres or stack.enter_context(own_database())
            missing = creates(create_data, args.creates, args.clients)
            _, lost = notifications(notify_data, args.orders, args.clients)
            passed = passed and missing == 0 and lost == 0
    print(f"goal: 0 acknowledged creates lost, 0 notifications lost (0 sent twice): {'PASS' if passed else 'FAIL'}")
    if not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
