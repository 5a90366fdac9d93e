"""The hosted Alipay pages in real headless Chromium: the desktop and mobile cashiers, the scan page, the error page.

Each test drives a browser the way a buyer would and checks what the merchant gets: the signed return to
return_url, the signed notification at notify_url and the order's state in the control API.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from alipay import AliPay
from playwright.sync_api import Page, expect

from sandbox.core.canonical import sorted_query
from tests.nodejs import NodeAlipay

pytestmark = pytest.mark.browser

SUBJECT = "测试商品 · Browser test"
NOTIFY_TIMEOUT = 10.0


# -- helpers ----------------------------------------------------------------------------------------


def cashier_url(live) -> re.Pattern:
    return re.compile(re.escape(f"{live.url}/cashier/alipay/") + r"\d+$")


def at(url: str) -> re.Pattern:
    """The URL itself, with or without a query."""
    return re.compile(re.escape(url) + r"(\?.*)?$")


def get_order(live, app_id: str, out_trade_no: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False  # the sandbox is on loopback: no proxy
    return session.get(f"{live.url}/_sandbox/orders/alipay/{app_id}/{out_trade_no}", timeout=10)


def order_state(live, app_id: str, out_trade_no: str) -> dict:
    reply = get_order(live, app_id, out_trade_no)
    reply.raise_for_status()
    return reply.json()


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def sdk_verifies(demo, message: dict[str, str]) -> bool:
    """python-alipay-sdk's own check, as a merchant using it would run it on a return or a notification."""
    sdk = AliPay(
        appid=demo.app_id,
        app_notify_url=None,
        app_private_key_string=demo.app_private_key,
        alipay_public_key_string=demo.alipay_public_key,
        sign_type="RSA2",
    )
    data = dict(message)
    signature = data.pop("sign")
    return sdk.verify(data, signature)


def expect_summary(page: Page, merchant: str, subject: str, amount: str, out_trade_no: str) -> None:
    expect(page.get_by_test_id("merchant")).to_have_text(merchant)
    expect(page.get_by_test_id("subject")).to_have_text(subject)
    expect(page.get_by_test_id("amount")).to_have_text(amount)
    expect(page.get_by_test_id("out-trade-no")).to_have_text(out_trade_no)


def expect_signed_return(
    page: Page, receiver, alipay_client, alipay_demo, method: str, out_trade_no: str, trade_no: str, amount: str
) -> None:
    """The browser is on return_url, whose query verifies with both clients and names the order."""
    page.wait_for_url(at(f"{receiver.url}/return"))
    expect(page.locator("body")).to_have_text("success")  # what the receiver answers
    params = query_of(page.url)
    fields = alipay_client.verify_return(params)
    assert fields["method"] == f"{method}.return"
    assert fields["out_trade_no"] == out_trade_no
    assert fields["trade_no"] == trade_no
    assert fields["total_amount"] == amount
    assert fields["app_id"] == alipay_demo.app_id
    assert sdk_verifies(alipay_demo, params)
    assert len(receiver.at("/return")) == 1


def expect_notification(receiver, alipay_client, alipay_demo, out_trade_no: str, trade_status: str) -> dict:
    (record,) = receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/notify")
    fields = alipay_client.verify_notification(record.form)
    assert sdk_verifies(alipay_demo, record.form)
    assert fields["out_trade_no"] == out_trade_no
    assert fields["trade_status"] == trade_status
    return fields


@pytest.fixture
def merchant_name(sandbox, alipay_demo) -> str:
    return sandbox.merchants.get("alipay", alipay_demo.app_id)["name"]


@pytest.fixture
def urls(receiver) -> dict[str, str]:
    return {"return_url": f"{receiver.url}/return", "notify_url": f"{receiver.url}/notify"}


# -- page.pay ---------------------------------------------------------------------------------------


def test_page_pay_shows_the_order_and_pay_returns_to_the_merchant_signed(
    page, live, receiver, alipay_client, alipay_demo, merchant_name, urls, tmp_path
):
    page.goto(alipay_client.page_pay_url("WEB-PAY-1", 12345, SUBJECT, **urls))

    expect(page).to_have_url(cashier_url(live))
    expect_summary(page, merchant_name, SUBJECT, "123.45", "WEB-PAY-1")
    expect(page.get_by_test_id("pay")).to_have_text("Pay ¥123.45")
    trade_no = page.get_by_test_id("trade-no").inner_text()
    page.screenshot(path=tmp_path / "cashier-desktop.png", full_page=True)

    page.get_by_test_id("pay").click()

    expect_signed_return(
        page, receiver, alipay_client, alipay_demo, "alipay.trade.page.pay", "WEB-PAY-1", trade_no, "123.45"
    )
    fields = expect_notification(receiver, alipay_client, alipay_demo, "WEB-PAY-1", "TRADE_SUCCESS")
    assert fields["trade_no"] == trade_no
    assert fields["total_amount"] == "123.45"
    assert order_state(live, alipay_demo.app_id, "WEB-PAY-1")["status"] == "paid"


def test_page_pay_form_posted_by_the_merchant_page_opens_the_cashier_and_pays(
    page, live, receiver, alipay_client, alipay_demo, merchant_name, urls
):
    # The merchant's checkout page is the client's auto-submitting form, served over HTTP by the receiver.
    receiver.reply(alipay_client.page_pay_form("WEB-FORM-1", 990, SUBJECT, **urls), path="/checkout")

    page.goto(f"{receiver.url}/checkout", wait_until="commit")

    page.wait_for_url(cashier_url(live))
    expect_summary(page, merchant_name, SUBJECT, "9.90", "WEB-FORM-1")
    trade_no = page.get_by_test_id("trade-no").inner_text()

    page.get_by_test_id("pay").click()

    expect_signed_return(
        page, receiver, alipay_client, alipay_demo, "alipay.trade.page.pay", "WEB-FORM-1", trade_no, "9.90"
    )
    expect_notification(receiver, alipay_client, alipay_demo, "WEB-FORM-1", "TRADE_SUCCESS")
    assert order_state(live, alipay_demo.app_id, "WEB-FORM-1")["status"] == "paid"


def test_failing_the_payment_shows_the_failure_closes_the_order_and_notifies_trade_closed(
    page, live, receiver, alipay_client, alipay_demo, urls
):
    page.goto(alipay_client.page_pay_url("WEB-FAIL-1", 500, SUBJECT, **urls))
    expect(page).to_have_url(cashier_url(live))

    page.get_by_test_id("reason").select_option("ACQ.BUYER_BALANCE_NOT_ENOUGH")
    page.get_by_test_id("fail").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment failed")
    expect(page.locator("main")).to_contain_text("Balance not enough")
    assert receiver.at("/return") == []  # a failed payment does not return to the merchant
    fields = expect_notification(receiver, alipay_client, alipay_demo, "WEB-FAIL-1", "TRADE_CLOSED")
    assert "gmt_payment" not in fields
    state = order_state(live, alipay_demo.app_id, "WEB-FAIL-1")
    assert state["status"] == "failed"
    assert state["failure"]["reason"] == "ACQ.BUYER_BALANCE_NOT_ENOUGH"


def test_leaving_the_cashier_says_so_and_the_order_stays_pending(
    page, live, receiver, alipay_client, alipay_demo, urls
):
    page.goto(alipay_client.page_pay_url("WEB-LEAVE-1", 100, SUBJECT, **urls))
    expect(page).to_have_url(cashier_url(live))

    page.get_by_test_id("leave").click()

    expect(page.get_by_test_id("outcome")).to_have_text("You left the cashier")
    expect(page.get_by_test_id("back")).to_have_attribute("href", f"{receiver.url}/")
    assert order_state(live, alipay_demo.app_id, "WEB-LEAVE-1")["status"] == "pending"
    assert receiver.received == []


def test_paying_a_trade_the_merchant_closed_meanwhile_shows_it_closed_and_does_not_return(
    page, live, receiver, alipay_client, alipay_demo, urls
):
    page.goto(alipay_client.page_pay_url("WEB-CLOSED-1", 100, SUBJECT, **urls))
    expect(page).to_have_url(cashier_url(live))
    alipay_client.close("WEB-CLOSED-1")  # the merchant gives up while the buyer still has the cashier open

    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_have_text("This order is closed")
    assert page.url.startswith(live.url)  # still at the cashier, not on return_url
    assert receiver.at("/return") == []
    assert order_state(live, alipay_demo.app_id, "WEB-CLOSED-1")["status"] == "closed"


def test_leaving_the_wap_cashier_goes_to_quit_url(mobile_page, live, receiver, alipay_client, alipay_demo, urls):
    page = mobile_page
    page.goto(alipay_client.page_pay_url("WAP-QUIT-1", 100, SUBJECT, wap=True, quit_url=f"{receiver.url}/quit", **urls))
    expect(page).to_have_url(cashier_url(live))

    page.get_by_test_id("leave").click()

    page.wait_for_url(f"{receiver.url}/quit")
    assert len(receiver.at("/quit")) == 1
    assert order_state(live, alipay_demo.app_id, "WAP-QUIT-1")["status"] == "pending"


# -- wap.pay ----------------------------------------------------------------------------------------


def test_wap_pay_shows_the_mobile_cashier_and_pays(
    mobile_page, live, receiver, alipay_client, alipay_demo, merchant_name, urls, tmp_path
):
    page = mobile_page
    page.goto(alipay_client.page_pay_url("WAP-PAY-1", 2500, SUBJECT, wap=True, **urls))

    expect(page).to_have_url(cashier_url(live))
    expect(page.locator("body")).to_have_class(re.compile(r"\bmobile\b"))
    expect_summary(page, merchant_name, SUBJECT, "25.00", "WAP-PAY-1")
    pay = page.get_by_test_id("pay")
    expect(pay).to_be_visible()
    # Laid out for the phone: nothing wider than the screen, the Pay button inside it.
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = pay.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    trade_no = page.get_by_test_id("trade-no").inner_text()
    page.screenshot(path=tmp_path / "cashier-wap.png", full_page=True)

    pay.tap()

    expect_signed_return(
        page, receiver, alipay_client, alipay_demo, "alipay.trade.wap.pay", "WAP-PAY-1", trade_no, "25.00"
    )
    expect_notification(receiver, alipay_client, alipay_demo, "WAP-PAY-1", "TRADE_SUCCESS")
    assert order_state(live, alipay_demo.app_id, "WAP-PAY-1")["status"] == "paid"


# -- the scan page (precreate) --------------------------------------------------------------------


def test_scan_page_shows_the_qr_code_and_paying_on_the_buyers_screen_pays(
    page, live, receiver, alipay_client, alipay_demo, merchant_name, tmp_path
):
    answer = alipay_client.precreate("SCAN-PAY-1", 888, SUBJECT, notify_url=f"{receiver.url}/notify")

    page.goto(answer["qr_code"])

    qr = page.get_by_test_id("qr").locator("svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150 and box["height"] >= 150  # big enough to scan
    expect(page.get_by_label("Buyer's phone")).to_be_visible()
    expect_summary(page, merchant_name, SUBJECT, "8.88", "SCAN-PAY-1")
    page.screenshot(path=tmp_path / "scan.png", full_page=True)

    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment successful")
    expect(page.locator("main")).to_contain_text(f"¥8.88 paid to {merchant_name}")
    expect_notification(receiver, alipay_client, alipay_demo, "SCAN-PAY-1", "TRADE_SUCCESS")
    assert order_state(live, alipay_demo.app_id, "SCAN-PAY-1")["status"] == "paid"


def test_a_trade_precreated_on_openapi_v3_is_paid_on_the_scan_page_and_queried_on_both_protocols(
    page, live, receiver, alipay_client, alipay_demo, alipay_node_script
):
    node = NodeAlipay(
        alipay_node_script,
        appId=alipay_demo.app_id,
        privateKey=alipay_demo.app_private_key,
        alipayPublicKey=alipay_demo.alipay_public_key,
        endpoint=live.url,
    )
    body = {"out_trade_no": "SCAN-V3-1", "total_amount": "6.60", "subject": SUBJECT, "notify_url": f"{receiver.url}/n"}
    answer = node.curl("POST", "/v3/alipay/trade/precreate", body)["data"]

    page.goto(answer["qr_code"])
    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment successful")
    query = {"out_trade_no": "SCAN-V3-1"}
    assert node.curl("POST", "/v3/alipay/trade/query", query)["data"]["trade_status"] == "TRADE_SUCCESS"
    assert alipay_client.execute("alipay.trade.query", query)["trade_status"] == "TRADE_SUCCESS"
    [notification] = receiver.wait_for(1, timeout=NOTIFY_TIMEOUT)
    assert node.check_notify_sign(dict(notification.form))


# -- errors -----------------------------------------------------------------------------------------


def test_page_pay_with_a_bad_signature_shows_the_error_page_with_the_signing_string(
    page, live, receiver, alipay_client, alipay_demo, urls, tmp_path
):
    url = alipay_client.page_pay_url("WEB-BADSIGN-1", 100, SUBJECT, **urls)
    params = query_of(url)
    biz = json.loads(params["biz_content"])
    biz["subject"] = "tampered subject"
    params["biz_content"] = json.dumps(biz, ensure_ascii=False, separators=(",", ":"))

    page.goto(f"{live.url}/gateway.do?{urlencode(params)}")

    expect(page.get_by_test_id("error-sub-code")).to_have_text("isv.invalid-signature")
    expect(page.get_by_test_id("error-code")).to_contain_text("40002")
    expect(page.get_by_test_id("error-sub-msg")).to_contain_text(sorted_query(params, exclude=("sign",)))
    expect(page.get_by_test_id("pay")).to_have_count(0)
    page.screenshot(path=tmp_path / "error.png", full_page=True)
    assert get_order(live, alipay_demo.app_id, "WEB-BADSIGN-1").status_code == 404  # no order was made


# -- scenarios on the cashier -------------------------------------------------------------------------


def test_a_magic_pending_amount_shows_processing_and_settles_on_the_clock(
    page, live, sandbox, receiver, alipay_client, alipay_demo, urls
):
    sandbox.clock.set_mode("manual")
    page.goto(alipay_client.page_pay_url("WEB-MAGIC-602", 602, SUBJECT, **urls))
    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment processing")
    order = order_state(live, alipay_demo.app_id, "WEB-MAGIC-602")
    assert order["status"] == "pending"
    page.goto(f"{live.url}/cashier/alipay/{order['trade_no']}")  # re-opened: no second chance to pay
    expect(page.get_by_test_id("outcome")).to_have_text("Payment processing")

    sandbox.advance(60)
    expect_notification(receiver, alipay_client, alipay_demo, "WEB-MAGIC-602", "TRADE_SUCCESS")
    page.reload()
    expect(page.get_by_test_id("outcome")).to_have_text("Payment successful")


def test_a_scenario_rule_declines_the_buyers_pay_click(page, live, sandbox, alipay_client, alipay_demo, urls):
    rule = {"match": {"out_trade_no": "WEB-RULE-*"}, "payment": {"outcome": "fail", "code": "ACQ.RISK_CONTROL_REJECT"}}
    sandbox.scenarios.add(rule)
    page.goto(alipay_client.page_pay_url("WEB-RULE-1", 990, SUBJECT, **urls))
    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment failed")
    order = order_state(live, alipay_demo.app_id, "WEB-RULE-1")
    assert (order["status"], order["failure"]["reason"]) == ("failed", "ACQ.RISK_CONTROL_REJECT")
