"""The whole sandbox on PostgreSQL, in one process: a buyer pays on the hosted cashier in real Chromium, the merchant
gets its signed notification, queries and refunds; a restart keeps the orders and the pending notifications."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.merchant.alipay import AlipayClient

APP = "2021000000000001"


@pytest.fixture
def config(postgres_url) -> Config:
    return Config(data_path=postgres_url)


@pytest.mark.browser
def test_a_payment_life_cycle_on_the_hosted_cashier_with_its_notification(page, live, sandbox, receiver, alipay_client):
    assert sandbox.store.path.startswith("postgresql://postgres@127.0.0.1:")
    urls = {"return_url": f"{receiver.url}/return", "notify_url": f"{receiver.url}/notify"}
    page.goto(alipay_client.page_pay_url("PG-APP-1", 2500, "PostgreSQL", **urls))
    expect(page.get_by_test_id("out-trade-no")).to_have_text("PG-APP-1")
    trade_no = page.get_by_test_id("trade-no").inner_text()

    page.get_by_test_id("pay").click()

    page.wait_for_url(f"{receiver.url}/return*")
    returned = alipay_client.verify_return(dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True)))
    assert returned["out_trade_no"] == "PG-APP-1"
    [notification] = receiver.wait_for(1, timeout=10, path="/notify")
    fields = alipay_client.verify_notification(notification.form)
    assert (fields["trade_no"], fields["trade_status"]) == (trade_no, "TRADE_SUCCESS")
    assert alipay_client.query("PG-APP-1")["trade_status"] == "TRADE_SUCCESS"
    assert alipay_client.refund("PG-APP-1", 2500, "PG-APP-1-R")["fund_change"] == "Y"
    stored = requests.get(f"{live.url}/_sandbox/orders/alipay/{APP}/PG-APP-1", timeout=10).json()
    assert stored["status"] == "refunded"
    assert stored["notifications"][0]["status"] == "delivered"


def test_a_restart_keeps_orders_and_pending_notifications(postgres_url, receiver, alipay_demo):
    receiver.reply("not yet")
    first = create_app(Config(data_path=postgres_url, clock_mode="manual"))
    client = first.test_client()
    merchant = AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://x/gateway.do")
    params = merchant.signed_params(
        "alipay.trade.create",
        {"out_trade_no": "PG-RS-1", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
        notify_url=receiver.url + "/notify",
    )
    assert client.post("/gateway.do", data=params).status_code == 200
    client.post(f"/_sandbox/orders/alipay/{APP}/PG-RS-1/pay", json={})
    client.post("/_sandbox/notifications/flush")
    first.extensions["paysandbox"].stop()

    receiver.reply("success")
    second = create_app(Config(data_path=postgres_url, clock_mode="manual"))
    client = second.test_client()
    order = client.get(f"/_sandbox/orders/alipay/{APP}/PG-RS-1").get_json()
    assert order["status"] == "paid"
    assert order["notifications"][0]["status"] == "pending"
    client.post("/_sandbox/clock/advance", json={"seconds": 240})
    [record] = client.get("/_sandbox/notifications").get_json()["notifications"]
    assert record["status"] == "delivered"
    assert [a["response_body"] for a in record["attempts"]] == ["not yet", "success"]
    second.extensions["paysandbox"].stop()
