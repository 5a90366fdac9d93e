"""Restart time and memory with a long paid history: `paysandbox serve --data FILE` holding 100,000 orders.

Writes a store file of `--orders` Alipay orders through the store itself (as a server that ran for a long time
leaves it: 95% paid, 3% refunded, 2% still pending with an expiry ahead), then starts `python -m sandbox serve` on it
with retention off (so it keeps them all), and on no file for comparison, `--runs` times each, and reports the time
from spawning the process to its first 200 from /_sandbox/health, the server's RSS then, and the time of the first
signed precreate after it (the first write, which makes the stored orders' indexes from the index file). It also
checks that a stored order answers. The goal: a restart with 100,000 stored orders under 1 s. A script, not a test
(tests/test_bench.py runs it with --quick):

    python bench/history.py [--orders 100000] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sandbox_process import APP_ID, ROOT, alipay_client, free_port, get_json, mib, servers
from startup import healthy

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.core import merchants, outbox, payments, scenarios
from sandbox.core.clock import BEIJING
from sandbox.core.models import PAID, PENDING, REFUNDED, Order, Refund
from sandbox.core.store import open_store

GOAL_SECONDS = 1.0


def write_history(path: Path, count: int) -> None:
    """`count` orders in the store file at `path`, written whole (as a clean stop leaves it)."""
    store = open_store(str(path))
    for module in (merchants, outbox, payments, scenarios):  # so its index file holds what a server's does
        module.declare_indexes(store)
    now = datetime.now(BEIJING)
    for n in range(count):
        created = now - timedelta(seconds=10 * (count - n))
        status = PENDING if n % 50 == 0 else REFUNDED if n % 33 == 0 else PAID
        order = Order(
            gateway="alipay",
            merchant_id=APP_ID,
            out_trade_no=f"H{n:09d}",
            trade_no=f"2024{n:024d}",
            amount=100 + n % 5000,
            created_at=created,
            subject=f"history order {n}",
            product="precreate",
            status=status,
            notify_url="http://127.0.0.1:9/notify",
            expires_at=(now if status == PENDING else created) + timedelta(hours=2),
            paid_at=None if status == PENDING else created + timedelta(seconds=5),
            extra={"sign_type": "RSA2", "method": "alipay.trade.precreate", "visible": True},
        )
        if status == REFUNDED:
            refund_no = "R" + order.out_trade_no
            order.refunds = [Refund(refund_no, refund_no, order.amount, created, "success")]
        store.put("orders", order.key, order.to_doc())
    store.close()


def start(data: Path | None) -> tuple[float, int, subprocess.Popen, str]:
    """(seconds from spawn to the first 200 from /_sandbox/health, RSS then, the process, its URL)."""
    port = free_port()
    env = {**os.environ, "SANDBOX_LOG_LEVEL": "WARNING", **({"SANDBOX_DATA": str(data)} if data else {})}
    env.update(SANDBOX_RETENTION="off", SANDBOX_RETENTION_ORDERS="0")  # keep the whole history it measures
    argv = [*servers(with_gunicorn=False)["serve"], "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not healthy(port):
        if process.poll() is not None or time.perf_counter() - started > 120:
            raise SystemExit(f"{' '.join(argv)} did not become healthy (exit status {process.poll()})")
        time.sleep(0.001)
    took = time.perf_counter() - started
    status = dict(line.split(":", 1) for line in Path(f"/proc/{process.pid}/status").read_text().splitlines())
    return took, int(status["VmRSS"].split()[0]) * 1024, process, f"http://127.0.0.1:{port}"


def measure(name: str, data: Path | None, runs: int, check: str = "") -> float:
    """Start `runs` times; print the median and max start, the median RSS then, and the median time of the first
    signed precreate after it (the first write, which makes the stored orders' indexes)."""
    seconds, sizes, creates = [], [], []
    for run in range(runs):
        took, rss, process, url = start(data)
        try:
            if check:
                order = get_json(url, f"/_sandbox/orders/alipay/{APP_ID}/{check}")
                if order.get("status") != PAID:
                    raise SystemExit(f"stored order {check} answered {order}")
            began = time.perf_counter()
            answer = alipay_client(url).precreate(f"NEW{run}{time.time_ns()}", 100, "after a restart")
            creates.append(time.perf_counter() - began)
            if answer.get("code") != "10000":
                raise SystemExit(f"the first precreate answered {answer}")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        seconds.append(took)
        sizes.append(rss)
    median = statistics.median(seconds)
    size, create = mib(statistics.median(sizes)), statistics.median(creates)
    print(f"{name:<28} {median:>8.2f} {max(seconds):>8.2f} {size:>12} {create:>14.3f}")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="stored orders")
    parser.add_argument("--runs", type=int, default=3, help="starts of each kind (the median is reported)")
    parser.add_argument("--quick", action="store_true", help="2,000 orders, one start each (the test suite's size)")
    args = parser.parse_args()
    if args.quick:
        args.orders, args.runs = 2000, 1
    with tempfile.TemporaryDirectory(prefix="paysandbox-history-") as folder:
        data = Path(folder) / "state.json"
        began = time.perf_counter()
        write_history(data, args.orders)
        print(f"wrote {args.orders:,} orders in {time.perf_counter() - began:.1f} s: {mib(data.stat().st_size)} file")
        print(f"{'start of serve':<28} {'median s':>8} {'max s':>8} {'RSS':>12} {'first create s':>14}")
        measure("no data file", None, args.runs)
        restart = measure(f"{args.orders:,} stored orders", data, args.runs, check="H000000001")
    passed = restart < GOAL_SECONDS
    print(f"goal: restart with the stored orders under {GOAL_SECONDS:.0f} s: {'PASS' if passed else 'FAIL'}")
    if not passed and not args.quick:  # a quick run checks that the script works, not the figure
        raise SystemExit(1)


if __name__ == "__main__":
    main()
