"""The hosted pages in real headless Chromium, paying orders of a namespace other than the default: a page finds its
order by trade_no or handle in any namespace, and pays it with that namespace's merchants, rules and clock."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from playwright.sync_api import Page, expect

from sandbox.testing.handle import SandboxHandle

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NAME = "pytest merchant"  # what the handle registers its merchants as
NOTIFY_TIMEOUT = 10.0


@pytest.fixture
def team(space, live) -> SandboxHandle:
    """team-a, with fresh merchants of its own registered by the plugin's handle."""
    space("team-a")
    return SandboxHandle(live.url, FIXTURES, namespace="team-a")


def test_the_alipay_cashier_pays_a_namespace_s_order_and_returns_and_notifies_signed(page: Page, team, receiver):
    client = team.alipay_client()
    urls = {"return_url": f"{receiver.url}/return", "notify_url": f"{receiver.url}/notify"}
    page.goto(client.page_pay_url("WEB-1", 12345, "Tea", **urls))
    expect(page.get_by_test_id("merchant")).to_have_text(NAME)  # team-a's merchant record

    page.get_by_test_id("pay").click()

    page.wait_for_url(re.compile(re.escape(f"{receiver.url}/return") + r"\?.*"))
    assert client.verify_return(dict(parse_qsl(urlsplit(page.url).query)))["out_trade_no"] == "WEB-1"
    [notification] = receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/notify")
    assert client.verify_notification(notification.form)["trade_status"] == "TRADE_SUCCESS"
    assert team.order("alipay", "WEB-1")["status"] == "paid"


def test_a_namespace_s_scenario_rule_decides_the_payment_on_its_hosted_page(page: Page, team, space, live, receiver):
    team.scenario(match={"gateway": "wechatpay"}, payment={"outcome": "fail", "code": "NOTENOUGH"})
    code_url = team.wechatpay_client(notify_url=receiver.url).native_prepay("WX-NS-1", 1234, "Tea")["code_url"]
    page.goto(f"{live.url}/cashier/wechatpay/native?code_url={quote(code_url, safe='')}")
    expect(page.get_by_test_id("merchant")).to_have_text(NAME)

    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_have_text("Payment failed")
    assert team.order("wechatpay", "WX-NS-1")["failure"]["reason"] == "NOTENOUGH"
    assert space().api("GET", "/scenarios") == {"scenarios": []}  # the rule was team-a's alone


def test_the_unionpay_card_form_pays_a_namespace_s_order_with_its_back_notification(page: Page, team, live, receiver):
    bank = team.unionpay_client()
    fields = bank.consume_params("NSPAGE0001", 990, f"{receiver.url}/front", f"{receiver.url}/back")
    receiver.reply(bank.front_form(fields), path="/checkout")
    page.goto(f"{receiver.url}/checkout")
    expect(page.get_by_test_id("merchant")).to_have_text(NAME)
    page.get_by_test_id("card-number").fill("6216261000000000018")
    page.get_by_test_id("send-code").click()
    page.get_by_test_id("sms-code").fill("111111")

    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("resp-code")).to_have_text("00")
    [back] = receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/back")
    assert bank.verify_notification(back.form)["merId"] == team.merchant_id("unionpay")
    assert bank.query("NSPAGE0001", fields["txnTime"])["origRespCode"] == "00"
