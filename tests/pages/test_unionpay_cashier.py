"""UnionPay's bank cashier in real headless Chromium: the merchant's auto-submitting consume form, the card form,
the back notification, the front notification posted by "return to merchant", failures and a pending card.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sandbox.merchant.unionpay import outcome

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "unionpay"
MER_ID = "777290058110097"
DESC = "测试商品 · Browser test"
NOTIFY_TIMEOUT = 10.0
DEBIT = "6216261000000000018"


def checkout(page: Page, bank, live, receiver, order_id: str, amount: int, **options) -> dict:
    """The shop's checkout page (the client's auto-submitting form, served by the receiver) opens the cashier."""
    fields = bank.consume_params(order_id, amount, f"{receiver.url}/front", f"{receiver.url}/back", **options)
    receiver.reply(bank.front_form(fields), path="/checkout")
    page.goto(f"{receiver.url}/checkout")
    expect(page).to_have_url(re.compile(re.escape(f"{live.url}/cashier/unionpay/") + r"\d{21}$"))
    return fields


def fill_card(page: Page, number: str, sms: str = "111111") -> None:
    page.get_by_test_id("card-number").fill(number)
    page.get_by_test_id("send-code").click()
    expect(page.get_by_test_id("sms-hint")).to_contain_text("111111")
    page.get_by_test_id("sms-code").fill(sms)


def test_a_debit_card_pays_notifies_and_returns_to_the_merchant_signed(page, bank, live, receiver, sandbox, tmp_path):
    fields = checkout(page, bank, live, receiver, "BROWSER0001", 12345, orderDesc=DESC, reqReserved="keep-me")
    expect(page.get_by_test_id("merchant")).not_to_be_empty()
    expect(page.get_by_test_id("subject")).to_have_text(DESC)
    expect(page.get_by_test_id("amount")).to_have_text("123.45")
    expect(page.get_by_test_id("order-id")).to_have_text("BROWSER0001")
    expect(page.get_by_test_id("credit-fields")).to_be_hidden()
    fill_card(page, DEBIT)
    page.screenshot(path=tmp_path / "unionpay-cashier.png", full_page=True)

    page.get_by_test_id("pay").click()

    expect(page.get_by_test_id("outcome")).to_contain_text("Payment successful")
    expect(page.get_by_test_id("resp-code")).to_have_text("00")
    page.screenshot(path=tmp_path / "unionpay-paid.png", full_page=True)
    (record,) = receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/back")
    back = bank.verify_notification(record.form)
    assert (back["respCode"], back["orderId"], back["txnAmt"], back["txnTime"]) == (
        "00",
        "BROWSER0001",
        "12345",
        fields["txnTime"],
    )
    assert back["accNo"] == "621626*********0018" and back["reqReserved"] == "keep-me"

    page.get_by_test_id("return").click()

    expect(page).to_have_url(f"{receiver.url}/front")
    (posted,) = receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/front")
    front = bank.verify_notification(posted.form)  # chain, CN and signature, as the back notification
    # The same fields; a browser posts line breaks as CRLF, so the front notification's PEM is signed with CRLF.
    assert front["signPubKeyCert"] == back["signPubKeyCert"].replace("\n", "\r\n")
    assert {k: v for k, v in front.items() if k not in ("signature", "signPubKeyCert")} == {
        k: v for k, v in back.items() if k not in ("signature", "signPubKeyCert")
    }
    assert bank.query("BROWSER0001", fields["txnTime"])["origRespCode"] == "00"


def test_a_credit_card_shows_expiry_and_cvn2_and_pays(page, bank, live, receiver, tmp_path):
    checkout(page, bank, live, receiver, "BROWSER0002", 100)
    page.get_by_test_id("card-number").fill("6221 5588 1234 0000")
    expect(page.get_by_test_id("credit-fields")).to_be_visible()
    page.get_by_test_id("expiry").fill("2311")
    page.get_by_test_id("cvn2").fill("123")
    fill_card(page, "6221558812340000")
    page.screenshot(path=tmp_path / "unionpay-credit.png", full_page=True)
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("resp-code")).to_have_text("00")
    back = bank.verify_notification(receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/back")[0].form)
    assert back["payCardType"] == "02"


def test_insufficient_balance_fails_with_64_and_sends_no_notification(page, bank, live, receiver, sandbox, tmp_path):
    fields = checkout(page, bank, live, receiver, "BROWSER0003", 500)
    fill_card(page, "6216261000000000646")
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("outcome")).to_contain_text("Payment failed")
    expect(page.get_by_test_id("resp-code")).to_have_text("64")
    expect(page.get_by_test_id("return")).to_have_count(0)
    page.screenshot(path=tmp_path / "unionpay-failed.png", full_page=True)
    found = bank.query("BROWSER0003", fields["txnTime"])
    assert (found["respCode"], found["origRespCode"]) == ("00", "64")
    assert sandbox.outbox.list("unionpay", MER_ID, "BROWSER0003") == []
    assert receiver.at("/back") == []


def test_a_wrong_sms_code_fails_with_71(page, bank, live, receiver, sandbox):
    fields = checkout(page, bank, live, receiver, "BROWSER0004", 500)
    fill_card(page, DEBIT, sms="000000")
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("resp-code")).to_have_text("71")
    assert sandbox.payments.find("unionpay", MER_ID, out_trade_no="BROWSER0004").status == "failed"
    assert bank.query("BROWSER0004", fields["txnTime"])["origRespCode"] == "71"
    assert sandbox.outbox.list("unionpay", MER_ID, "BROWSER0004") == []


@pytest.mark.parametrize(("card", "code"), [("6216261000000000059", "05"), ("6216261000000000034", "03")])
def test_a_pending_card_answers_its_code_then_settles_on_the_sandbox_clock(
    page, bank, live, receiver, sandbox, card, code
):
    fields = checkout(page, bank, live, receiver, "BROWSER0005", 700)
    fill_card(page, card)
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("resp-code")).to_have_text(code)
    found = bank.query("BROWSER0005", fields["txnTime"])
    assert found["origRespCode"] == code
    assert outcome(found["origRespCode"]) == "pending"
    sandbox.advance(30)
    back = bank.verify_notification(receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/back")[0].form)
    assert back["orderId"] == "BROWSER0005" and back["accNo"].endswith(card[-4:])
    page.reload()
    expect(page.get_by_test_id("resp-code")).to_have_text("00")
    expect(page.get_by_test_id("return")).to_be_visible()


def test_cancel_goes_back_to_the_shop_without_a_notification(page, bank, live, receiver, sandbox):
    checkout(page, bank, live, receiver, "BROWSER0006", 500)
    page.get_by_test_id("cancel").click()
    expect(page).to_have_url(f"{receiver.url}/")
    assert sandbox.payments.find("unionpay", MER_ID, out_trade_no="BROWSER0006").status == "pending"
    assert receiver.at("/front") == [] and receiver.at("/back") == []


def test_an_app_tn_opens_the_mobile_cashier_and_pays_with_the_mobile_sms_code(mobile_page, bank, live, receiver):
    answer = bank.app_consume("APPTN000001", 880, f"{receiver.url}/back")
    mobile_page.goto(f"{live.url}/cashier/unionpay/tn/{answer['tn']}")
    expect(mobile_page).to_have_url(re.compile(r"/cashier/unionpay/\d{21}$"))
    mobile_page.get_by_test_id("card-number").fill(DEBIT)
    mobile_page.get_by_test_id("send-code").tap()
    expect(mobile_page.get_by_test_id("sms-hint")).to_contain_text("123456")  # channelType 08: the app's code
    mobile_page.get_by_test_id("sms-code").fill("123456")
    mobile_page.get_by_test_id("pay").tap()
    notice = bank.verify_notification(receiver.wait_for(1, timeout=NOTIFY_TIMEOUT, path="/back")[0].form)
    assert (notice["orderId"], notice["respCode"], notice["txnAmt"]) == ("APPTN000001", "00", "880")


def test_an_unknown_tn_is_a_404(page, live):
    assert page.goto(f"{live.url}/cashier/unionpay/tn/nope").status == 404
