"""The whole sandbox on PostgreSQL, in one process: a buyer pays on the hosted cashier in real Chromium, the merchant
gets its signed notification, queries and refunds; a restart keeps the orders and the pending notifications."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from sandbox.config import Config

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
