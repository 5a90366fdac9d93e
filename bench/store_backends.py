"""Signed order creation per second on each store: TinyStore in memory, TinyStore in a file, PostgreSQL (one process).

Each request is a signed `alipay.trade.precreate` of a new order (signed before the clock starts), sent over HTTP to
one sandbox process (ThreadedServer) by one keep-alive client, then by 8 at once. This is a script, not a test:

    python bench/store_backends.py                     # PostgreSQL: a throwaway cluster of its own (fsync on)
    python bench/store_backends.py --postgres URL      # an existing, empty database
    python bench/store_backends.py --quick             # smoke run
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from sandbox.app import create_app  # noqa: E402
from sandbox.config import Config  # noqa: E402
from sandbox.merchant.alipay import AlipayClient, yuan  # noqa: E402
from sandbox.testing.server import ThreadedServer  # noqa: E402
from tests import postgres  # noqa: E402

FIXTURES = ROOT / "fixtures" / "alipay"
APP_ID = "2021000000000001"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
SUCCESS = b'"code":"10000"'
CLIENTS = 8


def signed_creates(prefix: str, count: int) -> list[bytes]:
    merchant = AlipayClient(
        APP_ID,
        (FIXTURES / "demo" / "app_private_key.pem").read_text(),
        (FIXTURES / "sandbox" / "alipay_public_key.pem").read_text(),
        "http://unused/gateway.do",
    )
    return [
        urlencode(
            merchant.signed_params(
                "alipay.trade.precreate",
                {"out_trade_no": f"{prefix}{n:07d}", "total_amount": yuan(100 + n), "subject": "bench"},
                notify_url="http://127.0.0.1:9/notify",  # never contacted: the clock is manual
            )
        ).encode()
        for n in range(count)
    ]


def rate(url: str, bodies: list[bytes], clients: int) -> tuple[float, int]:
    """Requests per second sending `bodies` from `clients` keep-alive sessions at once, and the failed answers."""
    sessions = [requests.Session() for _ in range(clients)]
    for session in sessions:
        session.trust_env = False
    shares = [bodies[n::clients] for n in range(clients)]

    def send(n: int) -> int:
        answers = (sessions[n].post(url, data=body, headers=FORM, timeout=30).content for body in shares[n])
        return sum(SUCCESS not in answer for answer in answers)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        failed = sum(pool.map(send, range(clients)))
    elapsed = time.perf_counter() - started
    for session in sessions:
        session.close()
    return len(bodies) / elapsed, failed


@contextmanager
def served(data: str | None):
    app = create_app(Config(clock_mode="manual", data_path=data, log_level="CRITICAL"))
    sandbox = app.extensions["paysandbox"]
    sandbox.store.start()  # a file store's background flush runs, as under `serve`
    try:
        with ThreadedServer(app) as server:
            yield f"{server.url}/gateway.do"
    finally:
        sandbox.stop()


def measure(name: str, data: str | None, args: argparse.Namespace) -> tuple[str, list[tuple[float, int]]]:
    figures = []
    with served(data) as url:
        rate(url, signed_creates(f"W{len(name)}", args.warmup), 1)
        for clients in (1, CLIENTS):
            best, failed = 0.0, 0
            for round_number in range(args.rounds):
                bodies = signed_creates(f"C{clients}R{round_number}", args.count)
                per_second, bad = rate(url, bodies, clients)
                best, failed = max(best, per_second), failed + bad
            figures.append((best, failed))
    return name, figures


def database_settings(url: str) -> str:
    with psycopg.connect(url) as conn:
        fsync, commit = (conn.execute(f"SHOW {name}").fetchone()[0] for name in ("fsync", "synchronous_commit"))
        version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    return f"PostgreSQL {version}, fsync={fsync}, synchronous_commit={commit}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="an empty database to use (default: a cluster of its own)")
    parser.add_argument("--count", type=int, default=400, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 requests, one round")
    args = parser.parse_args()
    if args.quick:
        args.count, args.rounds, args.warmup = 40, 1, 5
    logging.disable(logging.CRITICAL)
    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        url = args.postgres or stack.enter_context(own_database())
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="paysandbox-bench-"))
        results = [
            measure("memory (TinyStore)", None, args),
            measure("file (TinyStore, flush running)", f"{work}/paysandbox.json", args),
            measure("postgresql (one process)", url, args),
        ]
        settings = database_settings(url)
    print(f"signed alipay.trade.precreate over HTTP, {args.count} per round, best of {args.rounds}; {settings}")
    print(f"{'store':34} {'1 client req/s':>15} {'ms/req':>7} {f'{CLIENTS} clients req/s':>17} {'errors':>7}")
    for name, ((serial, bad_serial), (parallel, bad_parallel)) in results:
        print(f"{name:34} {serial:15.0f} {1000 / serial:7.2f} {parallel:17.0f} {bad_serial + bad_parallel:7d}")
    file_rate, pg_rate = results[1][1][0][0], results[2][1][0][0]
    print(f"postgresql runs at {pg_rate / file_rate:.0%} of the file store's rate with one client")
    cores, load = os.cpu_count() or 1, max(load_before, os.getloadavg()[0])
    if load > cores:  # the server, the client and PostgreSQL share these cores with whatever else runs
        print(f"note: the machine was busy (load average {load:.1f} on {cores} cores): the figures jitter")
    failed = any(bad for _, figures in results for _, bad in figures)
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


@contextmanager
def own_database():
    """A throwaway cluster with PostgreSQL's durable defaults (the tests' turns fsync off), and a database in it."""
    cluster = postgres.Cluster(Path(tempfile.mkdtemp(prefix="paysandbox-bench-pg-")))
    try:
        server = cluster.start(durable=True)
        with postgres.fresh_database(server) as url:
            yield url
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
