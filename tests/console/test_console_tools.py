"""The console's signature doctor and integration report in real Chromium: a request the real SDK signed is valid,
one changed after signing is found out; the report of a merchant that answered a duplicate and refused a forged
notification says so, and a not-exercised line adds the scenario that exercises it."""

from __future__ import annotations

import pytest
from alipay import AliPay
from playwright.sync_api import Page, expect

from sandbox.core.canonical import sorted_query
from sandbox.merchant.alipay import AlipaySignatureError
from sandbox.testing.receiver import Reply
from tests.console.screens import save
from tests.glyphs import assert_cjk_renders

pytestmark = pytest.mark.browser

APP = "2021000000000001"


def sdk(alipay_demo) -> AliPay:
    return AliPay(
        appid=APP,
        app_notify_url=None,
        app_private_key_string=alipay_demo.app_private_key,
        alipay_public_key_string=alipay_demo.alipay_public_key,
    )


def test_the_doctor_finds_a_field_changed_after_signing(page: Page, live, alipay_demo, alipay_client):
    signed = sdk(alipay_demo).api_alipay_trade_page_pay(subject="Tea", out_trade_no="DOC-1", total_amount="1.00")
    page.goto(f"{live.url}/_sandbox/console/doctor")
    page.get_by_test_id("field-protocol").select_option("alipay")
    page.get_by_test_id("field-request").fill(f"{live.url}/gateway.do?{signed}")
    page.get_by_test_id("diagnose").click()
    expect(page.get_by_test_id("verdict")).to_have_text("valid")

    params = alipay_client.signed_params("alipay.trade.precreate", {"out_trade_no": "DOC-2", "total_amount": "9.90"})
    what_was_signed = sorted_query(params)
    params["biz_content"] = params["biz_content"].replace("9.90", "0.01")
    page.get_by_test_id("field-request").fill(sorted_query(params) + "&sign=" + params["sign"])
    page.get_by_test_id("field-string_to_sign").fill(what_was_signed)
    page.get_by_test_id("diagnose").click()
    expect(page.get_by_test_id("verdict")).to_have_text("invalid")
    expect(page.get_by_test_id("expected")).to_contain_text('"total_amount":"0.01"')
    expect(page.get_by_test_id("differences")).to_contain_text("biz_content")
    save(page, "console-doctor")


def test_the_doctor_names_the_field_of_bad_input(page: Page, live):
    page.goto(f"{live.url}/_sandbox/console/doctor")
    page.get_by_test_id("field-protocol").select_option("wechatpay_v3")
    page.get_by_test_id("field-request").fill('{"amount": 1}')
    page.get_by_test_id("diagnose").click()
    expect(page.locator("[data-testid^='error-']").first).to_be_visible()
    page.get_by_test_id("field-request").fill("")
    page.get_by_test_id("field-string_to_sign").fill("GET\n/v3/certificates\n1700000000\nnonce\n\n")
    page.get_by_test_id("field-signature").fill("c2lnbmF0dXJl")
    page.get_by_test_id("diagnose").click()
    expect(page.get_by_test_id("error-merchant_id")).to_be_visible()


def honest(alipay_client):
    """A merchant that verifies every notification and acknowledges exactly the genuine ones."""

    def answer(received) -> Reply:
        try:
            alipay_client.verify_notification(received.form)
        except AlipaySignatureError:
            return Reply(200, "fail")
        return Reply(200, "success")

    return answer


def test_the_report_of_a_merchant_that_handled_a_duplicate_and_a_forged_notification(
    page: Page, live, http, receiver, alipay_client
):
    receiver.reply(honest(alipay_client))
    rules = [
        {"match": {"out_trade_no": "REPORT-DUP"}, "notify": {"duplicate": 1}},
        {"match": {"out_trade_no": "REPORT-FORGED"}, "notify": {"signature": "invalid"}},
    ]
    for rule in rules:
        assert http.post(f"{live.url}/_sandbox/scenarios", json=rule).status_code == 201
    for number in ("REPORT-DUP", "REPORT-FORGED"):
        body = {
            "gateway": "alipay",
            "amount": 100,
            "out_trade_no": number,
            "subject": "对账测试",
            "notify_url": f"{receiver.url}/notify",
        }
        assert http.post(f"{live.url}/_sandbox/orders", json=body).status_code == 201
        assert http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/{number}/pay", json={}).status_code == 200
    assert http.post(f"{live.url}/_sandbox/notifications/flush").status_code == 200
    receiver.wait_for(3, path="/notify")

    page.goto(f"{live.url}/_sandbox/console/reports")
    page.locator("tr", has_text=APP).get_by_test_id("open-report").click()
    check = page.get_by_test_id("check")
    expect(check.and_(page.locator("[data-check='answers_duplicates']"))).to_have_attribute("data-status", "passed")
    forged = check.and_(page.locator("[data-check='refuses_invalid_signature']"))
    expect(forged).to_have_attribute("data-status", "passed")
    expect(forged).to_contain_text("REPORT-FORGED")
    tampered = check.and_(page.locator("[data-check='refuses_tampered_notifications']"))
    expect(tampered).to_have_attribute("data-status", "not_exercised")
    assert_cjk_renders(page)
    save(page, "console-report")

    tampered.get_by_role("button", name="Add the scenario").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Scenario")
    listed = http.get(f"{live.url}/_sandbox/scenarios").json()["scenarios"]
    assert any((rule.get("notify") or {}).get("tamper") for rule in listed)

    with page.expect_download() as download:
        page.get_by_test_id("report-json").click()
    assert download.value.suggested_filename == f"paysandbox-report-alipay-{APP}.json"
