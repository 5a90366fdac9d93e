"""What scenario rules cost on the request path: signed alipay.trade.query per second with N standing rules.

Every gateway call asks the registry for an `api` rule before it runs, so the figure to watch is how the
rate falls as rules pile up. The rules here never match (they name other orders), which is the worst case:
each one is looked at on every call. Run: python bench/scenarios.py [--rules 0,10,100,1000] [--count 600]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.merchant.alipay import AlipayClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alipay"
APP = "2021000000000001"


def measure(rules: int, count: int) -> float:
    app = create_app(Config(seed=1, clock_mode="manual"))
    sandbox = app.extensions["paysandbox"]
    for n in range(rules):
        sandbox.scenarios.add({"match": {"out_trade_no": f"OTHER-{n}-*"}, "api": {"status": 503}})
    client = AlipayClient(
        APP,
        (FIXTURES / "demo/app_private_key.pem").read_text(),
        (FIXTURES / "sandbox/alipay_public_key.pem").read_text(),
        "http://localhost/gateway.do",
    )
    http = app.test_client()
    http.post(
        "/gateway.do",
        data=client.signed_params(
            "alipay.trade.create",
            {"out_trade_no": "BENCH-1", "total_amount": "1.00", "subject": "bench", "buyer_id": "2088000000000009"},
        ),
    )
    signed = [client.signed_params("alipay.trade.query", {"out_trade_no": "BENCH-1"}) for _ in range(count)]
    for params in signed[:20]:
        http.post("/gateway.do", data=params)
    started = time.perf_counter()
    for params in signed:
        assert b"TRADE_NOT_EXIST" not in http.post("/gateway.do", data=params).data
    rate = count / (time.perf_counter() - started)
    sandbox.stop()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", default="0,10,100,1000", help="standing, never-matching rules per figure")
    parser.add_argument("--count", type=int, default=600, help="timed queries per figure")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rules.split(",")]
    measure(0, args.count // 4)  # warm up imports and caches, so the first figure is not penalised
    base = None
    print(f"{'rules':>6} {'queries/s':>10} {'vs 0 rules':>11}")
    for size in sizes:
        rate = measure(size, args.count)
        base = base or rate
        print(f"{size:>6} {rate:>10.0f} {rate / base:>10.0%}")


if __name__ == "__main__":
    main()
