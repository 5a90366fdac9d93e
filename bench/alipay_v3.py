"""Signed Alipay calls per second: OpenAPI v3 beside gateway.do, through a real server in its own process.

Starts the sandbox as a separate process (`python -m sandbox serve`, and the Dockerfile's gunicorn CMD when
gunicorn is installed) on a free loopback port. This process is the client: it signs every request before the
clock starts (the TEST-ONLY demo app key), then sends them one at a time over a keep-alive connection. Four kinds:
trade.query of an existing order and trade.precreate of a new one, each on gateway.do (form POST) and on v3
(JSON POST with the Authorization header). Rounds of the four kinds are interleaved so load from elsewhere hits
each alike; the best round is reported. Beside req/s: the server's CPU milliseconds per request (from
/proc/<pid>/stat) and the floor of its own crypto, one RSA-2048 verify plus one sign with the same library.
Every answer is checked (gateway.do code 10000, v3 status 200); any other makes the run FAIL. A script, not a
test (tests/test_bench.py runs it with --quick so it cannot rot):

    python bench/alipay_v3.py [--count 300] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox_process import crypto_floor_ms  # noqa: E402
from signed_kinds import Prepared  # noqa: E402

from sandbox.merchant.alipay import AlipayClient  # noqa: E402
from sandbox.merchant.alipay_v3 import AlipayV3Client  # noqa: E402

# The TEST-ONLY demo app and sandbox keys from fixtures/ (public on purpose; never for real money).
FIXTURES = ROOT / "fixtures" / "alipay"
APP_ID = "2021000000000001"
BUYER = "2088000000000009"
TICKS = os.sysconf("SC_CLK_TCK")
_numbers = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def servers() -> dict[str, list[str]]:
    found = {"serve": [sys.executable, "-m", "sandbox", "serve"]}
    if importlib.util.find_spec("gunicorn") is not None:
        line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ["))
        found["gunicorn"] = [sys.executable, *json.loads(line[4:])[1:]]
    return found


def start(argv: list[str], port: int, log: IO[bytes]) -> subprocess.Popen:
    """The server, listening; its output goes to `log` (a pipe nobody reads would fill up and stall it)."""
    env = {**os.environ, "SANDBOX_PORT": str(port), "SANDBOX_HOST": "127.0.0.1", "SANDBOX_LOG_LEVEL": "WARNING"}
    extra = ["--port", str(port)] if argv[-1] == "serve" else []
    process = subprocess.Popen([*argv, *extra], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"{' '.join(argv)} exited ({process.returncode}):\n{log.read().decode()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"{' '.join(argv)} did not listen on {port} within 30 s")


def worker_pid(process: subprocess.Popen) -> int:
    """The process that serves: gunicorn's one worker (a child of its master), or `serve` itself."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    pids = children.read_text().split() if children.exists() else []
    return int(pids[0]) if pids else process.pid


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# -- the four kinds of request --------------------------------------------------------------------


def clients(base: str) -> tuple[AlipayClient, AlipayV3Client]:
    private = (FIXTURES / "demo" / "app_private_key.pem").read_text()
    public = (FIXTURES / "sandbox" / "alipay_public_key.pem").read_text()
    return AlipayClient(APP_ID, private, public, f"{base}/gateway.do"), AlipayV3Client(APP_ID, private, public, base)


def gateway_do(classic: AlipayClient, method: str, biz: dict) -> Prepared:
    body = urlencode(classic.signed_params(method, biz)).encode()
    return Prepared("POST", "/gateway.do", body, {"Content-Type": "application/x-www-form-urlencoded"})


def v3(client: AlipayV3Client, method: str, biz: dict) -> Prepared:
    signed = client.sign("POST", "/v3/" + method.replace(".", "/"), biz)
    return Prepared("POST", signed.path_and_query, signed.body, signed.headers)


def new_order_fields() -> dict:
    return {"out_trade_no": f"BENCH{next(_numbers):08d}", "total_amount": "9.90", "subject": "bench"}


def prepare(kind: str, count: int, classic: AlipayClient, client: AlipayV3Client, existing: str) -> list[Prepared]:
    protocol, method = kind.split(" ")
    sign = gateway_do if protocol == "gateway.do" else v3
    target = client if protocol == "v3" else classic
    full = "alipay.trade." + method
    if method == "query":
        return [sign(target, full, {"out_trade_no": existing}) for _ in range(count)]
    return [sign(target, full, new_order_fields()) for _ in range(count)]


KINDS = ("gateway.do query", "v3 query", "gateway.do precreate", "v3 precreate")


def accepted(kind: str, status: int, body: bytes) -> bool:
    if kind.startswith("v3"):
        return status == 200
    return status == 200 and b'"code":"10000"' in body


def send_all(port: int, kind: str, batch: list[Prepared]) -> tuple[float, int]:
    """Seconds to send the batch one request at a time (reconnecting when the server closes), and the errors."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    errors = 0
    started = time.perf_counter()
    for request in batch:
        for attempt in range(2):
            try:
                connection.request(request.method, request.target, request.body, request.headers)
                reply = connection.getresponse()
                body = reply.read()
                break
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                if attempt:
                    raise
        errors += not accepted(kind, reply.status, body)
        if reply.getheader("connection", "").lower() == "close":
            connection.close()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, errors


def create_existing(port: int, classic: AlipayClient) -> str:
    fields = {**new_order_fields(), "buyer_id": BUYER}
    _, errors = send_all(port, "gateway.do create", [gateway_do(classic, "alipay.trade.create", fields)])
    if errors:
        raise SystemExit("could not create the order the queries read")
    return fields["out_trade_no"]


def measure(name: str, argv: list[str], count: int, rounds: int) -> list[tuple]:
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = start(argv, port, log)
        try:
            return rounds_of(port, worker_pid(process), name, count, rounds)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=15)


def rounds_of(port: int, pid: int, name: str, count: int, rounds: int) -> list[tuple]:
    """(server, kind, best req/s, its server CPU ms per request, errors) for each kind."""
    classic, client = clients(f"http://127.0.0.1:{port}")
    existing = create_existing(port, classic)
    for kind in KINDS:  # warm-up: imports, caches, the first connection
        send_all(port, kind, prepare(kind, max(5, count // 10), classic, client, existing))
    best: dict[str, tuple[float, float]] = {}
    errors = dict.fromkeys(KINDS, 0)
    for _ in range(rounds):
        for kind in KINDS:
            batch = prepare(kind, count, classic, client, existing)
            cpu_before = cpu_seconds(pid)
            elapsed, failed = send_all(port, kind, batch)
            server_ms = (cpu_seconds(pid) - cpu_before) / count * 1000
            errors[kind] += failed
            rate = count / elapsed
            if kind not in best or rate > best[kind][0]:
                best[kind] = (rate, server_ms)
    return [(name, kind, *best[kind], errors[kind]) for kind in KINDS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300, help="requests per kind per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 requests, 1 round, `serve` only")
    args = parser.parse_args()
    count, rounds = (20, 1) if args.quick else (args.count, args.rounds)
    chosen = {"serve": servers()["serve"]} if args.quick else servers()
    floor = crypto_floor_ms()
    rows = [row for name, argv in chosen.items() for row in measure(name, argv, count, rounds)]
    print(f"{count} signed requests per kind per round, {rounds} rounds, one at a time, best round")
    print(f"crypto floor (one RSA-2048 verify + one sign, sandbox.core.crypto): {floor:.2f} ms")
    print(f"{'server':<9} {'call':<21} {'req/s':>7} {'server CPU ms/req':>18} {'x floor':>8} {'errors':>7}")
    for name, kind, rate, server_ms, errors in rows:
        print(f"{name:<9} {kind:<21} {rate:7.0f} {server_ms:18.2f} {server_ms / floor:8.1f} {errors:7d}")
    for name in chosen:
        by_kind = {kind: rate for n, kind, rate, _, _ in rows if n == name}
        for method in ("query", "precreate"):
            ratio = by_kind[f"v3 {method}"] / by_kind[f"gateway.do {method}"]
            print(f"{name}: v3 {method} runs at {ratio:.0%} of gateway.do's rate")
    failed = sum(row[-1] for row in rows)
    print("PASS" if not failed else f"FAIL: {failed} answers were not successes")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
