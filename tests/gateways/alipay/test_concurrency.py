"""Many merchant threads at once against the threaded server: no lost update, no double refund."""

from concurrent.futures import ThreadPoolExecutor

import requests

from sandbox.merchant.alipay import AlipayApiError

APP = "2021000000000001"


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
