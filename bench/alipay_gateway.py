"""Signed /gateway.do requests through the real servers on an empty store and on one holding 100,000 orders.

Writes two store files through the store itself (bench/history.py: mostly paid, some refunded, some pending with an
expiry ahead): a nearly empty one (`--base` orders, so a query has something to find) and one of `--orders`. Starts
`paysandbox serve` and the Dockerfile's gunicorn on each (retention off, so the history stays), and drives every
server from a separate wrk process (bench/workers.lua, `--connections` keep-alive connections) with pre-signed
`alipay.trade.query` of stored orders and `alipay.trade.precreate` of new ones, in interleaved rounds. It prints
min / median / max over the rounds of req/s, the serving process's CPU per request (/proc utime + stime), wrk's
p50 and p99 latency, and the serving process's RSS (and peak, VmHWM) beyond the empty store's, per stored order;
beside them one OpenSSL RSA-2048 sign plus verify, timed in this process. Goals, for each server: throughput with
the history at least 95% of the empty store's, p99 under 20 ms, under 1 KB of memory per stored order.

    python bench/alipay_gateway.py              # 100,000 orders, 5 rounds of 3 s (a few minutes on 2 cores)
    python bench/alipay_gateway.py --quick      # smoke run: 2,000 orders, one round of 1 s
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from history import write_history
from sandbox_process import FIXTURES, Server, alipay_client, cpu_seconds, servers

from sandbox.core import crypto
from sandbox.merchant.alipay import yuan

SCRIPT = Path(__file__).resolve().parent / "workers.lua"
RESULT = re.compile(r"RESULT (.*)")
KINDS = ("query", "precreate")
THROUGHPUT_GOAL, P99_GOAL_MS, BYTES_PER_ORDER_GOAL = 0.95, 20.0, 1024


@dataclass
class Target:
    server_name: str
    orders: int
    server: Server
    rates: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    cpu_ms: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    p50_ms: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    p99_ms: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    expected: dict[str, float] = field(default_factory=dict)  # req/s of its last round, to size the next's bodies
    failed: int = 0
    memory: tuple[int, int] = (0, 0)

    @property
    def label(self) -> str:
        return f"{self.server_name}, {self.orders:,} orders"


# -- signing (the merchant's cost: before any round is timed) ----------------------------------------------------


def signed(kind: str, names: list[str]) -> list[bytes]:
    """Form bodies of signed queries of these stored orders, or of precreates of new orders by these names."""
    merchant = alipay_client("http://unused")
    rng = random.Random(names[0] if names else 0)
    bodies = []
    for name in names:
        if kind == "query":
            params = merchant.signed_params("alipay.trade.query", {"out_trade_no": name})
        else:
            biz = {"out_trade_no": name, "total_amount": yuan(rng.randint(1, 500_000)), "subject": "bench"}
            params = merchant.signed_params("alipay.trade.precreate", biz)
        bodies.append(urlencode(params).encode())
    return bodies


def sign_all(kind: str, names: list[str], pool: ProcessPoolExecutor) -> list[bytes]:
    chunks = [names[n::8] for n in range(8)]
    return [body for part in pool.map(signed, [kind] * len(chunks), chunks) for body in part]


def crypto_floor(seconds: float) -> list[float]:
    """CPU milliseconds of one RSA-2048 SHA-256 sign plus one verify (sandbox.core.crypto, OpenSSL), per round."""
    private = crypto.load_private_key((FIXTURES / "sandbox" / "alipay_private_key.pem").read_text())
    public = crypto.load_public_key((FIXTURES / "sandbox" / "alipay_public_key.pem").read_text())
    data = ('{"code":"10000","msg":"Success","out_trade_no":"X","qr_code":"' + "q" * 200 + '"}').encode()
    figures = []
    for _ in range(5):
        done, began, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - began < seconds / 5:
            crypto.verify(public, data, crypto.sign(private, data, "SHA256"), "SHA256")
            done += 1
        figures.append(1000 * (time.process_time() - cpu) / done)
    return figures


# -- one round ---------------------------------------------------------------------------------------------------


def run_wrk(url: str, bodies: list[bytes], args: argparse.Namespace, work: Path) -> dict[str, int]:
    path = work / "bodies.txt"
    path.write_bytes(b"\n".join(bodies) + b"\n")
    argv = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(SCRIPT)]
    done = subprocess.run([*argv, f"{url}/", "--", str(path), "1"], capture_output=True, text=True, timeout=300)
    found = RESULT.search(done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return {key: int(value) for key, value in (item.split("=") for item in found.group(1).split())}


def one_round(target: Target, kind: str, label: str, args, pool, work: Path, record: bool = True) -> None:
    """wrk for --duration seconds; a round whose bodies ran out first is void and runs again with twice as many."""
    count = int(target.expected.get(kind, 400) * args.duration * 1.5) + 100
    rng = random.Random(label)
    pids = list(dict.fromkeys([target.server.process.pid, target.server.pid]))  # gunicorn's master and worker
    for attempt in range(4):
        if kind == "query":  # stored orders, picked at random (a query may be sent again: it changes nothing)
            names = [f"H{rng.randrange(target.orders):09d}" for _ in range(count)]
        else:
            names = [f"P{label}A{attempt}N{n:07d}" for n in range(count)]
        bodies = sign_all(kind, names, pool)
        before = cpu_seconds(pids)
        result = run_wrk(target.server.url, bodies, args, work)
        spent = cpu_seconds(pids) - before
        if not result["exhausted"]:
            break
        count *= 2
    else:
        raise SystemExit(f"{target.label}: wrk kept running out of bodies")
    target.failed += result["failed"] + result["socket_errors"]
    rate = result["requests"] / (result["duration_us"] / 1e6)
    target.expected[kind] = rate
    if record:
        target.rates[kind].append(rate)
        target.cpu_ms[kind].append(1000 * spent / max(result["requests"], 1))
        target.p50_ms[kind].append(result["p50_us"] / 1000)
        target.p99_ms[kind].append(result["p99_us"] / 1000)


# -- the report ---------------------------------------------------------------------------------------------------


def spread(values: list[float], digits: int = 0) -> str:
    if not values:
        return "-"
    return f"{min(values):.{digits}f} / {statistics.median(values):.{digits}f} / {max(values):.{digits}f}"


def report(targets: list[Target], floor: list[float], args: argparse.Namespace) -> bool:
    floor_ms = statistics.median(floor)
    print(
        f"one OpenSSL RSA-2048 sign + verify: {spread(floor, 3)} CPU ms (min / median / max of 5 rounds); "
        f"wrk -t1 -c{args.connections}, {args.rounds} interleaved rounds of {args.duration} s"
    )
    head = f"{'server, stored orders':<28}{'request':<11}{'req/s':>18}{'CPU ms/req':>20}{'x sign+verify':>15}"
    head += f"{'p50 ms':>20}{'p99 ms':>24}{'errors':>8}"
    print(head)
    for target in targets:
        for kind in KINDS:
            cpu = target.cpu_ms[kind]
            times = f"{statistics.median(cpu) / floor_ms:.1f}" if cpu else "-"
            print(
                f"{target.label:<28}{kind:<11}{spread(target.rates[kind]):>18}{spread(cpu, 2):>20}{times:>15}"
                f"{spread(target.p50_ms[kind], 1):>20}{spread(target.p99_ms[kind], 1):>24}{target.failed:>8}"
            )
    passed = all(target.failed == 0 for target in targets)
    if not passed:
        print("some answers were not code 10000 (or a socket failed): the figures do not measure the intended path")
    print("goals, for each server: with the history, req/s (median) >= 95% of the empty store's, p99 (median) < 20 ms,")
    print("and the serving process's RSS beyond the empty store's < 1 KB per stored order")
    for name in dict.fromkeys(target.server_name for target in targets):
        empty, full = (target for target in targets if target.server_name == name)
        extra = full.orders - empty.orders
        per_order = (full.memory[0] - empty.memory[0]) / extra
        peak = (full.memory[1] - empty.memory[1]) / extra
        ok = per_order < BYTES_PER_ORDER_GOAL
        print(
            f"  {name}: RSS {empty.memory[0] / 2**20:.1f} MiB empty, {full.memory[0] / 2**20:.1f} MiB with "
            f"{full.orders:,} orders: {per_order:,.0f} bytes per order (peak VmHWM: {peak:,.0f}) "
            f"{'ok' if ok else 'ABOVE GOAL'}"
        )
        passed = passed and ok
        for kind in KINDS:
            ratio = statistics.median(full.rates[kind]) / statistics.median(empty.rates[kind])
            cpu_ratio = statistics.median(empty.cpu_ms[kind]) / statistics.median(full.cpu_ms[kind])
            p99 = statistics.median(full.p99_ms[kind])
            ok_rate, ok_p99 = ratio >= THROUGHPUT_GOAL, p99 < P99_GOAL_MS
            print(
                f"  {name} {kind}: req/s {ratio:.1%} of empty {'ok' if ok_rate else 'BELOW GOAL'} "
                f"(by CPU per request {cpu_ratio:.1%}); p99 {p99:.1f} ms {'ok' if ok_p99 else 'ABOVE GOAL'}"
            )
            passed = passed and ok_rate and ok_p99
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1):
        print(f"note: the machine was busy (load average {load:.1f}): req/s and latency jitter, CPU per request less")
    return passed


# -- the run -----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="stored orders of the full store")
    parser.add_argument("--base", type=int, default=100, help="stored orders of the 'empty' store (to query)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each figure, interleaved")
    parser.add_argument("--duration", type=int, default=3, help="seconds per round")
    parser.add_argument("--connections", type=int, default=2, help="wrk's keep-alive connections (a light load)")
    parser.add_argument("--servers", default="serve,gunicorn", help="which servers: serve, gunicorn or both")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 orders, one round of 1 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.base, args.rounds, args.duration = 2000, 20, 1, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/test.sh does)")
    available = servers()
    names = [name for name in args.servers.split(",") if name in available]
    if not names:
        raise SystemExit(f"none of {args.servers} can run here (gunicorn: pip install 'paysandbox[server]')")
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="paysandbox-gateway-bench-") as folder, ProcessPoolExecutor(2) as pool:
        work = Path(folder)
        began = time.perf_counter()
        files = {(name, size): work / f"{name}-{size}.json" for name in names for size in (args.base, args.orders)}
        list(pool.map(write_history, files.values(), [size for _, size in files]))  # a store file each: one writer
        print(
            f"wrote {len(files)} store files ({args.base:,} and {args.orders:,} orders) in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        floor = crypto_floor(1.0)
        env = {"SANDBOX_RETENTION": "off", "SANDBOX_RETENTION_ORDERS": "0"}
        try:
            for (name, size), path in files.items():
                server = Server(available[name], {**env, "SANDBOX_DATA": str(path)})
                targets.append(Target(name, size, server))
            warmed = [] if args.quick else targets
            for target in warmed:  # untimed: the first requests, and the first figure sizes the rounds' bodies
                for kind in KINDS:
                    one_round(target, kind, f"W{targets.index(target)}", args, pool, work, record=False)
            for number in range(args.rounds):
                turn = targets[number % len(targets) :] + targets[: number % len(targets)]
                for kind in KINDS:
                    for target in turn:
                        one_round(target, kind, f"R{number}T{targets.index(target)}", args, pool, work)
                floor += crypto_floor(0.2)
            for target in targets:
                target.memory = target.server.memory()
        finally:
            for target in targets:
                target.server.stop()
    passed = report(targets, floor, args)
    failed = sum(target.failed for target in targets)
    print(f"answers that were not a success: {failed}")
    print("PASS" if passed else "FAIL")
    return 1 if failed or not (passed or args.quick) else 0


if __name__ == "__main__":
    sys.exit(main())
