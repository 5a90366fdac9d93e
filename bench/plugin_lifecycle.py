"""A full payment life cycle per test through the pytest plugin: create, pay, notification received, query, refund.

Writes a test file of N identical life-cycle tests and runs pytest on it in a fresh process per round (the plugin's
in-thread sandbox, as a user's suite runs it), --rounds times; each test's time is its setup, call and teardown as
pytest reports them (what a user's suite pays per test). The first test of each run also starts the sandbox: it is
reported apart. Prints min/median/max per test against the 25 ms target.

    python bench/plugin_lifecycle.py [--tests 50] [--rounds 3] [--sandbox-url URL]
    python bench/plugin_lifecycle.py --quick      # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 25.0

LIFE_CYCLE = """
import pytest


@pytest.mark.parametrize("n", range({count}))
def test_life_cycle(n, paysandbox, paysandbox_alipay, paysandbox_receiver):
    no = f"BENCH-{{n}}"
    paysandbox_alipay.precreate(no, 990, "Coffee", notify_url=paysandbox_receiver.url)
    paysandbox.pay("alipay", no)
    [notification] = paysandbox_receiver.wait_for(1)
    assert paysandbox_alipay.verify_notification(notification.form)["trade_status"] == "TRADE_SUCCESS"
    assert paysandbox_alipay.query(no)["trade_status"] == "TRADE_SUCCESS"
    assert paysandbox_alipay.refund(no, 990, "R1")["fund_change"] == "Y"
"""

# A conftest that writes each test's setup + call + teardown seconds, the CPU seconds the whole pytest process (the
# test, the in-thread sandbox and the receiver) spent on it, and whether all of it passed, to a JSON file.
TIMINGS = """
import json, os, time

per_test, cpu, failed = {}, {}, []


def pytest_runtest_logstart(nodeid, location):
    cpu[nodeid] = time.process_time()


def pytest_runtest_logfinish(nodeid, location):
    cpu[nodeid] = time.process_time() - cpu[nodeid]


def pytest_runtest_logreport(report):
    per_test[report.nodeid] = per_test.get(report.nodeid, 0.0) + report.duration
    if report.failed:
        failed.append(report.nodeid)


def pytest_sessionfinish(session):
    with open(os.environ["LIFE_CYCLE_TIMINGS"], "w") as out:
        json.dump({"seconds": list(per_test.values()), "cpu": [cpu[n] for n in per_test], "failed": failed}, out)
"""


def one_run(folder: Path, sandbox_url: str | None) -> tuple[list[float], list[float]]:
    """Each test's milliseconds in one pytest process, in order, and its CPU milliseconds; SystemExit unless every
    test passed."""
    timings = folder / "timings.json"
    extra = ["--sandbox-url", sandbox_url] if sandbox_url else []
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(folder), str(folder)]
    done = subprocess.run(
        [*argv, *extra], cwd=folder, env={**os.environ, "LIFE_CYCLE_TIMINGS": str(timings)}, capture_output=True
    )
    result = json.loads(timings.read_text()) if timings.exists() else {"seconds": [], "failed": ["(no report)"]}
    if done.returncode != 0 or result["failed"]:
        raise SystemExit(f"FAIL: the life-cycle tests did not pass:\n{done.stdout.decode()}{done.stderr.decode()}")
    return [seconds * 1000 for seconds in result["seconds"]], [seconds * 1000 for seconds in result["cpu"]]


def spread(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=50, help="life-cycle tests per run (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="pytest runs, each a fresh process (default 3)")
    parser.add_argument("--sandbox-url", help="drive a running sandbox instead of the in-thread one")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5 tests, 1 round")
    args = parser.parse_args()
    tests, rounds = (5, 1) if args.quick else (args.tests, args.rounds)
    firsts, others, medians, cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "test_life_cycle.py").write_text(LIFE_CYCLE.format(count=tests))
        (Path(folder) / "conftest.py").write_text(TIMINGS)
        for _ in range(rounds):
            durations, cpu_times = one_run(Path(folder), args.sandbox_url)
            firsts.append(durations[0])
            others.extend(durations[1:])
            medians.append(statistics.median(durations[1:]))
            cpu.extend(cpu_times[1:])
    where = args.sandbox_url or "the plugin's in-thread sandbox"
    print(f"{rounds} pytest runs of {tests} life-cycle tests (create, pay, notification, query, refund) on {where}")
    print(f"per test, ms (min / median / max): {spread(others)}")
    print(f"each run's median, ms:             {spread(medians)}")
    print(f"the first test of a run (sandbox start included), ms: {spread(firsts)}")
    # CPU time, which other processes on the machine barely move: what the wall time would be on a quiet machine.
    print(f"CPU of the pytest process per test (every thread), ms: {spread(cpu)}")
    verdict = "PASS" if statistics.median(others) < TARGET_MS else "FAIL"
    print(f"target: median under {TARGET_MS:.0f} ms per test: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
