"""What scenario rules cost on the request path: signed alipay.trade.query through a real server, with N standing rules.

Every gateway call asks the namespace's rules for an `api` fault before it runs, so the figure to watch is how the
rate falls as rules pile up. The rules here never match (they name other orders), the worst case: each is looked at
on every call. One server process per rule count (the Dockerfile's gunicorn CMD, or `paysandbox serve` without
gunicorn; clock manual), its rules added through the control API; this process signs the queries before the clock
starts and wrk replays them (bench/signed_requests.py's machinery). Rounds interleave the rule counts; figures are
min / median / max over the rounds: req/s and server CPU per request.

    python bench/scenarios.py [--rules 0,10,100,1000] [--count 1000] [--rounds 5]
    python bench/scenarios.py --quick     # smoke run: 0 and 10 rules, 40 queries, one round
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from sandbox_process import ROOT, Server, servers
from signed_kinds import Merchants, success_marker
from signed_requests import Figures, measure, spread

KIND = "gateway.do query"
VARIANTS = 50  # distinct signed queries per round, re-sent in turn


def add_rules(server: Server, count: int) -> None:
    """`count` standing rules that never match (other orders), added in one control API call."""
    if not count:
        return
    rules = [{"match": {"out_trade_no": f"OTHER-{n}-*"}, "api": {"status": 503}} for n in range(count)]
    body = json.dumps({"scenarios": rules}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    connection.request("POST", "/_sandbox/scenarios", body, {"Content-Type": "application/json"})
    reply = connection.getresponse()
    answer = reply.read()
    connection.close()
    if reply.status != 201:
        raise SystemExit(f"could not add {count} rules: {reply.status} {answer[:300]!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="0,10,100,1000", help="standing, never-matching rules per figure")
    parser.add_argument("--count", type=int, default=1000, help="queries per rule count per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=4, help="wrk's keep-alive connections")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 0 and 10 rules, 40 queries, one round")
    args = parser.parse_args()
    if args.quick:
        args.rules, args.count, args.rounds = "0,10", 40, 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (scripts/test.sh does)")
    sizes = [int(n) for n in args.rules.split(",")]
    available = servers()
    name = "gunicorn" if "gunicorn" in available else "serve"
    results = {size: Figures() for size in sizes}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="paysandbox-scenarios-")))
        running = {}
        for size in sizes:
            server = Server(
                available[name], {"SANDBOX_CLOCK_MODE": "manual", "SANDBOX_FIXTURES": str(ROOT / "fixtures")}
            )
            stack.callback(server.stop)
            add_rules(server, size)
            merchants = Merchants(server.url, f"S{size}-")
            measure(Figures(), server.url, [server.pid], merchants.prepare(KIND, 20), 20, "", args, work)  # warm-up
            running[size] = server, merchants
        for _ in range(args.rounds):
            for size, (server, merchants) in running.items():
                pids = sorted({server.process.pid, server.pid})
                batch = merchants.prepare(KIND, min(VARIANTS, args.count))
                measure(results[size], server.url, pids, batch, args.count, success_marker(KIND), args, work)
    print(
        f"signed {KIND} through {name}, {args.count} per rule count per round, {args.rounds} interleaved rounds,"
        f" wrk -t1 -c{args.connections}; min / median / max over the rounds"
    )
    print(f"{'rules':>6} {'req/s':>17} {'server CPU ms/req':>20} {'req/s vs 0 rules':>17}")
    base = statistics.median(results[sizes[0]].rates)
    for size, figures in results.items():
        ratio = statistics.median(figures.rates) / base
        print(f"{size:>6} {spread(figures.rates):>17} {spread(figures.cpu_ms, 2):>20} {ratio:>16.0%}")
    failed = sum(figures.failed for figures in results.values())
    print(f"answers: {sum(f.answers for f in results.values())}, not successes (or socket errors): {failed}")
    print("FAIL" if failed else "PASS: every answer succeeded")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
