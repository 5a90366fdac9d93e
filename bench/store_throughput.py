"""The cost of durable writes: signed creates per second with the file store beside the in-memory one.

Starts `python -m sandbox serve` (one process; this process is the client) with the in-memory store, then with
SANDBOX_DATA in a temporary folder, and sends `--count` signed Alipay `trade.precreate` requests (each a new order,
signed before the clock starts) from 1 client and from `--clients` concurrent ones. Every answer must be code 10000.
With the file store every create is on disk (written and fsynced) before it is answered; concurrent requests share
one append and one fsync (group commit). A script, not a test (tests/test_bench.py runs it with --quick):

    python bench/store_throughput.py [--count 600] [--clients 8] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from crash import send_all
from sandbox_process import Server, alipay_client, precreate_body, servers

_numbers = itertools.count()


def rate(url: str, count: int, clients: int) -> tuple[float, int]:
    """(creates per second, answers that were not a success)."""
    merchant = alipay_client("http://unused")
    names = [f"T{next(_numbers):08d}" for _ in range(count)]
    bodies = [(name, "/gateway.do", precreate_body(merchant, name)) for name in names]
    answered: list[str] = []
    started = time.perf_counter()
    for thread in send_all(url, bodies, clients, answered):
        thread.join()
    return count / (time.perf_counter() - started), count - len(answered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=600, help="creates per figure")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for the second column")
    parser.add_argument("--quick", action="store_true", help="40 creates per figure (the test suite's size)")
    args = parser.parse_args()
    count = 40 if args.quick else args.count
    print(f"signed alipay.trade.precreate through `paysandbox serve`, {count} per figure, creates/s")
    print(f"{'store':<8} {'1 client':>10} {f'{args.clients} clients':>12}")
    errors = 0
    with tempfile.TemporaryDirectory(prefix="paysandbox-throughput-") as folder:
        for store, env in (("memory", {}), ("file", {"SANDBOX_DATA": str(Path(folder) / "state.json")})):
            server = Server(servers(with_gunicorn=False)["serve"], env)
            try:
                rate(server.url, 20, 2)  # warm-up
                one, failed_one = rate(server.url, count, 1)
                many, failed_many = rate(server.url, count, args.clients)
            finally:
                server.stop()
            errors += failed_one + failed_many
            print(f"{store:<8} {one:>10.0f} {many:>12.0f}")
    print(f"answers that were not a success: {errors}: {'PASS' if errors == 0 else 'FAIL'}")
    if errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
