"""Signed order creation per second through the container's gunicorn on PostgreSQL, with 1 and with 2 workers
(SANDBOX_WORKERS), driven by wrk; the in-memory TinyStore under the same gunicorn (one worker) for reference.

Each request is an `alipay.trade.precreate` of a new order, signed with the TEST-ONLY demo key before the clock
starts; wrk (bench/workers.lua) sends each body once over keep-alive connections. Rounds are interleaved (1 worker,
2 workers, memory, then again) so a neighbour's load falls on every configuration alike. This is a script, not a test:

    python bench/workers.py                       # PostgreSQL: a throwaway cluster of its own (fsync on)
    python bench/workers.py --postgres URL        # an existing, empty database
    python bench/workers.py --quick               # smoke run
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sandbox_process import ROOT, Server, cpu_seconds, servers
from store_backends import database_settings, own_database, signed_creates

SCRIPT = Path(__file__).resolve().parent / "workers.lua"
RESULT = re.compile(r"RESULT (.*)")
GOAL = 1.6  # 2 workers / 1, on a 2-core machine


@dataclass
class Config:
    name: str
    workers: int
    on_postgres: bool
    rates: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)  # seconds per request, gunicorn master and workers
    database_cpu: list[float] = field(default_factory=list)  # seconds per request, this database's backends
    shares: list[list[float]] = field(default_factory=list)  # each worker's part of the workers' CPU
    failed: int = 0
    server: Server | None = None


def workers_of(server: Server) -> list[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def database_backends(url: str) -> list[int]:
    """The server processes serving this database, when they run on this machine (else none: not measured)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows if Path(f"/proc/{pid}/stat").exists()]


def wait_for_workers(url: str, count: int, within: float = 30.0) -> None:
    """Until `count` processes have answered (each new connection goes to whichever worker accepts it)."""
    seen: set[str] = set()
    deadline = time.monotonic() + within
    host, port = url.removeprefix("http://").split(":")
    while len(seen) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(seen)} of {count} workers answered within {within:.0f} s")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/_sandbox/health")
        response = connection.getresponse()
        response.read()
        seen.add(response.getheader("X-Sandbox-Process", ""))
        connection.close()


def sign(prefix: str, count: int, pool: ProcessPoolExecutor) -> list[bytes]:
    """`count` signed precreates of new orders, signed on every core (before any timing)."""
    chunks = max(1, min(count // 200, 4 * (os.cpu_count() or 1)))
    sizes = [count // chunks + (1 if n < count % chunks else 0) for n in range(chunks)]
    prefixes = [f"{prefix}{n:02d}-" for n in range(chunks)]
    return [body for part in pool.map(signed_creates, prefixes, sizes) for body in part]


def run_wrk(url: str, bodies: list[bytes], args: argparse.Namespace, work: Path, seconds: int) -> dict[str, int]:
    """wrk for `seconds` (it runs them all, even once every thread has spent its bodies), and what it counted."""
    path = work / "bodies.txt"
    path.write_bytes(b"\n".join(bodies) + b"\n")
    argv = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "-s", str(SCRIPT)]
    done = subprocess.run(
        [*argv, f"{url}/", "--", str(path), str(args.threads)], capture_output=True, text=True, timeout=120
    )
    found = RESULT.search(done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return {key: int(value) for key, value in (item.split("=") for item in found.group(1).split())}


def round_of(config: Config, label: str, args, pool, work: Path, database: str | None) -> None:
    server = config.server
    expected = config.rates[-1] if config.rates else args.first_guess * config.workers
    count = int(expected * args.duration * 1.6) + 200
    for _attempt in range(3):
        bodies = sign(f"{label}{config.workers}{'P' if config.on_postgres else 'M'}", count, pool)
        gunicorn = [server.process.pid, *workers_of(server)]
        backends = database_backends(database) if database and config.on_postgres else []
        before = (
            cpu_seconds(gunicorn, True),
            cpu_seconds(backends, True),
            [cpu_seconds([pid], True) for pid in gunicorn[1:]],
        )
        result = run_wrk(server.url, bodies, args, work, args.duration)
        after = (
            cpu_seconds(gunicorn, True),
            cpu_seconds(backends, True),
            [cpu_seconds([pid], True) for pid in gunicorn[1:]],
        )
        if not result["exhausted"]:
            break
        count *= 2  # the bodies ran out before the time did: the round is void, run it again with more
    else:
        raise SystemExit(f"{config.name}: wrk kept running out of bodies")
    requests = max(result["requests"], 1)
    config.rates.append(result["requests"] / (result["duration_us"] / 1e6))
    config.failed += result["failed"] + result["socket_errors"]
    config.server_cpu.append((after[0] - before[0]) / requests)
    if backends:
        config.database_cpu.append((after[1] - before[1]) / requests)
    spent = [end - start for start, end in zip(before[2], after[2], strict=True)]
    config.shares.append([part / (sum(spent) or 1) for part in spent])


def spread(values: list[float], scale: float = 1.0, digits: int = 0) -> str:
    if not values:
        return "-"
    low, middle, high = min(values) * scale, statistics.median(values) * scale, max(values) * scale
    return f"{low:.{digits}f} / {middle:.{digits}f} / {high:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="an empty database to use (default: a cluster of its own)")
    parser.add_argument("--duration", type=int, default=6, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per configuration, interleaved")
    parser.add_argument("--connections", type=int, default=32, help="wrk's keep-alive connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads")
    parser.add_argument("--quick", action="store_true", help="a smoke run: one round of one second")
    args = parser.parse_args()
    args.first_guess = 400  # req/s per worker, to size the first round's bodies
    if args.quick:
        args.duration, args.rounds, args.connections, args.first_guess = 1, 1, 8, 150
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/test.sh does)")
    if "gunicorn" not in servers():
        raise SystemExit("gunicorn is not installed: pip install 'paysandbox[server]'")
    configs = [
        Config("postgresql, 1 worker", 1, True),
        Config("postgresql, 2 workers", 2, True),
        Config("memory (TinyStore), 1 worker", 1, False),
    ]
    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        database = args.postgres or stack.enter_context(own_database())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="paysandbox-workers-")))
        pool = stack.enter_context(ProcessPoolExecutor())
        for config in configs:
            env = {"SANDBOX_WORKERS": str(config.workers), "SANDBOX_CLOCK_MODE": "manual"}
            env |= {"SANDBOX_DATA": database} if config.on_postgres else {}
            config.server = Server(servers()["gunicorn"], {**env, "SANDBOX_FIXTURES": str(ROOT / "fixtures")})
            stack.callback(config.server.stop)
            wait_for_workers(config.server.url, config.workers)
            warm_up = sign(f"W{config.workers}{config.on_postgres:d}", args.first_guess * config.workers, pool)
            run_wrk(config.server.url, warm_up, args, work, 1)
        for number in range(args.rounds):
            for config in configs:
                round_of(config, f"R{number}", args, pool, work, database)
        settings = database_settings(database)
    print(
        f"signed alipay.trade.precreate through gunicorn (gthread, 8 threads a worker), wrk -t{args.threads} "
        f"-c{args.connections}, {args.rounds} interleaved rounds of {args.duration} s; {settings}"
    )
    print(
        f"{'configuration':30} {'req/s min / median / max':>26} {'server CPU ms/req':>18} {'database CPU ms/req':>20}"
    )
    for config in configs:
        print(
            f"{config.name:30} {spread(config.rates):>26} {spread(config.server_cpu, 1000, 2):>20} "
            f"{spread(config.database_cpu, 1000, 2):>20}"
        )
    one, two = (statistics.median(config.rates) for config in configs[:2])
    ratio = two / one
    shares = ", ".join(f"{min(s):.0%}" for s in configs[1].shares)
    print(f"2 workers / 1 worker on postgresql: {ratio:.2f} (goal {GOAL}); least busy worker's CPU share: {shares}")
    memory = statistics.median(configs[2].rates)
    print(
        f"postgresql with 1 worker runs at {one / memory:.0%} of the memory store's rate, with 2 at {two / memory:.0%}"
    )
    cores, load = os.cpu_count() or 1, max(load_before, os.getloadavg()[0])
    print(f"{cores} cores; load average {load:.1f} (wrk, gunicorn and PostgreSQL share them with whatever else runs)")
    failed = sum(config.failed for config in configs)
    print(f"answers not 10000 (or socket errors): {failed}")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
