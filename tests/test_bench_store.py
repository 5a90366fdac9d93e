"""The store benchmark at a tiny size: real servers, and every answer a success (its figures are not checked)."""

from __future__ import annotations

from tests.test_bench import run


def test_alipay_gateway_bench_drives_real_servers_on_an_empty_and_a_full_store():
    out = run("alipay_gateway.py", "--quick")
    for target in ("serve, 20 orders", "serve, 2,000 orders", "gunicorn, 20 orders", "gunicorn, 2,000 orders"):
        assert target in out
    assert "bytes per order" in out and "p99" in out
    assert "answers that were not a success: 0" in out
