"""Scenarios on WeChat Pay API v3, seen through wechatpayv3 (unmodified but its gateway) and the reference client.

API faults, forged and mistimed notifications, and payment-code outcomes, on the manual clock (no sleeping).
"""

from __future__ import annotations

import json
import time

import pytest
from flask import request
from wechatpayv3 import WeChatPay, WeChatPayType

from sandbox.gateways.wechatpay import faults
from sandbox.gateways.wechatpay.adapter import RETRY_SCHEDULE
from sandbox.gateways.wechatpay.v3.notify import OTHER_MCHID, STALE_SECONDS
from sandbox.merchant.wechatpay import WechatPayClient, WechatPaySignatureError
from tests.conftest import WECHAT, WECHAT_MERCHANT, WECHAT_PUBLIC_KEY_ID, wechatpayv3_client

MCHID = WECHAT_MERCHANT["merchant_id"]
PAYS = "134567890123456789"  # an ordinary payment code: pays at once
MAGIC_NOT_ENOUGH = "130000000000000020"  # a magic payment code: NOTENOUGH


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


@pytest.fixture
def wx(live, receiver) -> WeChatPay:
    return wechatpayv3_client(live.url, f"{receiver.url}/notify")


@pytest.fixture
def merchant(live, receiver) -> WechatPayClient:
    """The reference client in public-key mode: it also checks a notification's timestamp and mchid."""
    return WechatPayClient(
        MCHID,
        WECHAT_MERCHANT["appid"],
        WECHAT_MERCHANT["merchant_serial_no"],
        (WECHAT / "demo/merchant_private_key.pem").read_text(),
        WECHAT_MERCHANT["apiv3_key"],
        live.url,
        platform_public_key=(WECHAT / "sandbox/pub_key.pem").read_text(),
        public_key_id=WECHAT_PUBLIC_KEY_ID,
        notify_url=f"{receiver.url}/notify",
    )


@pytest.fixture
def pay(live, http):
    """The buyer pays through the control API, as after a real cashier visit."""

    def pay(out_trade_no: str) -> dict:
        reply = http.post(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}/pay", json={})
        assert reply.status_code == 200, reply.text
        return reply.json()

    return pay


def native(wx: WeChatPay, out_trade_no: str, total: int = 1000) -> tuple:
    return wx.pay(description="scenario", out_trade_no=out_trade_no, amount={"total": total})


def codepay(wx: WeChatPay, out_trade_no: str, auth_code: str = PAYS, total: int = 100) -> tuple:
    return wx.pay(
        description="付款码",
        out_trade_no=out_trade_no,
        amount={"total": total, "currency": "CNY"},
        payer={"auth_code": auth_code},
        pay_type=WeChatPayType.CODEPAY,
    )


def refund(wx: WeChatPay, out_trade_no: str, out_refund_no: str, amount: int = 400, total: int = 1000) -> tuple:
    return wx.refund(
        out_refund_no=out_refund_no,
        amount={"refund": amount, "total": total, "currency": "CNY"},
        out_trade_no=out_trade_no,
    )


def answered(answer: tuple, status: int) -> dict:
    code, text = answer
    assert code == status, text
    return json.loads(text) if text else {}


def trade_state(wx: WeChatPay, out_trade_no: str) -> str:
    return answered(wx.query(out_trade_no=out_trade_no), 200)["trade_state"]


# -- API faults ---------------------------------------------------------------------------------------


def test_wechatpayv3_sees_500_system_error_on_the_faulted_query_only(wx, rule, merchant):
    answered(native(wx, "SCN-F-1"), 200)
    rule(match={"gateway": "wechatpay", "operation": "query"}, times=1, api={"error": "SYSTEM_ERROR"})

    faulted = answered(wx.query(out_trade_no="SCN-F-1"), 500)
    assert faulted["code"] == "SYSTEM_ERROR" and "scenario" in faulted["message"]
    assert trade_state(wx, "SCN-F-1") == "NOTPAY"


def test_the_error_answer_is_signed_like_every_answer(live, rule, merchant):
    merchant.native_prepay("SCN-F-2", 100, "x")
    rule(times=1, api={"error": "SYSTEM_ERROR"})
    reply = merchant._send("GET", f"/v3/pay/transactions/out-trade-no/F-2?mchid={MCHID}")
    assert reply.status_code == 500
    merchant.verify(reply.headers, reply.text)  # raises unless signed over this exact body


@pytest.mark.parametrize("spelling", ["system_error", "SYSTEMERROR", "ACQ.SYSTEM_ERROR"])
def test_neutral_v2_and_other_gateways_codes_answer_the_v3_spelling(wx, rule, spelling):
    rule(match={"operation": "transactions.native"}, times=1, api={"error": spelling})
    assert answered(native(wx, "SCN-F-3"), 500)["code"] == "SYSTEM_ERROR"


def test_a_2xx_error_answer_passes_wechatpayv3s_signature_check(wx, rule):
    rule(match={"operation": "query"}, times=1, api={"error": "USERPAYING"})
    answered(native(wx, "SCN-F-4"), 200)
    assert answered(wx.query(out_trade_no="SCN-F-4"), 202)["code"] == "USERPAYING"  # verified: no exception


def test_a_refund_refused_for_the_merchants_balance_creates_no_refund(wx, rule, pay):
    answered(native(wx, "SCN-F-5"), 200)
    pay("SCN-F-5")
    rule(match={"operation": "refund"}, times=1, api={"error": "merchant_balance_not_enough"})
    assert answered(refund(wx, "SCN-F-5", "R-5"), 403)["code"] == "NOT_ENOUGH"
    assert answered(wx.query_refund("R-5"), 404)["code"] == "RESOURCE_NOT_EXISTS"


def test_a_refund_processed_before_its_error_answer_exists_all_the_same(wx, rule, pay):
    answered(native(wx, "SCN-F-6"), 200)
    pay("SCN-F-6")
    rule(match={"operation": "refunds.create"}, times=1, api={"error": "SYSTEM_ERROR", "processed": True})
    assert answered(refund(wx, "SCN-F-6", "R-6"), 500)["code"] == "SYSTEM_ERROR"
    assert answered(wx.query_refund("R-6"), 200)["amount"]["refund"] == 400


@pytest.mark.parametrize(("status", "exists"), [(504, True), (503, False)])
def test_a_504_comes_after_the_order_was_created_and_a_503_before(wx, rule, status, exists):
    rule(match={"operation": "create"}, times=1, api={"status": status})
    code, _ = native(wx, f"SCN-F-7-{status}")
    assert code == status
    query_status, text = wx.query(out_trade_no=f"SCN-F-7-{status}")
    assert query_status == (200 if exists else 404), text


@pytest.mark.parametrize("body", ["unsigned", "invalid_signature"])
def test_wechatpayv3_refuses_an_answer_with_no_or_a_bad_signature(wx, rule, body):
    answered(native(wx, "SCN-F-8"), 200)
    rule(match={"operation": "transactions.query"}, times=1, api={"body": body})
    with pytest.raises(Exception, match="failed to verify the signature"):
        wx.query(out_trade_no="SCN-F-8")


def test_a_query_by_transaction_id_matches_rules_by_its_out_trade_no(wx, rule, pay):
    answered(native(wx, "QA-SCN-9"), 200)
    transaction_id = pay("QA-SCN-9")["trade_no"]
    rule(match={"out_trade_no": "QA-*", "operation": "transactions.query_by_id"}, api={"error": "SYSTEM_ERROR"})
    assert answered(wx.query(transaction_id=transaction_id), 500)["code"] == "SYSTEM_ERROR"


def test_garbage_requests_still_get_the_scenario_answer(live, rule, http):
    rule(match={"gateway": "wechatpay"}, api={"error": "SYSTEM_ERROR"})
    for body, headers in [
        (b"\xff{not json", {"Authorization": 'WECHATPAY2-SHA256-RSA2048 mchid="1900000109'}),
        (b'{"amount": "lots", "mchid": ["x"]}', {"Authorization": "garbage"}),
        (b"[1, 2]", {}),
    ]:
        reply = http.post(f"{live.url}/v3/pay/transactions/native", data=body, headers=headers)
        assert (reply.status_code, reply.json()["code"]) == (500, "SYSTEM_ERROR")


# -- notifications ----------------------------------------------------------------------------------


def paid_notification(wx, pay, receiver, out_trade_no: str, total: int = 1000):
    answered(native(wx, out_trade_no, total), 200)
    pay(out_trade_no)
    return receiver.wait_for(1)[0]


@pytest.mark.parametrize("signature", ["invalid", "missing"])
def test_a_forged_signature_makes_wechatpayv3s_callback_answer_none(wx, rule, pay, receiver, signature):
    rule(times=1, notify={"signature": signature})
    received = paid_notification(wx, pay, receiver, "SCN-N-1")
    assert ("Wechatpay-Signature" in received.headers) == (signature == "invalid")
    assert wx.callback(received.headers, received.body) is None


def test_a_tampered_amount_is_in_the_resource_but_fails_the_signature(wx, rule, pay, receiver, merchant):
    rule(times=1, notify={"tamper": {"amount": 1}})
    received = paid_notification(wx, pay, receiver, "SCN-N-2")
    assert wx.callback(received.headers, received.body) is None
    resource = json.loads(merchant.decrypt_resource(json.loads(received.body)["resource"]))
    assert resource["amount"]["total"] == resource["amount"]["payer_total"] == 1


def test_a_tampered_wire_field_by_dotted_path(wx, rule, pay, receiver, merchant):
    rule(times=1, notify={"tamper": {"trade_state": "REFUND", "payer.openid": "o-someone-else"}})
    received = paid_notification(wx, pay, receiver, "SCN-N-3")
    resource = json.loads(merchant.decrypt_resource(json.loads(received.body)["resource"]))
    assert (resource["trade_state"], resource["payer"]["openid"]) == ("REFUND", "o-someone-else")
    with pytest.raises(WechatPaySignatureError, match="does not verify"):
        merchant.parse_notification(received.headers, received.body)


def test_a_stale_notification_verifies_but_is_ten_minutes_old(wx, rule, pay, receiver, merchant):
    rule(times=1, notify={"timestamp": "stale"})
    received = paid_notification(wx, pay, receiver, "SCN-N-4")
    assert wx.callback(received.headers, received.body)["resource"]["trade_state"] == "SUCCESS"  # no freshness check
    assert time.time() - int(received.headers["Wechatpay-Timestamp"]) >= STALE_SECONDS
    with pytest.raises(WechatPaySignatureError, match="away from this host's clock"):
        merchant.parse_notification(received.headers, received.body)


def test_a_notification_for_another_merchant_verifies_but_names_it(wx, rule, pay, receiver, merchant):
    rule(times=1, notify={"merchant": "wrong"})
    received = paid_notification(wx, pay, receiver, "SCN-N-5")
    assert wx.callback(received.headers, received.body)["resource"]["mchid"] == OTHER_MCHID != MCHID
    with pytest.raises(WechatPaySignatureError, match=f"for mchid {OTHER_MCHID}"):
        merchant.parse_notification(received.headers, received.body)


def test_a_refund_notification_is_forged_the_same_way(wx, rule, pay, receiver, sandbox):
    answered(native(wx, "SCN-N-6"), 200)
    pay("SCN-N-6")
    receiver.wait_for(1)
    rule(match={"operation": "REFUND.SUCCESS"}, times=1, notify={"tamper": {"amount": 1}})
    answered(refund(wx, "SCN-N-6", "R-N6"), 200)
    sandbox.advance(5)  # the refund succeeds on the clock
    received = receiver.wait_for(2)[1]
    assert json.loads(received.body)["event_type"] == "REFUND.SUCCESS"
    assert wx.callback(received.headers, received.body) is None


def test_every_attempt_notes_what_the_rule_did(wx, rule, pay, receiver, live, http, sandbox):
    scenario = rule(times=1, notify={"signature": "invalid", "timestamp": "stale"})
    paid_notification(wx, pay, receiver, "SCN-N-7")
    sandbox.advance(0)  # waits for the dispatcher thread to record the attempt it made
    [record] = http.get(f"{live.url}/_sandbox/notifications?out_trade_no=SCN-N-7").json()["notifications"]
    [attempt] = record["attempts"]
    assert attempt["rule"] == scenario["id"]
    assert "signature: invalid" in attempt["effect"] and "timestamp" in attempt["effect"]


def test_the_first_two_attempts_are_lost_and_the_retries_keep_wechats_schedule(
    wx, rule, pay, receiver, sandbox, live, http
):
    scenario = rule(times=1, notify={"drop": 2})
    answered(native(wx, "SCN-N-8"), 200)
    pay("SCN-N-8")
    sandbox.advance(RETRY_SCHEDULE[0] + RETRY_SCHEDULE[1] - 1)
    assert receiver.at("/notify") == []
    sandbox.advance(1)
    received = receiver.wait_for(1)[0]
    assert wx.callback(received.headers, received.body)["resource"]["out_trade_no"] == "SCN-N-8"
    [record] = http.get(f"{live.url}/_sandbox/notifications?out_trade_no=SCN-N-8").json()["notifications"]
    assert [a["effect"] for a in record["attempts"]] == ["lost", "lost", ""]
    assert {a["rule"] for a in record["attempts"]} == {scenario["id"]}
    assert record["status"] == "delivered"


def test_a_duplicated_notification_arrives_twice_each_signed_afresh(wx, rule, pay, receiver):
    rule(times=1, notify={"duplicate": 1})
    answered(native(wx, "SCN-N-9"), 200)
    pay("SCN-N-9")
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    assert first.headers["Wechatpay-Nonce"] != second.headers["Wechatpay-Nonce"]
    assert wx.callback(first.headers, first.body) and wx.callback(second.headers, second.body)


def test_a_delayed_notification_arrives_ten_minutes_late(wx, rule, pay, receiver, sandbox):
    rule(times=1, notify={"delay": 600})
    answered(native(wx, "SCN-N-10"), 200)
    pay("SCN-N-10")
    sandbox.advance(599)
    assert receiver.at("/notify") == []
    sandbox.advance(1)
    received = receiver.wait_for(1)[0]
    assert wx.callback(received.headers, received.body)["event_type"] == "TRANSACTION.SUCCESS"


# -- payment outcomes ---------------------------------------------------------------------------------


def test_a_rule_declines_a_codepay_payment_with_the_code_it_names(wx, rule):
    rule(times=1, payment={"outcome": "fail", "code": "NOTENOUGH"})
    failed = answered(codepay(wx, "SCN-P-1"), 403)
    assert failed["code"] == "NOTENOUGH" and "scenario" in failed["message"]
    assert trade_state(wx, "SCN-P-1") == "PAYERROR"


def test_a_pending_rule_answers_userpaying_then_settles_on_the_clock(wx, rule, sandbox, receiver):
    rule(times=1, payment={"outcome": "pending", "settle_after": 45})
    assert answered(codepay(wx, "SCN-P-2"), 202)["code"] == "USERPAYING"
    sandbox.advance(44)
    assert trade_state(wx, "SCN-P-2") == "USERPAYING"
    assert answered(codepay(wx, "SCN-P-2"), 202)["code"] == "USERPAYING"  # asking again decides nothing anew
    sandbox.advance(1)
    assert trade_state(wx, "SCN-P-2") == "SUCCESS"


def test_magic_amount_6_01_declines_with_wechats_balance_code(wx):
    assert answered(codepay(wx, "SCN-P-3", total=601), 403)["code"] == "NOTENOUGH"


def test_a_rule_overrides_a_magic_payment_code(wx, rule):
    rule(times=1, payment={"outcome": "success"})
    assert answered(codepay(wx, "SCN-P-4", MAGIC_NOT_ENOUGH), 200)["trade_state"] == "SUCCESS"


def test_a_close_decision_answers_order_closed(wx, rule):
    rule(match={"operation": "transactions.codepay"}, times=1, payment={"outcome": "close"})
    assert answered(codepay(wx, "SCN-P-5"), 400)["code"] == "ORDER_CLOSED"
    assert trade_state(wx, "SCN-P-5") == "CLOSED"


def test_the_scan_page_shows_a_payment_left_pending_as_processing(wx, live, http, sandbox, receiver):
    code_url = answered(native(wx, "SCN-P-6", total=602), 200)["code_url"]  # magic: pending, succeeds 60 s later
    order = sandbox.payments.find("wechatpay", MCHID, out_trade_no="SCN-P-6")
    page = http.post(f"{live.url}/cashier/wechatpay/{order.trade_no}/pay", data={"page": "native", "action": "pay"})
    assert "Payment processing" in page.text and "Payment successful" not in page.text
    scan = http.get(f"{live.url}/cashier/wechatpay/native", params={"code_url": code_url})
    assert 'data-testid="pay"' not in scan.text and "processing" in scan.text
    assert trade_state(wx, "SCN-P-6") == "USERPAYING"
    sandbox.advance(60)
    assert trade_state(wx, "SCN-P-6") == "SUCCESS"
    received = receiver.wait_for(1)[0]
    assert wx.callback(received.headers, received.body)["resource"]["trade_state"] == "SUCCESS"


def test_a_close_decision_shows_the_buyer_a_closed_order(wx, rule, live, http, sandbox):
    answered(native(wx, "SCN-P-7"), 200)
    rule(match={"out_trade_no": "SCN-P-7"}, payment={"outcome": "close"})
    order = sandbox.payments.find("wechatpay", MCHID, out_trade_no="SCN-P-7")
    page = http.post(f"{live.url}/cashier/wechatpay/{order.trade_no}/pay", data={"page": "native", "action": "pay"})
    assert "This order is closed" in page.text
    assert trade_state(wx, "SCN-P-7") == "CLOSED"


# -- classifying calls ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data", "expected"),
    [
        ("POST", "/v3/pay/transactions/h5", b'{"mchid": "1", "amount": {"total": 601}}', ("create", "transactions.h5")),
        ("GET", "/v3/pay/transactions/out-trade-no/O-1", b"", ("query", "transactions.query")),
        ("POST", "/v3/pay/transactions/out-trade-no/O-1/reverse", b"{}", ("cancel", "transactions.reverse")),
        ("GET", "/v3/certificates", b"", ("keys", "certificates")),
        ("POST", "/v3/pay/transactions/native", b"\xff{not json", ("create", "transactions.native")),
        ("POST", "/v3/pay/transactions/native", b"[" * 100_000, ("create", "transactions.native")),
        ("POST", "/v3/pay/transactions/codepay", b'{"amount": {"total": true}}', ("pay", "transactions.codepay")),
        ("POST", "/v3/refund/domestic/refunds", b'{"transaction_id": 5, "mchid": 7}', ("refund", "refunds.create")),
        ("GET", "/v3/refund/domestic/refunds/%ff%fe", b"", ("query", "refunds.query")),
        ("DELETE", "/v3/no/such/thing", b"", ("", "/v3/no/such/thing")),
        ("POST", "/sandboxnew/pay/refund", b"<xml><mch_id>1</mch_id></xml>", ("refund", "secapi/pay/refund")),
        ("POST", "/pay/micropay", "<xml><total_fee>１２</total_fee></xml>".encode(), ("pay", "pay/micropay")),
        (
            "POST",
            "/pay/unifiedorder",
            b"<xml><total_fee>" + b"9" * 40 + b"</total_fee></xml>",
            ("create", "pay/unifiedorder"),
        ),
        ("POST", "/pay/orderquery", b"<xml><a>", ("query", "pay/orderquery")),
        ("POST", "/pay/orderquery", b'<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>', ("query", "pay/orderquery")),
        ("GET", "/secapi/pay/nothing", b"", ("", "secapi/pay/nothing")),
        ("POST", "/sandboxnew/pay/getsignkey", b"\x00\x01", ("keys", "pay/getsignkey")),
    ],
)
def test_any_request_is_classified_without_raising(app, method, path, data, expected):
    headers = {"Authorization": 'WECHATPAY2-SHA256-RSA2048 mchid="19000'}
    with app.test_request_context(path, method=method, data=data, headers=headers):
        ctx = faults.request_context(request)
    assert ctx.gateway == "wechatpay"
    assert (ctx.operation, ctx.method) == expected
    assert ctx.amount in (None, 601)
