"""Two `paysandbox serve` processes on one PostgreSQL database share its orders: what one creates the other queries,
pays and refunds, and their races are decided by the database (never a double refund, never an order twice).
Real processes, started at the same moment (so they also migrate the new database together)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.merchant.alipay import AlipayApiError, AlipayClient
from tests.test_cli import free_port, stop

APP, BUYER = "2021000000000001", "2088000000000009"


@pytest.fixture
def urls(postgres_url):
    """Two sandboxes on one new database (no --seed: their generated ids must not collide)."""
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--data", postgres_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "SANDBOX_LOG_LEVEL": "WARNING"},
        )
        for port in ports
    ]
    for process in processes:
        banner = process.stdout.readline()
        assert "serving on" in banner, banner + process.stdout.read()
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for process in processes:
        stop(process)


@pytest.fixture
def merchants(urls, alipay_demo) -> list[AlipayClient]:
    return [
        AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{url}/gateway.do", timeout=10)
        for url in urls
    ]


def order(url: str, out_trade_no: str) -> dict:
    return requests.get(f"{url}/_sandbox/orders/alipay/{APP}/{out_trade_no}", timeout=10).json()


def refund_or_code(merchant: AlipayClient, out_trade_no: str, request_no: str) -> str:
    try:
        return merchant.refund(out_trade_no, 1, request_no)["fund_change"]
    except AlipayApiError as error:
        return error.sub_code


def test_an_order_created_through_one_is_queried_paid_and_refunded_through_the_other(urls, merchants):
    first, second = merchants
    created = first.create("PG-2P-1", 100, "two processes", BUYER)
    assert second.query("PG-2P-1")["trade_no"] == created["trade_no"]
    assert requests.post(f"{urls[1]}/_sandbox/orders/alipay/{APP}/PG-2P-1/pay", json={}, timeout=10).ok
    assert first.query("PG-2P-1")["trade_status"] == "TRADE_SUCCESS"
    assert second.refund("PG-2P-1", 40, "R-1")["fund_change"] == "Y"
    assert first.refund("PG-2P-1", 60, "R-2")["refund_fee"] == "1.00"
    with pytest.raises(AlipayApiError) as refused:
        second.refund("PG-2P-1", 1, "R-3")
    assert refused.value.sub_code == "ACQ.REASON_TRADE_REFUND_FEE_ERR"
    assert order(urls[0], "PG-2P-1")["status"] == order(urls[1], "PG-2P-1")["status"] == "refunded"


def test_the_same_order_created_through_both_at_once_is_created_once(urls, merchants):
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: merchants[n % 2].create("PG-2P-2", 100, "x", BUYER), range(16)))
    assert {answer["code"] for answer in answers} == {"10000"}
    assert len({answer["trade_no"] for answer in answers}) == 1
    listed = requests.get(f"{urls[1]}/_sandbox/orders", params={"gateway": "alipay"}, timeout=10).json()["orders"]
    assert [o["out_trade_no"] for o in listed if o["out_trade_no"] == "PG-2P-2"] == ["PG-2P-2"]


def test_parallel_refunds_through_both_never_refund_more_than_was_paid(urls, merchants):
    merchants[0].create("PG-2P-3", 30, "x", BUYER)
    requests.post(f"{urls[0]}/_sandbox/orders/alipay/{APP}/PG-2P-3/pay", json={}, timeout=10)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: refund_or_code(merchants[n % 2], "PG-2P-3", f"R-{n}"), range(45)))
    assert results.count("Y") == 30
    assert results.count("ACQ.REASON_TRADE_REFUND_FEE_ERR") == 15
    assert order(urls[1], "PG-2P-3")["refunded_amount"] == 30
