"""bench/signed_requests.py and bench/scenarios.py at a tiny size: real server processes, and every answer succeeds.

Figures are never checked here (the script prints them); only that it ran and that nothing failed.
"""

from __future__ import annotations

from tests.test_bench import run

KINDS = (
    "gateway.do precreate",
    "gateway.do query",
    "alipay v3 precreate",
    "alipay v3 query",
    "wechat v3 native",
    "wechat v3 query",
)


def test_signed_requests_bench_measures_every_kind_against_the_crypto_floor():
    out = run("signed_requests.py", "--quick")
    rows = [line for line in out.splitlines() if line.startswith(("gunicorn ", "serve "))]
    for kind in KINDS:
        assert any(kind in row for row in rows), out
    assert "floor: one RSA-2048 sign + verify" in out
    assert any(line.startswith("stack floor read, verify, sign") for line in out.splitlines()), out
    assert "not successes (or socket errors): 0" in out and out.rstrip().endswith("PASS: every answer succeeded")


def test_scenarios_bench_measures_standing_rules_on_a_real_server():
    out = run("scenarios.py", "--quick")
    assert "signed gateway.do query through" in out
    assert "not successes (or socket errors): 0" in out and out.rstrip().endswith("PASS: every answer succeeded")
