"""Server memory while a merchant answers a notification with a huge body: only a bounded part may be read.

Starts the sandbox in its own process (`python -m sandbox serve`). This process is the merchant and the merchant
app: a notify URL that answers `HTTP/1.1 200` declaring --size MiB and sends it as fast as it is taken, and a paid
order that notifies it (signed gateway.do precreate, the control API's pay, then flush, which waits for the
attempt). Reported: the server's peak resident memory above where it started (VmHWM after the peak is reset to
VmRSS, /proc/<pid>/status), how much of the reply the merchant got to send, and the attempt as recorded. Goal: peak
growth under 64 MiB. A script, not a test (tests/test_bench.py runs it with --quick so it cannot rot):

    python bench/notify_reply.py [--size 400] [--quick]
"""

from __future__ import annotations

import argparse
import time

import requests
from sandbox_process import APP_ID, MIB, Server, alipay_client, mib, servers

from tests.limits.merchants import RawMerchant, flood

GOAL = 64 * MIB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=400, help="MiB the merchant answers with (default 400)")
    parser.add_argument("--quick", action="store_true", help="32 MiB (what tests/test_bench.py runs)")
    args = parser.parse_args()
    total = (32 if args.quick else args.size) * MIB
    http = requests.Session()
    http.trust_env = False
    server = Server(servers(with_gunicorn=False)["serve"], {"SANDBOX_NOTIFY_TIMEOUT": "60"})
    merchant = RawMerchant(flood(total))
    try:
        alipay_client(server.url).precreate("HUGE-1", 100, "bench", notify_url=f"{merchant.url}/notify")
        rss, peak = server.memory()
        start = rss if server.reset_peak() else peak
        started = time.monotonic()
        http.post(f"{server.url}/_sandbox/orders/alipay/{APP_ID}/HUGE-1/pay", json={}, timeout=10).raise_for_status()
        http.post(f"{server.url}/_sandbox/notifications/flush", timeout=120).raise_for_status()
        took = time.monotonic() - started
        time.sleep(0.2)
        growth = server.memory()[1] - start
        [record] = http.get(f"{server.url}/_sandbox/notifications", timeout=10).json()["notifications"]
    finally:
        merchant.stop()
        server.stop()
    [attempt] = record["attempts"]
    print(f"a notify URL answering {mib(total)}")
    print(f"the merchant got to send {mib(merchant.sent)}; the attempt took {took:.2f} s")
    print(f"recorded: HTTP {attempt['http_status']}, {len(attempt['response_body'])} characters kept, ", end="")
    print(f"error {attempt['error']!r}")
    print(f"server peak RSS growth: {mib(growth)} (goal: under {mib(GOAL)})")
    ok = growth < GOAL and attempt["http_status"] == 200
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
