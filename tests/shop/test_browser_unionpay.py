"""The demo shop with UnionPay in real headless Chromium: place an order, let the shop's auto-submitting form take the
browser to the sandbox's bank cashier, pay by card, return to the shop, see the order turn paid when the back
notification arrives, refund part and then the rest (each refund finishes on its own notification)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DEBIT = "6216261000000000018"  # pays
DECLINED = "6216261000000000646"  # 64: insufficient balance


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    """Refunds settle when the test advances the sandbox clock, not after 5 real seconds."""
    sandbox.clock.set_mode("manual")


def checkout(page: Page, shop_url: str, live_url: str, sku: str = "coffee") -> None:
    """Add `sku`, pay with UnionPay: the shop's form posts itself to frontTransReq.do, which opens the cashier."""
    page.goto(shop_url)
    page.locator(f"button[data-sku='{sku}']").click()
    expect(page).to_have_url(f"{shop_url}/cart")
    page.locator("input[value='unionpay:card']").check()
    page.locator("#place-order").click()
    expect(page).to_have_url(re.compile(re.escape(f"{live_url}/cashier/unionpay/") + r"\d{21}$"))


def pay_by_card(page: Page, card: str) -> None:
    page.get_by_test_id("card-number").fill(card)
    page.get_by_test_id("send-code").click()
    page.get_by_test_id("sms-code").fill("111111")
    page.get_by_test_id("pay").click()


def order_no(page: Page) -> str:
    return re.search(r"/orders/(\w+)", page.url).group(1)


def test_pay_by_card_return_see_it_paid_by_the_notification_and_refund(page, shop_live, shop, live, sandbox):
    checkout(page, shop_live.url, live.url)
    expect(page.get_by_test_id("amount")).to_have_text("39.90")
    pay_by_card(page, DEBIT)
    expect(page.get_by_test_id("outcome")).to_contain_text("Payment successful")

    page.get_by_test_id("return").click()  # posts the signed front notification to the shop's frontUrl

    expect(page).to_have_url(re.compile(re.escape(f"{shop_live.url}/orders/") + r"\w+\?returned=1$"))
    expect(page.locator("#order-status")).to_have_text("Paid")  # the back notification did it, not the return
    expect(page.locator("#paid-by")).to_have_text("the gateway's notification")
    no = order_no(page)
    assert shop.book.get(no).paid_by == "notification"
    assert [s["verdict"] for s in shop.journal.for_order(no) if s["kind"] == "return"] == ["ok"]

    page.locator("#refund-amount").fill("10.00")
    page.locator("#refund-button").click()
    expect(page.locator("#refunds .refund-status")).to_have_text(["processing"])  # accepted, not yet refunded
    expect(page.locator("#order-status")).to_have_text("Paid")
    sandbox.advance(5)  # UnionPay finishes the refund and notifies; the page polls the shop and reloads
    expect(page.locator("#order-status")).to_have_text("Partially refunded")
    expect(page.locator("#refunds")).to_contain_text("¥10.00")

    page.locator("#refund-button").click()  # the rest: the field is prefilled with what may still be refunded
    expect(page.locator("#refunds .refund-status")).to_have_text(["succeeded", "processing"])
    sandbox.advance(5)
    expect(page.locator("#order-status")).to_have_text("Refunded")
    expect(page.locator("#refunded")).to_have_text("¥39.90")

    page.locator("#how-link").click()
    expect(page.locator("#steps > li").first).to_contain_text("frontTransReq.do")
    expect(page.locator("#steps")).to_contain_text("Notification consume 00")
    expect(page.locator("#steps")).to_contain_text("Notification refund 00")


def test_a_declined_card_leaves_the_order_unpaid(page, shop_live, shop, shop_settings, live):
    shop_settings.query_after = 0  # the order page asks UnionPay at once (a failed consume sends no notification)
    checkout(page, shop_live.url, live.url, sku="mug")
    no = page.get_by_test_id("order-id").inner_text()

    pay_by_card(page, DECLINED)

    expect(page.get_by_test_id("resp-code")).to_have_text("64")
    page.get_by_test_id("back").click()  # back to the shop's front page: no return to merchant after a failure
    page.goto(f"{shop_live.url}/orders/{no}")
    expect(page.locator("#order-status")).to_have_text("Closed")
    expect(page.locator("#close-reason")).to_contain_text("origRespCode 64")
    assert shop.book.get(no).paid_by == ""
