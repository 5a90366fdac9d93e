"""The demo shop with WeChat Pay in real headless Chromium: the buyer shops, pays on the sandbox's hosted WeChat
pages (the Native scan page, the H5 page, the JSAPI sheet laid over the shop's page by the jsbridge.js shim), and
watches the shop's order page turn paid, then refunded, as the notifications arrive."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SHEET = "iframe[title='WeChat Pay (paysandbox)']"
NOTIFIED = 15_000  # ms: the order page polls the shop every second and reloads once the notification changed it


@pytest.fixture(autouse=True)
def _manual_clock(sandbox):
    """Refunds settle (5 s at WeChat) only when the test advances the sandbox clock."""
    sandbox.clock.set_mode("manual")


def place_order(page: Page, shop_live, pay_with: str, sku: str = "coffee") -> None:
    """Add a product, choose how to pay in the cart, place the order."""
    page.goto(shop_live.url)
    page.locator(f"button[data-sku='{sku}']").click()
    page.wait_for_url(f"{shop_live.url}/cart")
    page.locator(f"input[name='pay_with'][value='{pay_with}']").check()
    page.locator("#place-order").click()


def shop_pay_page(page: Page, shop_live) -> str:
    """The order number of the shop's own pay page (QR code, JSAPI) the browser is now on."""
    page.wait_for_url(re.compile(rf"{re.escape(shop_live.url)}/orders/\w+/pay$"))
    return page.url.rsplit("/", 2)[-2]


def refund_from_the_order_page(page: Page, sandbox, amount: str, then: str) -> None:
    """Refund on the order page; WeChat answers PROCESSING, settles it 5 s later, and notifies the shop."""
    page.locator("#refund-amount").fill(amount)
    page.locator("#refund-button").click()
    expect(page.locator("#refunds .refund-status").last).to_have_text("processing")
    sandbox.advance(5)
    expect(page.locator("#order-status")).to_have_text(then, timeout=NOTIFIED)


def test_native_pay_on_the_scan_page_then_refund_in_two_parts(page, context, shop_live, shop, sandbox, tmp_path):
    place_order(page, shop_live, "wechatpay:native")
    no = shop_pay_page(page, shop_live)
    expect(page.locator(".qr svg")).to_be_visible()
    page.screenshot(path=tmp_path / "shop-wechat-qr.png", full_page=True)

    with context.expect_page() as opened:
        page.locator("#open-scan").click()
    phone = opened.value
    expect(phone.get_by_test_id("out-trade-no")).to_have_text(no)
    expect(phone.get_by_test_id("amount")).to_have_text("39.90")
    phone.get_by_test_id("pay").click()
    expect(phone.get_by_test_id("outcome")).to_have_text("Payment successful")
    phone.close()

    # The QR page polls the shop and moves to the order page once the notification credited it.
    expect(page.locator("#order-status")).to_have_text("Paid", timeout=NOTIFIED)
    assert shop.book.get(no).paid_by == "notification"
    expect(page.locator("#paid-by")).to_have_text("the gateway's notification")
    page.screenshot(path=tmp_path / "shop-wechat-paid.png", full_page=True)

    refund_from_the_order_page(page, sandbox, "10.00", "Partially refunded")
    expect(page.locator("#refunded")).to_have_text("¥10.00")
    expect(page.locator("#refund-amount")).to_have_value("29.90")

    refund_from_the_order_page(page, sandbox, "29.90", "Refunded")
    expect(page.locator("#refunded")).to_have_text("¥39.90")
    expect(page.locator("#refund-form")).to_have_count(0)
    order = shop.book.get(no)
    assert (order.status, [r.status for r in order.refunds]) == ("refunded", ["succeeded", "succeeded"])
    page.screenshot(path=tmp_path / "shop-wechat-refunded.png", full_page=True)


def test_jsapi_pays_in_the_sheet_over_the_shops_page(mobile_page, shop_live, shop, tmp_path):
    page = mobile_page
    place_order(page, shop_live, "wechatpay:jsapi")
    no = shop_pay_page(page, shop_live)
    expect(page.locator("#wechat-pay")).to_be_visible()

    page.locator("#wechat-pay").click()
    sheet = page.frame_locator(SHEET)
    expect(sheet.get_by_test_id("amount")).to_have_text("39.90")
    expect(sheet.get_by_test_id("out-trade-no")).to_have_text(no)
    page.screenshot(path=tmp_path / "shop-wechat-jsapi-sheet.png")
    sheet.get_by_test_id("pay").click()
    expect(sheet.get_by_test_id("outcome")).to_have_text("Payment successful")
    sheet.get_by_test_id("done").click()

    # get_brand_wcpay_request:ok only closes the sheet: the order page still waits for the notification.
    page.wait_for_url(re.compile(rf"/orders/{no}\?returned=1$"))
    expect(page.locator("#order-status")).to_have_text("Paid", timeout=NOTIFIED)
    assert shop.book.get(no).paid_by == "notification"


def test_h5_pays_on_the_h5_page_and_comes_back_to_the_order(mobile_page, shop_live, shop, live):
    page = mobile_page
    place_order(page, shop_live, "wechatpay:h5", sku="tea")
    page.wait_for_url(re.compile(re.escape(f"{live.url}/cashier/wechatpay/h5?")))
    no = page.get_by_test_id("out-trade-no").inner_text()
    expect(page.get_by_test_id("amount")).to_have_text("68.00")

    page.get_by_test_id("pay").tap()

    # WeChat sends the buyer to redirect_url (the shop's /return/wechatpay/<no>), which shows the order.
    page.wait_for_url(re.compile(rf"{re.escape(shop_live.url)}/orders/{no}\?returned=1$"))
    expect(page.locator("#order-status")).to_have_text("Paid", timeout=NOTIFIED)
    assert shop.book.get(no).paid_by == "notification"
    assert shop.book.get(no).returned_at
