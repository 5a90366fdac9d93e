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


def test_request_body_bench_reports_flat_memory_and_native_refusals():
    out = run("request_body.py", "--quick")
    for target in ("gateway.do", "wechatpay v3", "control API"):
        assert target in out
    assert "isv.invalid-content-length" in out and "REQUEST_ENTITY_TOO_LARGE" in out
    assert out.rstrip().endswith("PASS")


def test_notify_fairness_bench_reports_the_fast_merchants_delay_beside_trickling_ones():
    out = run("notify_fairness.py", "--quick")
    assert "all 8 trickling merchants hold an attempt: yes" in out
    assert "timed out after 2 s" in out and out.rstrip().endswith("PASS")


def test_notify_reply_bench_reports_the_memory_a_huge_reply_costs():
    out = run("notify_reply.py", "--quick")
    assert "2000 characters kept" in out and "server peak RSS growth" in out


def test_fuzz_bench_sends_every_gateway_mutated_requests_and_finds_no_crash():
    out = run("fuzz.py", "--quick")
    for gateway in ("alipay ", "alipay_v3", "wechatpay_v3", "wechatpay_v2", "unionpay"):
        assert gateway in out
    assert out.rstrip().endswith("PASS")


def test_store_backends_bench_reports_postgresql_beside_the_file_store(postgres_url):
    out = run("store_backends.py", "--quick", "--postgres", postgres_url)
    for store in ("memory (TinyStore)", "file (TinyStore, flush running)", "postgresql (one process)"):
        assert store in out
    assert "of the file store's rate" in out and out.rstrip().endswith("PASS")


def test_workers_bench_reports_one_and_two_gunicorn_workers_on_postgresql(postgres_url):
    out = run("workers.py", "--quick", "--postgres", postgres_url)
    for configuration in ("postgresql, 1 worker", "postgresql, 2 workers", "memory (TinyStore), 1 worker"):
        assert configuration in out
    assert "2 workers / 1 worker on postgresql:" in out and out.rstrip().endswith("PASS")


def test_crash_bench_finds_every_acknowledged_create_after_a_kill_9(postgres_url):
    out = run("crash.py", "--quick", "--postgres", postgres_url)
    assert "-- file store" in out and "-- postgresql store" in out
    assert out.count("acknowledged creates missing after the restart: 0") == 2
    assert "notifications acknowledged, then sent again after the restart:" in out and out.rstrip().endswith("PASS")


def test_store_throughput_bench_reports_the_memory_and_file_stores():
    out = run("store_throughput.py", "--quick")
    assert "memory" in out and "file" in out and out.rstrip().endswith("PASS")


def test_soak_bench_reports_the_servers_memory_over_time():
    out = run("soak.py", "--quick")
    assert "RSS after" in out and "notifications acknowledged by the merchant:" in out


def test_history_bench_restarts_on_a_stored_history():
    out = run("history.py", "--quick")
    assert "2,000 stored orders" in out and "goal: restart with the stored orders under 1 s:" in out
