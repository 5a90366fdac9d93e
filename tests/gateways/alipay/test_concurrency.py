"""Many merchant threads at once against the threaded server, on each store (TinyStore in memory, PostgreSQL): no lost
update, no double refund, no order both paid and closed."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.config import Config
from sandbox.merchant.alipay import AlipayApiError

APP = "2021000000000001"


@pytest.fixture
def config(store_data) -> Config:
    return Config(seed=1234, data_path=store_data)


def paid(live, alipay_client, out_trade_no: str, amount: int) -> None:
    alipay_client.create(out_trade_no, amount, "x", "2088000000000009")
    requests.post(f"{live.url}/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={}, timeout=5)


def refund_or_code(alipay_client, out_trade_no: str, request_no: str) -> str:
    try:
        return alipay_client.refund(out_trade_no, 1, request_no)["fund_change"]
    except AlipayApiError as error:
        return error.sub_code


def test_parallel_refunds_never_refund_more_than_was_paid(live, alipay_client):
    paid(live, alipay_client, "C-1", 30)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: refund_or_code(alipay_client, "C-1", f"C-1-r{n}"), range(45)))
    assert results.count("Y") == 30
    assert results.count("ACQ.REASON_TRADE_REFUND_FEE_ERR") == 15
    order = requests.get(f"{live.url}/_sandbox/orders/alipay/{APP}/C-1", timeout=5).json()
    assert order["refunded_amount"] == 30
    assert order["status"] == "refunded"


def test_the_same_refund_request_sent_in_parallel_moves_money_once(live, alipay_client):
    paid(live, alipay_client, "C-2", 100)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: refund_or_code(alipay_client, "C-2", "C-2-only"), range(16)))
    assert sorted(results) == ["N"] * 15 + ["Y"]
    assert requests.get(f"{live.url}/_sandbox/orders/alipay/{APP}/C-2", timeout=5).json()["refunded_amount"] == 1


def test_parallel_orders_get_distinct_trade_numbers(live, alipay_client):
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: alipay_client.create(f"C-3-{n}", 1, "x", "2088000000000009"), range(40)))
    assert len({a["trade_no"] for a in answers}) == 40


def pay_or_status(live, out_trade_no: str) -> str:
    reply = requests.post(f"{live.url}/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={}, timeout=10)
    return "paid" if reply.status_code == 200 else str(reply.status_code)


def close_or_code(alipay_client, out_trade_no: str) -> str:
    try:
        alipay_client.close(out_trade_no)
    except AlipayApiError as error:
        return error.sub_code
    return "closed"


def test_paying_and_closing_an_order_at_once_ends_it_one_way_only(live, alipay_client):
    orders = [f"C-4-{n}" for n in range(12)]
    for out_trade_no in orders:
        alipay_client.create(out_trade_no, 1, "x", "2088000000000009")
    with ThreadPoolExecutor(max_workers=8) as pool:
        paid = pool.map(lambda o: pay_or_status(live, o), orders)
        closed = pool.map(lambda o: close_or_code(alipay_client, o), orders)
        outcomes = list(zip(orders, paid, closed, strict=True))
    for out_trade_no, pay, close in outcomes:
        status = requests.get(f"{live.url}/_sandbox/orders/alipay/{APP}/{out_trade_no}", timeout=5).json()["status"]
        assert (pay == "paid") != (close == "closed"), (out_trade_no, pay, close)
        assert status == ("paid" if pay == "paid" else "closed")
