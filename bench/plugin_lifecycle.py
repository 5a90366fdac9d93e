"""A full payment life cycle per test through the pytest plugin: create, pay, notification received, query, refund.

Writes a test file of N identical life-cycle tests, runs pytest on it (in this process, the plugin's in-thread
sandbox), and prints how long each test took (setup, call and teardown: what a user's suite pays per test).
Target: under 100 ms per test. Run: python bench/plugin_lifecycle.py [--tests 50] [--sandbox-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

TARGET_MS = 100.0

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


class Timings:
    """Sums each test's setup, call and teardown durations as pytest reports them."""

    def __init__(self) -> None:
        self.per_test: dict[str, float] = {}
        self.failed = 0

    def pytest_runtest_logreport(self, report) -> None:
        self.per_test[report.nodeid] = self.per_test.get(report.nodeid, 0.0) + report.duration
        self.failed += report.failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=50, help="how many life-cycle tests (default 50)")
    parser.add_argument("--sandbox-url", help="drive a running sandbox instead of the in-thread one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test_life_cycle.py"
        path.write_text(LIFE_CYCLE.format(count=args.tests))
        timings = Timings()
        extra = ["--sandbox-url", args.sandbox_url] if args.sandbox_url else []
        started = time.perf_counter()
        code = pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", folder, str(path), *extra], plugins=[timings])
        wall = time.perf_counter() - started
    if code != 0 or timings.failed:
        print("FAIL: the life-cycle tests did not pass", file=sys.stderr)
        return 1
    first = next(iter(timings.per_test.values())) * 1000  # includes starting the sandbox
    durations = sorted(seconds * 1000 for seconds in timings.per_test.values())
    median = statistics.median(durations)
    print(f"\n{len(durations)} life-cycle tests (create, pay, notification, query, refund), {wall:.2f} s in all")
    print(
        f"per test: min {durations[0]:.1f} ms, median {median:.1f} ms, p90 {quantile(durations, 0.9):.1f} ms, "
        f"max {durations[-1]:.1f} ms; the first (sandbox start-up included) {first:.1f} ms"
    )
    verdict = "PASS" if median < TARGET_MS else "FAIL"
    print(f"{verdict}: median {median:.1f} ms per test (target under {TARGET_MS:.0f} ms)")
    return 0 if verdict == "PASS" else 1


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


if __name__ == "__main__":
    raise SystemExit(main())
