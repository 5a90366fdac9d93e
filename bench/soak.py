"""Server memory on a long soak: RSS of `paysandbox serve --data FILE` at 20 operations a second, default retention.

Starts `python -m sandbox serve` with SANDBOX_DATA in a temporary folder and nothing else set (so the default
retention applies). This process is the merchant: `--rate` operations a second, in a cycle of four per order: a
signed Alipay `trade.precreate` with a notify URL, the buyer's payment (control API), a signed `trade.query` and a
signed full `trade.refund`; each payment's notification goes to a receiver in this process, which acknowledges it.
The server's RSS (/proc/<pid>/status) is read every `--every` seconds. The goal: RSS at the end within 20 MiB of
RSS after the first minute (a fifth of the run when it is shorter). A script, not a test (tests/test_bench.py runs
it with --quick):

    python bench/soak.py [--minutes 10] [--rate 20] [--every 30] [--quick] [--trace DIR]

`--trace DIR` runs the server under tracemalloc and writes, at each reading, a snapshot (DIR/snapshot-NNN.tm, for
tracemalloc.Snapshot.load) and the count of live objects by type (DIR/objects-NNN.json), to find what grows:

    python bench/soak.py --minutes 5 --trace /tmp/soak && python bench/soak.py --diff /tmp/soak
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import requests
from crash import Receiver
from sandbox_process import APP_ID, MIB, Server, alipay_client, mib, servers

GOAL = 20 * MIB
# Run in the server process by --trace: `python -c TRACE DIR EVERY serve ...`. Tracing starts once the server has
# loaded (tracing its imports would slow its start past the wait for it), a snapshot at each reading after that.
TRACE = """
import collections, gc, json, runpy, sys, threading, time, tracemalloc
folder, every = sys.argv[1], float(sys.argv[2])
sys.argv = ["paysandbox", *sys.argv[3:]]

def record():
    time.sleep(5)
    tracemalloc.start(12)
    number = 0
    while True:
        time.sleep(every)
        number += 1
        tracemalloc.take_snapshot().dump(f"{folder}/snapshot-{number:03d}.tm")
        counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
        with open(f"{folder}/objects-{number:03d}.json", "w") as out:
            json.dump(dict(counts.most_common(40)), out)

threading.Thread(target=record, daemon=True).start()
runpy.run_module("sandbox", run_name="__main__", alter_sys=True)
"""
# Run in the server process by --trim: glibc's malloc_trim every few seconds, so RSS counts the memory in use and not
# what the allocator keeps free (the difference tells a leak from fragmentation).
TRIM = """
import ctypes, runpy, sys, threading, time
libc = ctypes.CDLL("libc.so.6")
sys.argv = ["paysandbox", *sys.argv[1:]]

def trim():
    while True:
        time.sleep(5)
        libc.malloc_trim(0)

threading.Thread(target=trim, daemon=True).start()
runpy.run_module("sandbox", run_name="__main__", alter_sys=True)
"""


def operations(url: str, notify_url: str):
    """The endless cycle of operations, each a callable that raises on anything but a success."""
    merchant = alipay_client(url)
    session = requests.Session()
    number = 0
    while True:
        number += 1
        name = f"S{number:09d}"
        yield lambda name=name: merchant.precreate(name, 100, "soak", notify_url=notify_url)
        yield lambda name=name: session.post(f"{url}/_sandbox/orders/alipay/{APP_ID}/{name}/pay", json={}, timeout=30)
        yield lambda name=name: merchant.query(name)
        yield lambda name=name: merchant.refund(name, 100, f"R{name}")


def check(answer) -> None:
    if isinstance(answer, requests.Response):
        answer.raise_for_status()
    elif answer.get("code") != "10000":
        raise SystemExit(f"the sandbox answered {answer}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the soak runs")
    parser.add_argument("--rate", type=float, default=20.0, help="operations per second")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between RSS readings")
    parser.add_argument("--quick", action="store_true", help="15 s, a reading every 3 s (the test suite's size)")
    parser.add_argument("--trace", metavar="DIR", help="run the server under tracemalloc, snapshots into DIR")
    parser.add_argument("--trim", action="store_true", help="the server calls malloc_trim every 5 s (glibc)")
    parser.add_argument("--diff", metavar="DIR", help="what grew in a --trace run")
    args = parser.parse_args()
    if args.diff:
        diff(Path(args.diff))
        return
    if args.quick:
        args.minutes, args.every = 0.25, 3.0
    seconds = args.minutes * 60
    baseline_at = min(60.0, seconds / 5)
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="paysandbox-soak-") as folder:
        argv = servers(with_gunicorn=False)["serve"]
        if args.trace:
            Path(args.trace).mkdir(parents=True, exist_ok=True)
            argv = [argv[0], "-c", TRACE, args.trace, str(args.every), "serve"]
        elif args.trim:
            argv = [argv[0], "-c", TRIM, "serve"]
        server = Server(argv, {"SANDBOX_DATA": str(Path(folder) / "state.json")})
        try:
            readings = soak(server, receiver.url, seconds, args.rate, args.every)
            baseline = next(rss for at, rss in readings if at >= baseline_at)
        finally:
            server.stop()
            receiver.close()
    growth = readings[-1][1] - baseline
    print(f"RSS after {baseline_at:.0f} s: {mib(baseline)}; at the end: {mib(readings[-1][1])}; growth {mib(growth)}")
    print(f"notifications acknowledged by the merchant: {sum(receiver.acked.values())}")
    passed = growth <= GOAL
    print(f"goal: growth within {mib(GOAL)}: {'PASS' if passed else 'FAIL'}")
    if not passed and not args.quick:  # a quick run checks that the script works, not the figure
        raise SystemExit(1)


def diff(folder: Path) -> None:
    """What grew between the second snapshot (the baseline's, with readings every 30 s of a run over a minute) and
    the last: the allocation sites, and the live objects by type."""
    import json
    import tracemalloc

    snapshots = sorted(folder.glob("snapshot-*.tm"))
    first, last = (tracemalloc.Snapshot.load(str(path)) for path in (snapshots[1], snapshots[-1]))
    print(f"{snapshots[1].name} -> {snapshots[-1].name}: allocation sites that grew most")
    for stat in last.compare_to(first, "traceback")[:12]:
        print(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks")
        for line in stat.traceback.format()[-8:]:
            print("      " + line)
    counts = [json.loads(path.read_text()) for path in sorted(folder.glob("objects-*.json"))[1 :: len(snapshots) - 2]]
    grew = sorted(((counts[-1].get(name, 0) - counts[0].get(name, 0), name) for name in counts[-1]), reverse=True)
    print("live objects that grew most:", ", ".join(f"{name} {change:+d}" for change, name in grew[:10]))


def soak(server: Server, notify_url: str, seconds: float, rate: float, every: float) -> list[tuple[float, int]]:
    """Run the operations at `rate` for `seconds`; answer (elapsed seconds, RSS) readings, printed as they come."""
    print(f"{'elapsed s':>10} {'operations':>11} {'RSS':>12}")
    readings: list[tuple[float, int]] = []
    started = time.monotonic()
    next_reading = 0.0
    for done, operation in enumerate(operations(server.url, notify_url)):
        elapsed = time.monotonic() - started
        if elapsed >= next_reading:
            rss = server.memory()[0]
            readings.append((elapsed, rss))
            print(f"{elapsed:>10.0f} {done:>11} {mib(rss):>12}", flush=True)
            next_reading += every
        if elapsed >= seconds:
            return readings
        time.sleep(max(0.0, started + done / rate - time.monotonic()))
        check(operation())
    return readings


if __name__ == "__main__":
    main()
