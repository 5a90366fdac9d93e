"""Fuzz every gateway through a real server: 10,000 mutated requests per gateway, counted by answer and by log.

Starts the sandbox in its own process (`python -m sandbox serve`, or the Dockerfile's gunicorn CMD with
`--server gunicorn`) on a free loopback port, its log in a temporary file at WARNING. This process is the client:
for each gateway it sends the set-up requests (orders to pay, refund, query), then `--count` cases of
sandbox.testing.fuzz, one at a time over a keep-alive connection. Case i of a seed is the same on every run.

Per gateway it prints the requests sent, the HTTP statuses, the 5xx answers, the answers not in the gateway's
native format ("wrong"), and the ERROR lines of the sandbox's loggers and the tracebacks in the server's log
meanwhile. PASS needs all of those at 0. A 414 or 431 is the HTTP server refusing a request line or header over its
limit before any gateway code runs (the fuzzer keeps under gunicorn's limits, so they are rare): counted, not wrong.
A script, not a test (tests/test_bench.py runs it with --quick so it cannot rot):

    python bench/fuzz.py [--count 10000] [--seed 1] [--gateway wechatpay_v2 ...] [--server gunicorn]
    python bench/fuzz.py --gateway unionpay --show 1234    # print case 1234 of that gateway and exit
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.testing.fuzz import FUZZERS, runner  # noqa: E402
from sandbox.testing.fuzz.base import case_rng  # noqa: E402

QUICK_COUNT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_argv(server: str, port: int) -> list[str]:
    if server == "serve":
        return [sys.executable, "-m", "sandbox", "serve", "--port", str(port)]
    line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ["))
    return [sys.executable, *json.loads(line[4:])[1:]]


def start(server: str, port: int, log: IO[bytes]) -> subprocess.Popen:
    """The server, listening, its output in `log` (a pipe nobody reads would fill up and stall it)."""
    env = {**os.environ, "SANDBOX_PORT": str(port), "SANDBOX_HOST": "127.0.0.1", "SANDBOX_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(server_argv(server, port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the {server} server exited ({process.returncode}):\n{Path(log.name).read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise SystemExit(f"the {server} server did not listen on {port} within 30 s")


def logged(log_path: Path, offset: int) -> tuple[int, int, int]:
    """(ERROR lines, tracebacks, new offset) in the server's log since `offset`."""
    data = log_path.read_bytes()
    text = data[offset:].decode("utf-8", "replace")
    # The sandbox's own loggers; werkzeug logs its refusals of oversized request lines (414, 431) at ERROR too.
    errors = sum(1 for line in text.splitlines() if " ERROR paysandbox" in line or " CRITICAL paysandbox" in line)
    return errors, text.count("Traceback (most recent call last)"), len(data)


def fuzz(gateways: list[str], count: int, seed: int, server: str) -> tuple[list[dict], Path]:
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="paysandbox-fuzz-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = start(server, port, log)
    rows, offset = [], 0
    try:
        for name in gateways:
            sender = runner.HttpSender("127.0.0.1", port)
            started = time.perf_counter()
            report = runner.run(FUZZERS[name](), sender, count, seed)
            sender.close()
            errors, tracebacks, offset = logged(log_path, offset)
            rows.append(
                {
                    "report": report,
                    "seconds": time.perf_counter() - started,
                    "errors": errors,
                    "tracebacks": tracebacks,
                }
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return rows, log_path


def show(name: str, index: int, seed: int) -> None:
    request = FUZZERS[name]().case(case_rng(seed, name, index))
    print(f"{name} case {index} (seed {seed}): {request.label}")
    print(f"{request.method} {request.target}")
    for header, value in request.headers.items():
        print(f"{header}: {value}")
    print()
    print(request.body.decode("utf-8", "backslashreplace"))


def print_table(rows: list[dict], count: int, seed: int) -> bool:
    print(f"{count} mutated requests per gateway (seed {seed}), plus each gateway's set-up requests")
    heads = f"{'gateway':<13} {'requests':>8} {'req/s':>6} {'5xx':>4} {'wrong':>6} {'ERROR':>6} {'tracebacks':>10}"
    print(heads + "  statuses")
    clean = True
    for row in rows:
        report = row["report"]
        statuses = " ".join(f"{status}:{n}" for status, n in sorted(report.statuses.items()))
        rate = report.requests / row["seconds"]
        print(
            f"{report.gateway:<13} {report.requests:8d} {rate:6.0f} {report.server_errors:4d} "
            f"{len(report.problems):6d} {row['errors']:6d} {row['tracebacks']:10d}  {statuses}"
        )
        clean = clean and not (report.server_errors or report.problems or row["errors"] or row["tracebacks"])
    for row in rows:
        for problem in row["report"].problems[:5]:
            print(problem)
    return clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="mutated requests per gateway")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gateway", action="append", choices=sorted(FUZZERS), help="only these (repeatable)")
    parser.add_argument("--server", choices=("serve", "gunicorn"), default="serve")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK_COUNT} requests per gateway")
    parser.add_argument("--show", type=int, metavar="I", help="print case I of --gateway and exit")
    args = parser.parse_args()
    gateways = args.gateway or list(FUZZERS)
    if args.show is not None:
        for name in gateways:
            show(name, args.show, args.seed)
        return 0
    count = QUICK_COUNT if args.quick else args.count
    rows, log_path = fuzz(gateways, count, args.seed, args.server)
    clean = print_table(rows, count, args.seed)
    if clean:
        log_path.unlink()
        print("PASS")
        return 0
    print(f"FAIL: a 5xx, an answer not in the gateway's format, or an error in the server's log ({log_path})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
