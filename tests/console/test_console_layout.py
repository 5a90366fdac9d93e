"""The console as a product: it fits a phone, and a keyboard alone can use it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.console.screens import save

pytestmark = pytest.mark.browser

PAGES = [
    "",
    "console/orders/new",
    "console/scenarios",
    "console/clock",
    "console/merchants",
    "console/doctor",
    "console/reports",
]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_fits_a_phone(mobile_page: Page, live, http, path):
    http.post(f"{live.url}/_sandbox/orders", json={"gateway": "alipay", "amount": 100, "subject": "手机上看"})
    mobile_page.goto(f"{live.url}/_sandbox/{path}")
    width = mobile_page.viewport_size["width"]
    assert mobile_page.evaluate("document.documentElement.scrollWidth") <= width  # wide tables scroll in their box
    if path == "":
        save(mobile_page, "console-orders-phone")


def test_a_keyboard_alone_creates_an_order(page: Page, live):
    page.goto(f"{live.url}/_sandbox/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_test_id("new-order").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="New order")).to_be_visible()
    page.get_by_test_id("field-gateway").focus()
    page.keyboard.press("Tab")  # the product
    page.keyboard.press("Tab")  # the amount
    expect(page.get_by_test_id("field-amount")).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("0.01")
    page.keyboard.press("Enter")  # submits the form
    expect(page.get_by_test_id("order-status")).to_have_text("pending")
