"""The demo shop shows times as the sandbox does, in Beijing time, though it keeps them in UTC: an order made at
02:30 UTC is shown as made at 10:30, beside the sandbox's pages that say 10:30 too."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from sandbox.merchant.shop.settings import ShopSettings
from tests.shop.shopping import buy

NOW = datetime(2026, 1, 15, 2, 30, 5, tzinfo=UTC)  # 10:30:05 in Beijing


@pytest.fixture
def shop_settings(live) -> ShopSettings:
    return ShopSettings(sandbox_url=live.url, query_after=300, query_interval=0, secret_key="test", now=lambda: NOW)


def test_the_sandbox_shows_beijing_time(live, http):
    assert http.get(f"{live.url}/_sandbox/clock").json()["now"].endswith("+08:00")


def test_the_orders_page_shows_when_each_order_was_made_in_beijing_time(shop_live, buyer):
    no = buy(buyer, shop_live.url, "alipay:page")
    page = buyer.get(f"{shop_live.url}/orders").text
    assert "<th>Created (Beijing time)</th>" in page
    row = next(line for line in page.splitlines() if no in line)
    assert "2026-01-15 10:30:05" in row and "02:30" not in row


def test_the_order_page_says_until_when_to_pay_in_beijing_time(shop_live, buyer):
    no = buy(buyer, shop_live.url, "alipay:page")
    page = buyer.get(f"{shop_live.url}/orders/{no}").text
    assert "Pay by 2026-01-15 10:45 (Beijing time)" in page  # 15 minutes to pay (SHOP_PAY_MINUTES)
    assert "(UTC)" not in page


def test_the_notification_log_shows_its_steps_in_beijing_time(shop_live, buyer):
    buy(buyer, shop_live.url, "alipay:page")
    buyer.post(f"{shop_live.url}/notify/alipay", data={"out_trade_no": "NOT-SIGNED"})  # a step, refused
    page = buyer.get(f"{shop_live.url}/log").text
    times = re.findall(r'<span title="Beijing time">([^<]+)</span>', page)
    assert times and set(times) == {"2026-01-15 10:30:05"}, page
