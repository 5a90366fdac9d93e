"""Server CPU per signed request, against the OpenSSL floor of one RSA-2048 sign plus verify, on the production servers.

The sandbox runs as a process of its own (the Dockerfile's gunicorn CMD, and `paysandbox serve`), clock manual.
This process signs every request before the clock starts (TEST-ONLY demo keys, bench/signed_kinds.py) and wrk
(bench/signed_requests.lua) replays them over a few keep-alive connections: each create body once, a query
re-sent as it would be by a polling merchant. Six kinds: create and query on Alipay gateway.do, Alipay OpenAPI v3
and WeChat Pay v3. Per round and kind, --count requests; rounds interleave the servers and kinds, so load from
elsewhere on the machine falls on each alike. Figures, min / median / max over the rounds: req/s and p50/p99
latency from wrk, server CPU per request from /proc (utime + stime of the serving process, and of gunicorn's
master), and the floor: one RSA-2048 PKCS#1 v1.5 SHA-256 sign plus one verify through sandbox.core.crypto, timed in
this process each round. The goal: server CPU at most 3x the floor for every kind.

--localstripe COMMAND starts a fresh localstripe per round (its store slows it as it grows, so both sides get rounds
of the same size on a fresh process) and replays an unsigned `POST /v1/payment_intents` the same way; the goal:
each signed create at least 4x localstripe's create, in CPU per request and in req/s.

Each round also measures the stack floor: bench/stack_floor_app.py, a bare WSGI app that only reads the body,
verifies one signature and signs one answer, under gunicorn as the Dockerfile runs the sandbox. It is what any signed
request costs a Python server here before routing, parsing, storing or encoding anything.

    python bench/signed_requests.py [--count 1000] [--rounds 5] [--connections 4]
    python bench/signed_requests.py --localstripe /tmp/ls-venv/bin/localstripe
    python bench/signed_requests.py --kinds "alipay v3 precreate,alipay v3 query" --servers gunicorn
    python bench/signed_requests.py --quick     # smoke run: 40 requests a kind, one round
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from sandbox_process import ROOT, Server, cpu_seconds, crypto_floor_ms, free_port, servers
from signed_kinds import CREATES, KINDS, Merchants, Prepared, success_marker

SCRIPT = Path(__file__).resolve().parent / "signed_requests.lua"
RESULT = re.compile(r"RESULT (.*)")
CPU_GOAL = 3.0  # server CPU per request, in floors
LOCALSTRIPE_GOAL = 4.0
QUERY_VARIANTS = 50  # distinct signed queries per round, re-sent in turn
LOCALSTRIPE = "localstripe payment_intents"
STACK_FLOOR = "stack floor", "read, verify, sign"
REFERENCES = ("localstripe", STACK_FLOOR[0])  # rows to compare with, not judged against the goals


@dataclass
class Figures:
    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    answers: int = 0
    failed: int = 0


def replay(url: str, batch: list[Prepared], total: int, marker: str, args, work: Path) -> dict[str, int]:
    """wrk sends `total` requests from `batch` and is stopped once they are all answered."""
    requests, done = work / "requests.txt", work / "done"
    requests.write_bytes(b"\n".join(prepared.line() for prepared in batch) + b"\n")
    done.unlink(missing_ok=True)
    argv = ["wrk", "-t1", f"-c{args.connections}", "-d120s", "--timeout", "30s", "-s", str(SCRIPT), url]
    with subprocess.Popen(
        [*argv, "--", str(requests), str(total), marker, str(done)], stdout=subprocess.PIPE, text=True
    ) as wrk:
        deadline = time.monotonic() + 120
        while not done.exists() and wrk.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        wrk.send_signal(signal.SIGINT)
        out = wrk.communicate(timeout=60)[0]
    found = RESULT.search(out)
    if not found or not done.exists():
        raise SystemExit(f"wrk did not finish its {total} requests ({wrk.returncode}):\n{out}")
    return {key: int(value) for key, value in (item.split("=") for item in found.group(1).split())}


def measure(figures: Figures, url: str, pids: list[int], batch, total: int, marker: str, args, work: Path) -> None:
    before = cpu_seconds(pids)
    result = replay(url, batch, total, marker, args, work)
    spent = cpu_seconds(pids) - before
    figures.rates.append(result["requests"] / (result["duration_us"] / 1e6))
    figures.cpu_ms.append(spent / result["requests"] * 1000)
    figures.p50_ms.append(result["p50_us"] / 1000)
    figures.p99_ms.append(result["p99_us"] / 1000)
    figures.answers += result["requests"]
    figures.failed += result["failed"] + result["socket_errors"] + (total - result["requests"])


def sandbox_round(name: str, server: Server, merchants: Merchants, results: dict, args, work: Path) -> None:
    pids = sorted({server.process.pid, server.pid})  # gunicorn's master and its worker, or `serve` alone
    for kind in args.kinds:
        size = QUERY_VARIANTS if kind.endswith("query") else args.count
        batch = merchants.prepare(kind, min(size, args.count))
        measure(results[name, kind], server.url, pids, batch, args.count, success_marker(kind), args, work)


def start_localstripe(command: list[str], log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # --from-scratch: not the store a previous localstripe saved to /tmp/localstripe.pickle
    process = subprocess.Popen([*command, "--port", str(port), "--from-scratch"], stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.02)
    process.kill()
    log.seek(0)
    raise SystemExit(f"{shlex.join(command)} did not listen on {port}:\n{log.read().decode(errors='replace')}")


def localstripe_round(command: list[str], figures: Figures, args, work: Path) -> None:
    """A fresh localstripe, args.count unsigned payment intent creates."""
    with tempfile.TemporaryFile() as log:
        process, url = start_localstripe(command, log)
        try:
            body = b"amount=100&currency=usd"
            headers = {"Authorization": "Bearer sk_test_x", "Content-Type": "application/x-www-form-urlencoded"}
            batch = [Prepared("POST", "/v1/payment_intents", body, headers)]
            measure(figures, url, [process.pid], batch, args.count, "", args, work)
        finally:
            process.terminate()
            process.wait(timeout=20)


def stack_floor_round(figures: Figures, body: bytes, args, work: Path) -> None:
    """A fresh gunicorn (the Dockerfile's worker class) serving bench/stack_floor_app.py, args.count requests."""
    argv = [sys.executable, "-m", "gunicorn", "--chdir", str(Path(__file__).parent), "--worker-class", "gthread"]
    server = Server([*argv, "--workers", "1", "--threads", "8", "stack_floor_app:app"], bind=True)
    try:
        batch = [Prepared("POST", "/", body, {"Content-Type": "application/x-www-form-urlencoded"})]
        measure(figures, server.url, sorted({server.process.pid, server.pid}), batch, args.count, "", args, work)
    finally:
        server.stop()


def spread(values: list[float], digits: int = 0) -> str:
    return " / ".join(f"{value:.{digits}f}" for value in (min(values), statistics.median(values), max(values)))


def report(results: dict[tuple[str, str], Figures], floors: list[float], args) -> int:
    floor = statistics.median(floors)
    print(
        f"{args.count} requests per kind per round, {args.rounds} interleaved rounds, wrk -t1 -c{args.connections}"
        f" (keep-alive); figures min / median / max over the rounds"
    )
    print(f"floor: one RSA-2048 sign + verify (sandbox.core.crypto, OpenSSL): {spread(floors, 3)} ms")
    print(
        f"{'server':<11} {'kind':<27} {'req/s':>17} {'server CPU ms/req':>20}"
        f" {'p50 ms':>7} {'p99 ms':>7} {'x floor':>8}"
    )
    for (name, kind), figures in results.items():
        ratio = statistics.median(figures.cpu_ms) / floor
        verdict = "" if name in REFERENCES else ("PASS" if ratio <= CPU_GOAL else "FAIL")
        print(
            f"{name:<11} {kind:<27} {spread(figures.rates):>17} {spread(figures.cpu_ms, 2):>20} "
            f"{statistics.median(figures.p50_ms):7.1f} {statistics.median(figures.p99_ms):7.1f} {ratio:7.1f}x {verdict}"
        )
    stripe = results.get(("localstripe", LOCALSTRIPE))
    bare = results.get(STACK_FLOOR)
    if stripe is not None and bare is not None:
        budget = statistics.median(stripe.cpu_ms) / LOCALSTRIPE_GOAL
        least = statistics.median(bare.cpu_ms)
        print(
            f"{LOCALSTRIPE_GOAL:.0f}x localstripe leaves {budget:.2f} ms of server CPU per signed create;"
            f" the stack floor alone takes {least:.2f} ms ({'within' if least <= budget else 'over'} it)"
        )
    for name, kind in results:
        if stripe is None or name in REFERENCES or kind not in CREATES:
            continue
        ours = results[name, kind]
        by_cpu = statistics.median(stripe.cpu_ms) / statistics.median(ours.cpu_ms)
        by_rate = statistics.median(ours.rates) / statistics.median(stripe.rates)
        verdict = "PASS" if min(by_cpu, by_rate) >= LOCALSTRIPE_GOAL else "FAIL"
        print(f"{name} {kind} vs localstripe: {by_cpu:.1f}x less CPU per request, {by_rate:.1f}x the req/s {verdict}")
    print(
        f"goals: server CPU per request <= {CPU_GOAL:.0f}x the floor;"
        f" signed creates >= {LOCALSTRIPE_GOAL:.0f}x localstripe"
    )
    failed = sum(figures.failed for figures in results.values())
    answers = sum(figures.answers for figures in results.values())
    print(f"{cores_and_load()}; answers: {answers}, not successes (or socket errors): {failed}")
    print("FAIL" if failed else "PASS: every answer succeeded")
    return 1 if failed else 0


def cores_and_load() -> str:
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="requests per kind per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4, help="wrk's keep-alive connections")
    parser.add_argument("--servers", default="gunicorn,serve", help="which of gunicorn,serve to measure")
    parser.add_argument("--kinds", default=",".join(KINDS), help="which kinds to measure (comma-separated)")
    parser.add_argument("--localstripe", metavar="COMMAND", help="localstripe's command, to compare creates with")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 requests a kind, one round")
    args = parser.parse_args()
    if args.quick:
        args.count, args.rounds = 40, 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/test.sh does)")
    available = servers()
    chosen = {name: available[name] for name in args.servers.split(",") if name in available}
    args.kinds = [kind for kind in args.kinds.split(",") if kind]
    if unknown := set(args.kinds) - set(KINDS):
        raise SystemExit(f"unknown kinds {', '.join(sorted(unknown))}; known: {', '.join(KINDS)}")
    results: dict[tuple[str, str], Figures] = {(name, kind): Figures() for name in chosen for kind in args.kinds}
    stack_floor = importlib.util.find_spec("gunicorn") is not None
    if stack_floor:
        results[STACK_FLOOR] = Figures()
    localstripe = shlex.split(args.localstripe) if args.localstripe else None
    if localstripe:
        results["localstripe", LOCALSTRIPE] = Figures()
    floors: list[float] = []
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="paysandbox-signed-")))
        running: dict[str, tuple[Server, Merchants]] = {}
        for name, argv in chosen.items():
            server = Server(argv, {"SANDBOX_CLOCK_MODE": "manual", "SANDBOX_FIXTURES": str(ROOT / "fixtures")})
            stack.callback(server.stop)
            running[name] = server, Merchants(server.url, f"B{name[0].upper()}")
            warm = Figures()  # imports, caches and the first connections: not counted
            for kind in args.kinds:
                measure(warm, server.url, [server.pid], running[name][1].prepare(kind, 20), 20, "", args, work)
        body = next(iter(running.values()))[1].prepare(CREATES[0], 1)[0].body if running else b"x" * 600
        for _ in range(args.rounds):
            floors.append(crypto_floor_ms())
            if stack_floor:
                stack_floor_round(results[STACK_FLOOR], body, args, work)
            for name, (server, merchants) in running.items():
                sandbox_round(name, server, merchants, results, args, work)
            if localstripe:
                localstripe_round(localstripe, results["localstripe", LOCALSTRIPE], args, work)
    return report(results, floors, args)


if __name__ == "__main__":
    sys.exit(main())
