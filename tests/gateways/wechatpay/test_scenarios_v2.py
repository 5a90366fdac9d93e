"""Scenarios on WeChat Pay API v2, seen through wechatpy (unmodified but its base URL) and the reference v2 helpers.

Each API fault is tried with the API key and in WeChat's sandbox mode (/sandboxnew/, the getsignkey key).
"""

from __future__ import annotations

import pytest
import xmltodict
from wechatpy.exceptions import InvalidMchIdException, InvalidSignatureException, WeChatPayException
from wechatpy.pay import WeChatPay

from sandbox.gateways.wechatpay.v2.notify import OTHER_MCH_ID
from sandbox.merchant.wechatpay import WechatPayClientError, WechatPaySignatureError
from sandbox.merchant.wechatpay_v2 import (
    v2_parse_payment_notification,
    v2_parse_refund_notification,
    v2_reply,
    v2_verify,
)
from tests.conftest import WECHAT_MERCHANT

MCH_ID, APPID, API_KEY = WECHAT_MERCHANT["merchant_id"], WECHAT_MERCHANT["appid"], WECHAT_MERCHANT["api_key"]
PAYS = "134567890123456789"  # an ordinary payment code
MAGIC_NOT_ENOUGH = "130000000000000020"


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


@pytest.fixture(params=[False, True], ids=["api-key", "sandbox-key"])
def pay(request, live) -> WeChatPay:
    client = WeChatPay(appid=APPID, api_key=API_KEY, mch_id=MCH_ID, sandbox=request.param, timeout=10)
    client.API_BASE_URL = live.url + "/"  # the only change to the SDK
    return client


@pytest.fixture
def wechatpy(live) -> WeChatPay:
    """One client with the API key, for the notification tests."""
    client = WeChatPay(appid=APPID, api_key=API_KEY, mch_id=MCH_ID, timeout=10)
    client.API_BASE_URL = live.url + "/"
    return client


@pytest.fixture
def buyer_pays(live, http):
    def pays(out_trade_no: str) -> None:
        reply = http.post(f"{live.url}/_sandbox/orders/wechatpay/{MCH_ID}/{out_trade_no}/pay", json={})
        assert reply.status_code == 200, reply.text

    return pays


def key_of(client: WeChatPay) -> str:
    return client.sandbox_api_key if client.sandbox else client.api_key


def create(client: WeChatPay, out_trade_no: str, notify_url: str = "http://127.0.0.1:9/unused") -> dict:
    return client.order.create("APP", "测试", 1000, notify_url, client_ip="127.0.0.1", out_trade_no=out_trade_no)


def micropay(client: WeChatPay, out_trade_no: str, auth_code: str = PAYS, total_fee: int = 100) -> dict:
    return client.micropay.create("扫码", total_fee, auth_code, client_ip="127.0.0.1", out_trade_no=out_trade_no)


def refused(call, *args, **kwargs) -> WeChatPayException:
    with pytest.raises(WeChatPayException) as caught:
        call(*args, **kwargs)
    return caught.value


# -- API faults ---------------------------------------------------------------------------------------


def test_wechatpy_raises_systemerror_on_the_faulted_query_only(pay, rule):
    create(pay, "V2S-F-1")
    rule(match={"operation": "pay/orderquery"}, times=1, api={"error": "SYSTEM_ERROR"})
    error = refused(pay.order.query, out_trade_no="V2S-F-1")
    assert (error.return_code, error.result_code, error.errcode) == ("SUCCESS", "FAIL", "SYSTEMERROR")
    assert "scenario" in error.errmsg
    assert pay.order.query(out_trade_no="V2S-F-1")["trade_state"] == "NOTPAY"


def test_the_error_answer_is_signed_with_the_key_the_request_used(pay, rule):
    create(pay, "V2S-F-2")
    rule(match={"operation": "query"}, times=1, api={"error": "system_error"})
    error = refused(pay.order.query, out_trade_no="V2S-F-2")
    answer = dict(xmltodict.parse(error.response.text)["xml"])
    assert answer["err_code"] == "SYSTEMERROR"
    assert v2_verify(answer, key_of(pay))


def test_a_refund_refused_for_the_merchants_balance_creates_no_refund(pay, rule, buyer_pays):
    create(pay, "V2S-F-3")
    buyer_pays("V2S-F-3")
    rule(match={"operation": "refund"}, times=1, api={"error": "NOT_ENOUGH"})
    assert refused(pay.refund.apply, 1000, 100, "V2S-R-3", out_trade_no="V2S-F-3").errcode == "NOTENOUGH"
    assert refused(pay.refund.query, out_refund_no="V2S-R-3").errcode == "REFUNDNOTEXIST"


def test_a_bill_download_fault_is_return_level(pay, rule):
    rule(match={"operation": "bill"}, times=1, api={"error": "SYSTEMERROR"})
    error = refused(pay.tools.download_bill, "20240101")
    assert error.return_code == "FAIL" and "scenario" in error.return_msg


@pytest.mark.parametrize("body", ["unsigned", "invalid_signature"])
def test_wechatpy_takes_a_spoiled_answer_that_an_honest_merchant_refuses(pay, rule, body):
    create(pay, "V2S-F-4")
    rule(match={"operation": "pay/orderquery"}, times=1, api={"body": body})
    answer = pay.order.query(out_trade_no="V2S-F-4")  # wechatpy never checks an answer's sign
    assert ("sign" in answer) == (body == "invalid_signature")
    assert not v2_verify(answer, key_of(pay))


@pytest.mark.parametrize(("status", "exists"), [(504, True), (503, False)])
def test_a_504_comes_after_the_order_was_created_and_a_503_before(pay, rule, status, exists):
    rule(match={"operation": "create"}, times=1, api={"status": status})
    assert refused(create, pay, f"V2S-F-5-{status}").return_code is None  # wechatpy: a non-2xx status
    if exists:
        assert pay.order.query(out_trade_no=f"V2S-F-5-{status}")["trade_state"] == "NOTPAY"
    else:
        assert refused(pay.order.query, out_trade_no=f"V2S-F-5-{status}").errcode == "ORDERNOTEXIST"


def test_a_refund_query_matches_rules_by_the_order_behind_the_refund(pay, rule, buyer_pays):
    create(pay, "QA-V2S-6")
    buyer_pays("QA-V2S-6")
    pay.refund.apply(1000, 100, "V2S-R-6", out_trade_no="QA-V2S-6")
    rule(match={"out_trade_no": "QA-*", "operation": "pay/refundquery"}, api={"error": "SYSTEM_ERROR"})
    assert refused(pay.refund.query, out_refund_no="V2S-R-6").errcode == "SYSTEMERROR"


# -- notifications ----------------------------------------------------------------------------------


def paid_notification(wechatpy, buyer_pays, receiver, out_trade_no: str):
    receiver.reply(v2_reply())
    create(wechatpy, out_trade_no, f"{receiver.url}/notify")
    buyer_pays(out_trade_no)
    return receiver.wait_for(1)[0]


@pytest.mark.parametrize(
    "effect", [{"signature": "invalid"}, {"signature": "missing"}, {"tamper": {"amount": 1}}], ids=str
)
def test_wechatpy_refuses_a_forged_payment_notification(wechatpy, rule, buyer_pays, receiver, effect):
    rule(times=1, notify=effect)
    received = paid_notification(wechatpy, buyer_pays, receiver, "V2S-N-1")
    with pytest.raises(InvalidSignatureException):
        wechatpy.parse_payment_result(received.body)


def test_a_tampered_amount_shows_in_total_fee_and_cash_fee(wechatpy, rule, buyer_pays, receiver):
    rule(times=1, notify={"tamper": {"amount": 1, "attach": "free"}})
    received = paid_notification(wechatpy, buyer_pays, receiver, "V2S-N-2")
    text = received.body.decode()
    assert "<total_fee>1</total_fee>" in text and "<cash_fee>1</cash_fee>" in text
    assert "<attach><![CDATA[free]]></attach>" in text


def test_a_notification_for_another_merchant_is_signed_but_names_it(wechatpy, rule, buyer_pays, receiver):
    rule(times=1, notify={"merchant": "wrong"})
    received = paid_notification(wechatpy, buyer_pays, receiver, "V2S-N-3")
    assert wechatpy.parse_payment_result(received.body)["mch_id"] == OTHER_MCH_ID  # wechatpy checks only the sign
    with pytest.raises(WechatPaySignatureError, match=f"mch_id {OTHER_MCH_ID}"):
        v2_parse_payment_notification(received.body, API_KEY, appid=APPID, mch_id=MCH_ID)


def test_a_stale_timestamp_does_not_apply_and_says_so(wechatpy, rule, buyer_pays, receiver, live, http, sandbox):
    rule(times=1, notify={"timestamp": "stale"})
    received = paid_notification(wechatpy, buyer_pays, receiver, "V2S-N-4")
    sandbox.advance(0)  # waits for the dispatcher thread to record the attempt it made
    assert wechatpy.parse_payment_result(received.body)["out_trade_no"] == "V2S-N-4"
    [record] = http.get(f"{live.url}/_sandbox/notifications?out_trade_no=V2S-N-4").json()["notifications"]
    assert "timestamp: does not apply" in record["attempts"][0]["effect"]


def refund_notification(wechatpy, buyer_pays, receiver, sandbox, out_trade_no: str):
    paid_notification(wechatpy, buyer_pays, receiver, out_trade_no)
    wechatpy.refund.apply(1000, 100, f"{out_trade_no}-R", out_trade_no=out_trade_no)
    sandbox.advance(5)  # the refund succeeds on the clock
    return receiver.wait_for(2)[1]


@pytest.mark.parametrize("effect", [{"signature": "invalid"}, {"tamper": {"amount": 999900}}], ids=str)
def test_a_forged_refund_notification_does_not_decrypt(wechatpy, rule, buyer_pays, receiver, sandbox, effect):
    rule(match={"operation": "REFUND.SUCCESS"}, times=1, notify=effect)
    received = refund_notification(wechatpy, buyer_pays, receiver, sandbox, "V2S-N-5")
    with pytest.raises(Exception):  # noqa: B017 - wechatpy lets the XML parser's error through
        wechatpy.parse_refund_notify_result(received.body)
    with pytest.raises(WechatPayClientError):
        v2_parse_refund_notification(received.body, API_KEY, appid=APPID, mch_id=MCH_ID)


def test_a_refund_notification_for_another_merchant_is_refused_by_mch_id(wechatpy, rule, buyer_pays, receiver, sandbox):
    rule(match={"operation": "REFUND.SUCCESS"}, times=1, notify={"merchant": "wrong"})
    received = refund_notification(wechatpy, buyer_pays, receiver, sandbox, "V2S-N-6")
    with pytest.raises(InvalidMchIdException):
        wechatpy.parse_refund_notify_result(received.body)


# -- payment outcomes ---------------------------------------------------------------------------------


def test_a_rule_declines_a_micropay_payment_with_the_code_it_names(pay, rule):
    rule(times=1, payment={"outcome": "fail", "code": "NOTENOUGH"})
    error = refused(micropay, pay, "V2S-P-1")
    assert (error.errcode, error.result_code) == ("NOTENOUGH", "FAIL")
    assert pay.order.query(out_trade_no="V2S-P-1")["trade_state"] == "PAYERROR"


def test_a_pending_rule_answers_userpaying_then_settles_on_the_clock(pay, rule, sandbox):
    rule(times=1, payment={"outcome": "pending", "settle_after": 30, "then": "fail", "code": "BANKERROR"})
    assert refused(micropay, pay, "V2S-P-2").errcode == "USERPAYING"
    sandbox.advance(29)
    assert pay.micropay.query(out_trade_no="V2S-P-2")["trade_state"] == "USERPAYING"
    sandbox.advance(1)
    assert pay.micropay.query(out_trade_no="V2S-P-2")["trade_state"] == "PAYERROR"


def test_magic_amount_6_01_declines_with_notenough(pay):
    assert refused(micropay, pay, "V2S-P-3", total_fee=601).errcode == "NOTENOUGH"


def test_a_rule_overrides_a_magic_payment_code(pay, rule):
    rule(times=1, payment={"outcome": "success"})
    assert micropay(pay, "V2S-P-4", MAGIC_NOT_ENOUGH)["result_code"] == "SUCCESS"


def test_a_neutral_failure_code_answers_the_v2_spelling(pay, rule):
    rule(match={"operation": "pay/micropay"}, times=1, payment={"outcome": "fail", "code": "system_error"})
    assert refused(micropay, pay, "V2S-P-5").errcode == "SYSTEMERROR"
