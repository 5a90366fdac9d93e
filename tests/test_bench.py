"""The benchmarks run at a tiny size, so a change that breaks one fails here instead of rotting unseen.

Figures are not checked (speed is measured by running the scripts, never by a timed test): only that each script
runs against a real server and every answer it got was a success.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_alipay_v3_bench_reports_v3_beside_gateway_do():
    out = run("alipay_v3.py", "--quick")
    for kind in ("gateway.do query", "v3 query", "gateway.do precreate", "v3 precreate"):
        assert kind in out
    assert "v3 precreate runs at" in out and out.rstrip().endswith("PASS")


def test_fuzz_bench_sends_every_gateway_mutated_requests_and_finds_no_crash():
    out = run("fuzz.py", "--quick")
    for gateway in ("alipay ", "alipay_v3", "wechatpay_v3", "wechatpay_v2", "unionpay"):
        assert gateway in out
    assert out.rstrip().endswith("PASS")
