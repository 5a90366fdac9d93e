"""Notifications a real sandbox server delivers per second, and how long from a pay to the merchant's verification.

For each kind (Alipay: RSA2-signed form; WeChat Pay v3: SHA256withRSA headers over an AES-256-GCM resource) and each
server (the Dockerfile's gunicorn CMD, `paysandbox serve`), in interleaved rounds, a fresh sandbox process: --count
orders are created first, untimed (signed alipay.trade.precreate, or a signed v3 native prepay; notify_url = the
receiver).
Then the timed window: a payer in its own process sends the control API's `POST /_sandbox/orders/alipay/{app_id}/
{out_trade_no}/pay` over --connections keep-alive connections, and the receiver (--receivers processes on one port,
bench/notify_receiver.py) verifies each notification as the reference merchant client does and acknowledges
it. The window runs from the
first pay sent to the last notification verified; latency is each pay's send to its notification's verification (one
machine, one monotonic clock). Then --latency orders are paid one at a time, for the latency of a quiet sandbox.
Server CPU (utime+stime of the serving process over the window) is per delivery, the pay request included. The
receiver's ceiling alone (pre-signed notifications, a connection each, from a blaster process) is printed first,
then the delivery floor: notifications signed in this process and sent on one kept-alive connection to the receiver,
which verifies them; their CPU on both sides per delivery, with no pay and no store, bounds what any Python sandbox
delivers per second on this machine's cores.
Goals: at least 2,000 deliveries/s and a p50 pay-to-verified under 5 ms. A script, not a test:

    python bench/notifications.py [--count 3000] [--rounds 3] [--kind alipay|wechatpay] [--file-store] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from notify_load import Blaster, Load, delivery_floor, pay_request
from notify_receiver import Receivers, process_cpu, wechat_merchant
from sandbox_process import APP_ID, Server, alipay_client, post, precreate_body, servers

GOAL_RATE, GOAL_P50 = 2000.0, 5.0  # deliveries/s; ms
WECHAT_MCHID = "1900000109"
KINDS = {"alipay": ("A", APP_ID), "wechatpay": ("W", WECHAT_MCHID)}  # out_trade_no prefix, merchant id


def create_alipay(server: Server, bodies: list[bytes]) -> None:
    """The untimed part for Alipay: every order created through the signed gateway (bodies signed beforehand)."""

    def create(body: bytes) -> None:
        status, answer = post(server.url, "/gateway.do", body)
        if status != 200 or b'"code":"10000"' not in answer:
            raise SystemExit(f"precreate failed: {status} {answer[:300]!r}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, bodies))


def create_wechat(server: Server, numbers: list[str], notify_url: str) -> None:
    """The untimed part for WeChat Pay: a signed (and answer-verified) v3 native prepay per order."""
    clients = [wechat_merchant(server.url) for _ in range(4)]

    def create(part: int) -> None:
        for number in numbers[part::4]:
            clients[part].native_prepay(number, 100, "bench", notify_url=notify_url)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(4)))


def timed_window(server: Server, receivers: Receivers, kind: str, numbers: list[str], connections: int) -> dict:
    """Pay `numbers` over `connections` and wait for each notification to be verified."""
    merchant_id = KINDS[kind][1]
    requests = [pay_request(server.port, kind, merchant_id, number) for number in numbers]
    payer = Load(server.port, requests, numbers, connections)
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
        "cpu": cpu * 1000 / len(numbers),
    }


def one_round(kind: str, server_kind: str, argv: list[str], env: dict, receivers: Receivers, bodies, args) -> dict:
    prefix = KINDS[kind][0]
    numbers = [f"{prefix}-{n:06d}" for n in range(args.count + args.latency)]
    server = Server(argv, env)
    try:
        if kind == "alipay":
            create_alipay(server, bodies)
        else:
            create_wechat(server, numbers, f"{receivers.url}/wechatpay")
        loaded = timed_window(server, receivers, kind, numbers[: args.count], args.connections)
        alone = timed_window(server, receivers, kind, numbers[args.count :], 1)
    finally:
        server.stop()
    print(
        f"  {kind:9} {server_kind:8} {loaded['rate']:6,.0f} deliveries/s  p50 {loaded['p50']:6.2f} ms"
        f"  p99 {loaded['p99']:7.2f} ms  server CPU {loaded['cpu']:.3f} ms/delivery"
        f"  one at a time: p50 {alone['p50']:.2f} ms p99 {alone['p99']:.2f} ms",
        flush=True,
    )
    return {**loaded, "quiet p50": alone["p50"], "quiet p99": alone["p99"]}


def spread(rounds: list[dict], name: str, fmt: str) -> str:
    values = [r[name] for r in rounds]
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values), max(values)))


def report(results: dict[tuple[str, str], list[dict]]) -> bool:
    print("min / median / max over the rounds:")
    passed = True
    for (kind, server_kind), rounds in results.items():
        print(f"  {kind} {server_kind}: deliveries/s {spread(rounds, 'rate', ',.0f')};"
              f" p50 under load {spread(rounds, 'p50', '.2f')} ms; p99 under load {spread(rounds, 'p99', '.2f')} ms;"
              f" p50 one at a time {spread(rounds, 'quiet p50', '.2f')} ms;"
              f" server CPU/delivery {spread(rounds, 'cpu', '.3f')} ms")  # fmt: skip
        rate = statistics.median(r["rate"] for r in rounds)
        p50 = statistics.median(r["quiet p50"] for r in rounds)
        ok = rate >= GOAL_RATE and p50 < GOAL_P50
        passed &= ok
        verdict = f"{'PASS' if rate >= GOAL_RATE else 'FAIL'} {rate:,.0f}/s >= {GOAL_RATE:,.0f}/s; "
        verdict += f"{'PASS' if p50 < GOAL_P50 else 'FAIL'} p50 {p50:.2f} ms < {GOAL_P50:g} ms (one at a time)"
        print(f"  {kind} {server_kind}: {verdict}")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="orders paid in the timed window (default 3000)")
    parser.add_argument("--latency", type=int, default=200, help="orders then paid one at a time (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="the payer's keep-alive connections (default 8)")
    parser.add_argument("--receivers", type=int, default=2, help="receiver processes on the port (default 2)")
    parser.add_argument("--file-store", action="store_true", help="SANDBOX_DATA in a temporary file (fsync'd)")
    parser.add_argument("--server", choices=["serve", "gunicorn"], action="append", help="only these (repeatable)")
    parser.add_argument("--kind", choices=list(KINDS), action="append", help="only these (repeatable)")
    parser.add_argument("--quick", action="store_true", help="--count 40 --latency 5 --rounds 1 (tests run this)")
    args = parser.parse_args()
    if args.quick:
        args.count, args.latency, args.rounds, args.receivers = 40, 5, 1, 1
    chosen = {k: v for k, v in servers().items() if not args.server or k in args.server}
    kinds = args.kind or list(KINDS)
    receivers = Receivers(args.receivers)
    try:
        ceiling = Blaster(receivers, max(200, args.count // 2)).run()
        print(f"receiver alone ({args.receivers} process(es), Alipay, a connection per notification): {ceiling:,.0f}/s")
        floor = delivery_floor(receivers, max(200, args.count // 2))
        cores = os.cpu_count() or 1
        print(f"delivery floor (signed here, one kept-alive connection, verified by the receiver; no pay, no store):"
              f" {floor:.3f} ms CPU per delivery, at most {cores / floor * 1000:,.0f}/s on {cores} cores")  # fmt: skip
        total = args.count + args.latency
        merchant = alipay_client("http://127.0.0.1")
        bodies = [precreate_body(merchant, f"A-{n:06d}", f"{receivers.url}/alipay") for n in range(total)]
        print(f"{args.count} orders paid over {args.connections} connections, then {args.latency} one at a time;"
              f" rounds: {args.rounds}; store: {'file' if args.file_store else 'memory'}")  # fmt: skip
        results: dict[tuple[str, str], list[dict]] = {(k, s): [] for k in kinds for s in chosen}
        with tempfile.TemporaryDirectory() as folder:
            for number in range(args.rounds):
                for kind in kinds:
                    for server_kind, argv in chosen.items():
                        env = {"SANDBOX_NOTIFY_TIMEOUT": "10"}
                        if args.file_store:
                            env["SANDBOX_DATA"] = str(Path(folder, f"{kind}-{server_kind}-{number}.json"))
                        row = one_round(kind, server_kind, argv, env, receivers, bodies, args)
                        results[(kind, server_kind)].append(row)
        refused = receivers.refused()
    finally:
        receivers.stop()
    if refused:
        print(f"notifications that did not verify: {refused}")
        return 1
    passed = report(results)
    print(f"all {sum(len(r) for r in results.values()) * (args.count + args.latency)} notifications verified")
    print("PASS" if passed else "FAIL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
