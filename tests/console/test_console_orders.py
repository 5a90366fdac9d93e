"""The console's orders in real Chromium: create an order from the form, pay it on the hosted page and watch the
console turn it paid by itself; its timeline; replay and edit-and-resend of a notification judged by the merchant's
real SDK; refunds and closes; the clock; bad input next to its field."""

from __future__ import annotations

import json
import re

import pytest
from alipay import AliPay
from playwright.sync_api import Page, expect

from tests.conftest import wechatpayv3_client
from tests.console.screens import save
from tests.glyphs import assert_cjk_renders

pytestmark = pytest.mark.browser

APP = "2021000000000001"


def at(live, path: str = "") -> str:
    """A console URL: the dashboard at /_sandbox/, the other pages under /_sandbox/console/."""
    return f"{live.url}/_sandbox/{path}"


def created(http, live, receiver, **body) -> dict:
    body = {"gateway": "alipay", "amount": 990, "notify_url": f"{receiver.url}/notify", **body}
    reply = http.post(f"{live.url}/_sandbox/orders", json=body, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


def order_page(live, order: dict) -> str:
    return at(live, f"console/orders/{order['gateway']}/{order['merchant_id']}/{order['out_trade_no']}")


def sdk(alipay_demo) -> AliPay:
    return AliPay(
        appid=alipay_demo.app_id,
        app_notify_url=None,
        app_private_key_string=alipay_demo.app_private_key,
        alipay_public_key_string=alipay_demo.alipay_public_key,
    )


def verifies(alipay_demo, form: dict) -> bool:
    fields = dict(form)
    signature = fields.pop("sign", "")
    return bool(signature) and sdk(alipay_demo).verify(fields, signature)


def test_an_order_created_from_the_form_is_paid_on_its_hosted_page_and_turns_paid_live(
    page: Page, context, live, receiver
):
    receiver.reply("success")
    page.goto(at(live))
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    watcher = context.new_page()  # the dashboard, left open: it must see the payment without a reload
    watcher.goto(at(live))
    page.get_by_test_id("new-order").click()
    page.get_by_test_id("field-gateway").select_option("alipay")
    page.get_by_test_id("field-method").select_option("page")
    page.get_by_test_id("field-amount").fill("12.34")
    page.get_by_test_id("field-out_trade_no").fill("CONSOLE-1")
    page.get_by_test_id("field-notify_url").fill(f"{receiver.url}/notify")
    save(page, "console-new-order")
    page.get_by_test_id("create-order").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Order created")
    expect(page.get_by_test_id("order-status")).to_have_text("pending")
    row = watcher.locator('[data-testid="order-row"][data-out-trade-no="CONSOLE-1"]')
    expect(row.get_by_test_id("status")).to_have_text("pending")  # appeared in the open list by itself

    with context.expect_page() as opened:
        page.get_by_test_id("pay-url").click()
    cashier = opened.value
    expect(cashier.get_by_test_id("amount")).to_contain_text("12.34")
    cashier.get_by_test_id("pay").click()

    expect(page.get_by_test_id("order-status")).to_have_text("paid")  # no reload: the page polls
    expect(row.get_by_test_id("status")).to_have_text("paid")
    receiver.wait_for(1, path="/notify")
    expect(page.locator('[data-testid="event"][data-kind="notification_attempt"]')).to_have_count(1)
    assert_cjk_renders(watcher)
    save(watcher, "console-orders")
    save(page, "console-order")


def test_a_precreated_order_shows_its_qr_code(page: Page, live, http, receiver):
    order = created(http, live, receiver, method="precreate", out_trade_no="CONSOLE-QR")
    page.goto(order_page(live, order))
    expect(page.get_by_test_id("qr").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("pay-url")).to_have_attribute("href", order["pay_url"])


def test_replay_and_edit_and_resend_reach_the_merchant_as_the_sdk_judges_them(
    page: Page, live, http, receiver, alipay_demo
):
    receiver.reply("success")
    order = created(http, live, receiver, out_trade_no="CONSOLE-RESEND")
    http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/CONSOLE-RESEND/pay", json={}, timeout=10)
    (first,) = receiver.wait_for(1, path="/notify")
    page.goto(order_page(live, order))
    attempts = page.locator('[data-testid="event"][data-kind="notification_attempt"]')
    expect(attempts).to_have_count(1)
    attempts.first.locator("summary").click()
    expect(attempts.first.get_by_test_id("attempt-request")).to_contain_text("trade_status=TRADE_SUCCESS")

    attempts.first.get_by_test_id("replay").click()
    expect(page.get_by_test_id("notice")).to_contain_text("sent again: HTTP 200")
    replayed = receiver.wait_for(2, path="/notify")[1]
    assert replayed.form == first.form

    page.locator('[data-kind="notification_attempt"]').first.get_by_test_id("resend").click()
    page.get_by_test_id("field-f.total_amount").fill("0.02")
    save(page, "console-resend")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("notice")).to_contain_text("changed total_amount")
    edited = receiver.wait_for(3, path="/notify")[2].form
    assert edited["total_amount"] == "0.02" and verifies(alipay_demo, edited)

    page.locator('[data-kind="notification_attempt"]').first.get_by_test_id("resend").click()
    page.get_by_test_id("field-signature").select_option("invalid")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("notice")).to_contain_text("invalid")
    forged = receiver.wait_for(4, path="/notify")[3].form
    assert not verifies(alipay_demo, forged)
    expect(page.locator('[data-kind="notification_attempt"]')).to_have_count(4)


def test_refund_and_close_as_the_merchant(page: Page, live, http, receiver):
    paid = created(http, live, receiver, out_trade_no="CONSOLE-REFUND", amount=1000)
    http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/CONSOLE-REFUND/pay", json={}, timeout=10)
    page.goto(order_page(live, paid))
    page.get_by_test_id("field-amount").fill("3.00")
    page.get_by_test_id("refund").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Refund")
    expect(page.locator('[data-testid="event"][data-kind="refund"]')).to_have_count(1)
    assert http.get(f"{live.url}/_sandbox/orders/alipay/{APP}/CONSOLE-REFUND").json()["refunded_amount"] == 300

    unpaid = created(http, live, receiver, out_trade_no="CONSOLE-CLOSE")
    assert http.get(unpaid["pay_url"], timeout=10).status_code == 200  # Alipay has the trade once its cashier opens
    page.goto(order_page(live, unpaid))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("close").click()
    expect(page.get_by_test_id("order-status")).to_have_text("closed")


def test_bad_input_gets_its_message_next_to_the_field(page: Page, live, http, receiver):
    page.goto(at(live, "console/orders/new"))
    page.get_by_test_id("field-amount").fill("12.345")
    page.get_by_test_id("create-order").click()
    expect(page.get_by_test_id("error-amount")).to_contain_text("at most two decimals")
    page.get_by_test_id("field-amount").fill("1")
    page.get_by_test_id("field-notify_url").fill("not a url")
    page.get_by_test_id("create-order").click()
    expect(page.get_by_test_id("error-notify_url")).to_be_visible()
    save(page, "console-new-order-errors")

    paid = created(http, live, receiver, out_trade_no="CONSOLE-BAD-REFUND", amount=100)
    http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/CONSOLE-BAD-REFUND/pay", json={}, timeout=10)
    page.goto(order_page(live, paid))
    page.get_by_test_id("field-amount").fill("5.00")  # more than was paid
    page.get_by_test_id("refund").click()
    expect(page.locator(".invalid, [data-testid='action-error']").first).to_be_visible()

    page.goto(at(live, "console/clock"))
    page.get_by_test_id("field-seconds").fill("soon")
    page.get_by_test_id("advance").click()
    expect(page.get_by_test_id("error-seconds")).to_contain_text("must be a number")
    page.get_by_test_id("field-mode").select_option("accelerated")
    page.get_by_test_id("field-factor").fill("-3")
    page.get_by_test_id("set-mode").click()
    expect(page.get_by_test_id("error-factor")).to_be_visible()


def test_the_clock_advances_by_a_preset_and_resets_to_real_time(page: Page, live):
    page.goto(at(live, "console/clock"))
    before = page.get_by_test_id("clock-now").inner_text()
    page.get_by_test_id("advance-900").click()
    expect(page.get_by_test_id("clock-done")).to_contain_text("Advanced 900 s")
    after = page.get_by_test_id("clock-now").inner_text()
    assert after > before
    save(page, "console-clock")
    page.get_by_test_id("clock-reset").click()
    expect(page.get_by_test_id("clock-done")).to_contain_text("real time")
    expect(page.get_by_test_id("clock-mode")).to_have_text(re.compile("^real"))
    assert page.get_by_test_id("clock-now").inner_text() < after


def test_a_wechat_pay_v3_notification_is_edited_as_json_and_resent_encrypted_and_signed_again(
    page: Page, live, http, receiver
):
    receiver.reply("", status=204)
    order = created(http, live, receiver, gateway="wechatpay", out_trade_no="CONSOLE-WX-RESEND", amount=500)
    http.post(f"{live.url}/_sandbox/orders/wechatpay/{order['merchant_id']}/CONSOLE-WX-RESEND/pay", json={})
    receiver.wait_for(1, path="/notify")
    page.goto(order_page(live, order))
    page.locator('[data-kind="notification_attempt"]').first.get_by_test_id("resend").click()
    resource = json.loads(page.get_by_test_id("field-resource").input_value())
    assert resource["amount"]["total"] == 500
    resource["amount"]["total"] = 1
    page.get_by_test_id("field-resource").fill(json.dumps(resource))
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("notice")).to_contain_text("changed amount.total")

    resent = receiver.wait_for(2, path="/notify")[1]
    wx = wechatpayv3_client(live.url, f"{receiver.url}/notify")
    verified = wx.callback(resent.headers, resent.body)  # decrypted and its signature checked by the real SDK
    assert verified is not None and verified["resource"]["amount"]["total"] == 1

    page.locator('[data-kind="notification_attempt"]').first.get_by_test_id("resend").click()
    page.get_by_test_id("field-resource").fill("{not json")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("error-resource")).to_contain_text("not JSON")
