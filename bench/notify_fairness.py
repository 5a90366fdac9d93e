"""How long a fast merchant's notification waits while eight other merchants trickle their answers.

Starts the sandbox in its own process (`python -m sandbox serve`, SANDBOX_NOTIFY_TIMEOUT=--timeout). This process is
the merchants and the merchant app: eight notify URLs on eight loopback ports that answer `HTTP/1.1 200` and then
`success` one byte every --every seconds (each byte well within any per-read timeout), and one that answers at
once. It pays eight orders that notify the trickling URLs (signed gateway.do precreate, then the control API's pay),
waits until each trickling URL holds an attempt, then pays --rounds orders that notify the fast URL, one after
another, each timed from the pay call to the notification's arrival. Goal: every one under 1 s. Last, what the
trickling attempts recorded. A script, not a test (tests/test_bench.py runs it with --quick so it cannot rot):

    python bench/notify_fairness.py [--every 5] [--timeout 10] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import time

import requests
from sandbox_process import APP_ID, Server, alipay_client, servers

from tests.limits.merchants import Fast, RawMerchant, trickle

GOAL = 1.0
TRICKLING = 8


def pay(http: requests.Session, server: Server, out_trade_no: str, notify_url: str) -> None:
    alipay_client(server.url).precreate(out_trade_no, 100, "bench", notify_url=notify_url)
    paid = http.post(f"{server.url}/_sandbox/orders/alipay/{APP_ID}/{out_trade_no}/pay", json={}, timeout=10)
    paid.raise_for_status()


def fast_delays(http: requests.Session, server: Server, fast: Fast, rounds: int, patience: float) -> list[float]:
    delays = []
    for number in range(rounds):
        paid = time.monotonic()
        pay(http, server, f"FAST-{number}", f"{fast.url}/fast-{number}")
        arrived = fast.wait_for(f"/fast-{number}", patience)
        delays.append(patience if arrived is None else arrived - paid)
    return delays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=5.0, help="seconds between the trickled bytes (default 5)")
    parser.add_argument("--timeout", type=float, default=10.0, help="SANDBOX_NOTIFY_TIMEOUT (default 10)")
    parser.add_argument("--rounds", type=int, default=5, help="fast notifications timed (default 5)")
    parser.add_argument("--patience", type=float, default=60.0, help="seconds to wait for one (default 60)")
    parser.add_argument("--quick", action="store_true", help="--every 0.5 --timeout 2 --rounds 2 (tests run this)")
    args = parser.parse_args()
    if args.quick:
        args.every, args.timeout, args.rounds = 0.5, 2.0, 2
    http = requests.Session()
    http.trust_env = False
    server = Server(servers(with_gunicorn=False)["serve"], {"SANDBOX_NOTIFY_TIMEOUT": str(args.timeout)})
    slow = [RawMerchant(trickle(args.every)) for _ in range(TRICKLING)]
    fast = Fast()
    try:
        for number, merchant in enumerate(slow):
            pay(http, server, f"SLOW-{number}", f"{merchant.url}/notify")
        held = all(merchant.connected.acquire(timeout=10) for merchant in slow)
        print(f"{TRICKLING} merchants answer a byte every {args.every:g} s; SANDBOX_NOTIFY_TIMEOUT={args.timeout:g}")
        print(f"all {TRICKLING} trickling merchants hold an attempt: {'yes' if held else 'NO'}")
        delays = fast_delays(http, server, fast, args.rounds, args.patience)
        shown = ", ".join(f">{d:.0f}" if d >= args.patience else f"{d:.3f}" for d in delays)
        print(f"a fast merchant's notification, from the pay call to arrival (s): {shown}")
        print(f"worst: {max(delays):.3f} s (goal: under {GOAL:g} s)")
        http.post(f"{server.url}/_sandbox/notifications/flush", timeout=args.patience + args.timeout)
        records = http.get(f"{server.url}/_sandbox/notifications", timeout=10).json()["notifications"]
        errors = {a["error"] for r in records if r["out_trade_no"].startswith("SLOW") for a in r["attempts"]}
        print(f"the trickling attempts recorded: {sorted(errors)}")
    finally:
        for merchant in slow:
            merchant.stop()
        fast.shutdown()
        server.stop()
    ok = held and max(delays) < GOAL
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
