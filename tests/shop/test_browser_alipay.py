"""The demo shop with Alipay in real headless Chromium: buy, pay on the sandbox's cashier, see the shop's order page
turn paid when the notification arrives, refund part and then the rest."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def checkout(page: Page, shop_url: str, pay_with: str, sku: str = "coffee") -> None:
    page.goto(shop_url)
    page.locator(f"button[data-sku='{sku}']").click()
    expect(page).to_have_url(f"{shop_url}/cart")
    page.locator(f"input[value='{pay_with}']").check()
    page.locator("#place-order").click()


def order_no(page: Page) -> str:
    return re.search(r"/orders/(\w+)", page.url).group(1)


def refund_in_two_steps(page: Page) -> None:
    page.locator("#refund-amount").fill("10.00")
    page.locator("#refund-button").click()
    expect(page.locator("#order-status")).to_have_text("Partially refunded")
    expect(page.locator("#refunds")).to_contain_text("¥10.00")
    page.locator("#refund-button").click()  # the rest: the field is prefilled with what may still be refunded
    expect(page.locator("#order-status")).to_have_text("Refunded")


def test_buy_pay_on_the_desktop_cashier_see_it_paid_by_the_notification_and_refund(page, shop_live, shop, live):
    checkout(page, shop_live.url, "alipay:page")

    expect(page).to_have_url(re.compile(re.escape(f"{live.url}/cashier/alipay/")))
    expect(page.locator("main")).to_contain_text("39.90")
    page.get_by_test_id("pay").click()

    # Back at the shop: the return alone proves nothing, the notification turns the order paid.
    expect(page).to_have_url(re.compile(re.escape(f"{shop_live.url}/orders/")))
    expect(page.locator("#order-status")).to_have_text("Paid")
    expect(page.locator("#paid-by")).to_have_text("the gateway's notification")
    assert shop.book.get(order_no(page)).paid_by == "notification"
    [back] = [step for step in shop.journal.for_order(order_no(page)) if step["kind"] == "return"]
    assert back["verdict"] == "ok"  # Alipay's signed return verified (and proved nothing)

    refund_in_two_steps(page)

    page.locator("#how-link").click()
    steps = page.locator("#steps > li")
    expect(steps.first).to_contain_text("Signed the cashier request (alipay.trade.page.pay)")
    expect(page.locator("#steps")).to_contain_text("Notification TRADE_SUCCESS")
    expect(page.locator("#steps")).to_contain_text("credited: the order is paid")


def test_buy_on_a_phone_with_the_mobile_cashier(mobile_page, shop_live, live):
    checkout(mobile_page, shop_live.url, "alipay:wap", sku="tea")

    expect(mobile_page).to_have_url(re.compile(re.escape(f"{live.url}/cashier/alipay/")))
    mobile_page.get_by_test_id("pay").click()

    expect(mobile_page.locator("#order-status")).to_have_text("Paid")
    expect(mobile_page.locator("#amount")).to_have_text("¥68.00")


def test_buy_with_the_qr_code_scanned_on_another_screen(page, context, shop_live):
    checkout(page, shop_live.url, "alipay:qr", sku="mug")
    expect(page.locator(".qr svg")).to_be_visible()

    with context.expect_page() as phone:
        page.locator("#open-scan").click()
    phone.value.get_by_test_id("pay").click()
    expect(phone.value.get_by_test_id("outcome")).to_have_text("Payment successful")

    # The shop's QR page polls the shop, and moves on to the order page once the notification has credited it.
    expect(page.locator("#order-status")).to_have_text("Paid")


def test_a_declined_payment_closes_the_order_when_alipay_says_so(page, shop_live):
    checkout(page, shop_live.url, "alipay:page", sku="declined")  # 6.01: the buyer's balance is not enough
    page.get_by_test_id("pay").click()

    expect(page.locator("main")).to_contain_text("余额不足")
    page.goto(f"{shop_live.url}/orders")
    page.locator("table a").first.click()
    # The sandbox's cashier closes a declined trade and notifies TRADE_CLOSED, verified like any other.
    expect(page.locator("#order-status")).to_have_text("Closed")
    expect(page.locator("#close-reason")).to_have_text("closed at the gateway (TRADE_CLOSED)")
