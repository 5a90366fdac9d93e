"""Notifications a real sandbox server delivers per second, and how long from a pay to the merchant's verification.

For each server (the Dockerfile's gunicorn CMD, `paysandbox serve`), in interleaved rounds, a fresh sandbox process:
--count Alipay orders are created first, untimed (signed alipay.trade.precreate with notify_url = the receiver).
Then the timed window: a payer in its own process sends the control API's `POST /_sandbox/orders/alipay/{app_id}/
{out_trade_no}/pay` over --connections keep-alive connections, and the receiver (--receivers processes on one port,
bench/notify_receiver.py) verifies each notification's RSA2 signature and answers `success`. The window runs from the
first pay sent to the last notification verified; latency is each pay's send to its notification's verification (one
machine, one monotonic clock). Then --latency orders are paid one at a time, for the latency of a quiet sandbox.
Server CPU (utime+stime of the serving process over the window) is per delivery, the pay request included. The
receiver's ceiling alone (pre-signed notifications, a connection each, from a blaster process) is printed first.
Goals: at least 2,000 deliveries/s and a p50 pay-to-verified under 5 ms. A script, not a test:

    python bench/notifications.py [--count 3000] [--rounds 3] [--file-store] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from notify_load import Blaster, Load, pay_request
from notify_receiver import Receivers, process_cpu
from sandbox_process import Server, alipay_client, post, precreate_body, servers

GOAL_RATE, GOAL_P50 = 2000.0, 5.0  # deliveries/s; ms


def create_orders(server: Server, bodies: list[bytes]) -> None:
    """The untimed part: every order created through the signed gateway (bodies signed beforehand)."""

    def create(body: bytes) -> None:
        status, answer = post(server.url, "/gateway.do", body)
        if status != 200 or b'"code":"10000"' not in answer:
            raise SystemExit(f"precreate failed: {status} {answer[:300]!r}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, bodies))


def timed_window(server: Server, receivers: Receivers, numbers: list[str], connections: int) -> dict:
    """Pay `numbers` over `connections` and wait for each notification to be verified."""
    payer = Load(server.port, [pay_request(server.port, number) for number in numbers], numbers, connections)
    cpu_before = process_cpu(server.pid)
    sent = payer.run()
    verified = receivers.wait_for(set(numbers), timeout=60 + len(numbers) / 100)
    cpu = process_cpu(server.pid) - cpu_before
    missing = [n for n in numbers if n not in verified]
    if missing:
        raise SystemExit(f"{len(missing)} of {len(numbers)} notifications never verified, e.g. {missing[:3]}")
    latencies = sorted((verified[n] - sent[n]) * 1000 for n in numbers)
    window = max(verified.values()) - min(sent.values())
    return {
        "rate": len(numbers) / window,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "cpu_ms": cpu * 1000 / len(numbers),
    }


def one_round(kind: str, argv: list[str], env: dict, receivers: Receivers, bodies: list[bytes], args) -> dict:
    server = Server(argv, env)
    try:
        create_orders(server, bodies)
        load = [f"N-{n}" for n in range(args.count)]
        quiet = [f"N-{n}" for n in range(args.count, args.count + args.latency)]
        loaded = timed_window(server, receivers, load, args.connections)
        alone = timed_window(server, receivers, quiet, 1)
    finally:
        server.stop()
    print(
        f"  {kind:8} {loaded['rate']:7,.0f} deliveries/s   p50 {loaded['p50']:6.2f} ms  p99 {loaded['p99']:7.2f} ms"
        f"   server CPU {loaded['cpu_ms']:.3f} ms/delivery   one at a time: p50 {alone['p50']:.2f} ms"
        f" p99 {alone['p99']:.2f} ms",
        flush=True,
    )
    return {"rate": loaded["rate"], "p50": loaded["p50"], "p99": loaded["p99"], "cpu": loaded["cpu_ms"],
            "quiet p50": alone["p50"], "quiet p99": alone["p99"]}  # fmt: skip


def spread(values: list[float], fmt: str) -> str:
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="orders paid in the timed window (default 3000)")
    parser.add_argument("--latency", type=int, default=200, help="orders then paid one at a time (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per server (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="the payer's keep-alive connections (default 8)")
    parser.add_argument("--receivers", type=int, default=2, help="receiver processes on the port (default 2)")
    parser.add_argument("--file-store", action="store_true", help="SANDBOX_DATA in a temporary file (fsync'd)")
    parser.add_argument("--server", choices=["serve", "gunicorn"], action="append", help="only these (repeatable)")
    parser.add_argument("--quick", action="store_true", help="--count 40 --latency 5 --rounds 1 (tests run this)")
    args = parser.parse_args()
    if args.quick:
        args.count, args.latency, args.rounds, args.receivers = 40, 5, 1, 1
    chosen = {k: v for k, v in servers().items() if not args.server or k in args.server}
    receivers = Receivers(args.receivers)
    try:
        ceiling = Blaster(receivers, max(200, args.count // 2)).run()
        print(f"receiver alone ({args.receivers} process(es), a connection per notification): {ceiling:,.0f}/s")
        merchant = alipay_client("http://127.0.0.1")
        total = args.count + args.latency
        bodies = [precreate_body(merchant, f"N-{n}", receivers.url) for n in range(total)]
        print(f"{args.count} orders paid over {args.connections} connections, then {args.latency} one at a time;"
              f" rounds: {args.rounds}; store: {'file' if args.file_store else 'memory'}")  # fmt: skip
        results: dict[str, list[dict]] = {kind: [] for kind in chosen}
        with tempfile.TemporaryDirectory() as folder:
            for number in range(args.rounds):
                for kind, argv in chosen.items():
                    env = {"SANDBOX_NOTIFY_TIMEOUT": "10"}
                    if args.file_store:
                        env["SANDBOX_DATA"] = str(Path(folder, f"{kind}-{number}.json"))
                    results[kind].append(one_round(kind, argv, env, receivers, bodies, args))
        refused = receivers.refused()
    finally:
        receivers.stop()
    if refused:
        print(f"notifications that did not verify: {refused}")
        return 1
    print("min / median / max:")
    passed = True
    for kind, rounds in results.items():
        rate, p50 = statistics.median(r["rate"] for r in rounds), statistics.median(r["quiet p50"] for r in rounds)
        print(f"  {kind}: deliveries/s {spread([r['rate'] for r in rounds], ',.0f')};"
              f" p50 under load {spread([r['p50'] for r in rounds], '.2f')} ms;"
              f" p99 under load {spread([r['p99'] for r in rounds], '.2f')} ms;"
              f" p50 one at a time {spread([r['quiet p50'] for r in rounds], '.2f')} ms;"
              f" server CPU/delivery {spread([r['cpu'] for r in rounds], '.3f')} ms")  # fmt: skip
        ok = rate >= GOAL_RATE and p50 < GOAL_P50
        passed &= ok
        print(f"  {kind}: >= {GOAL_RATE:,.0f}/s and p50 < {GOAL_P50:g} ms: {'PASS' if ok else 'FAIL'}")
    print(f"all {sum(len(r) for r in results.values()) * (args.count + args.latency)} notifications verified")
    print("PASS" if passed else "FAIL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
