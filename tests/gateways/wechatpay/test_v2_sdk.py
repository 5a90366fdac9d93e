"""wechatpy 1.8.18 (API v2), unmodified but for `API_BASE_URL`, against the live sandbox.

docs/protocols/wechatpay-v2.md#sdk-quirks says what else it does.

Every test runs twice: with the API key (`sandbox=False`, /pay/...) and in WeChat's sandbox mode (`sandbox=True`,
/sandboxnew/pay/..., where the SDK first fetches the sandbox key from getsignkey and signs everything with it).
wechatpy does not check the signatures of answers, so the tests do, with the SDK's own helpers.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from wechatpy.exceptions import WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from sandbox.gateways.wechatpay.v2 import codec

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
MCH_ID, APPID, API_KEY = MERCHANT["merchant_id"], MERCHANT["appid"], MERCHANT["api_key"]
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
EXTRA_OF = {
    "JSAPI": {"user_id": OPENID},
    "NATIVE": {"product_id": "SKU-1"},
    "APP": {},
    "MWEB": {"scene_info": {"h5_info": {"type": "Wap", "wap_url": "https://shop.example", "wap_name": "shop"}}},
}
# Payment codes (gateways/wechatpay/magic.py): 18 digits starting 10-15.
PAYS, WAIT_THEN_PAY = "134567890123456789", "130000000000000010"
NOT_ENOUGH = "130000000000000020"


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(params=[False, True], ids=["api-key", "sandbox-key"])
def pay(request, live) -> WeChatPay:
    client = WeChatPay(appid=APPID, api_key=API_KEY, mch_id=MCH_ID, sandbox=request.param, timeout=10)
    client.API_BASE_URL = live.url + "/"  # the only change to the SDK
    return client


@pytest.fixture
def manual(sandbox):
    sandbox.clock.set_mode("manual")
    return sandbox


def key_of(client: WeChatPay) -> str:
    return client.sandbox_api_key if client.sandbox else client.api_key


def assert_signed(client: WeChatPay, answer: dict, hmac_sha256: bool = False) -> None:
    fields = {k: v for k, v in answer.items() if k != "sign"}
    expected = (calculate_signature_hmac if hmac_sha256 else calculate_signature)(fields, key_of(client))
    assert answer["sign"] == expected


def create(client: WeChatPay, out_trade_no: str, trade_type: str = "NATIVE", total_fee: int = 100, **kwargs) -> dict:
    kwargs.setdefault("notify_url", "http://127.0.0.1:9/unused")
    return client.order.create(
        trade_type,
        "测试商品",
        total_fee,
        client_ip="127.0.0.1",
        out_trade_no=out_trade_no,
        **EXTRA_OF[trade_type],
        **kwargs,
    )


def buyer_pays(live, out_trade_no: str) -> None:
    session = requests.Session()
    session.trust_env = False
    reply = session.post(f"{live.url}/_sandbox/orders/wechatpay/{MCH_ID}/{out_trade_no}/pay", json={}, timeout=5)
    assert reply.status_code == 200, reply.text


def settle_refund(live, out_trade_no: str, out_refund_no: str, outcome: str) -> None:
    session = requests.Session()
    session.trust_env = False
    url = f"{live.url}/_sandbox/orders/wechatpay/{MCH_ID}/{out_trade_no}/refunds/{out_refund_no}/settle"
    reply = session.post(url, json={"outcome": outcome}, timeout=5)
    assert reply.status_code == 200, reply.text


def refused(call, *args, **kwargs) -> WeChatPayException:
    with pytest.raises(WeChatPayException) as caught:
        call(*args, **kwargs)
    return caught.value


def to_noon(sandbox) -> None:
    """Move the manual clock on to the next 12:00, so a test's day cannot roll over under it."""
    now = sandbox.clock.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon <= now:
        noon += timedelta(days=1)
    sandbox.advance((noon - now).total_seconds())


# -- unifiedorder ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trade_type", ["JSAPI", "NATIVE", "APP", "MWEB"])
def test_unifiedorder_answers_each_trade_type(pay, live, sandbox, trade_type):
    answer = create(pay, f"V2-{trade_type}-01", trade_type, attach="table=7")
    assert answer["return_code"] == answer["result_code"] == "SUCCESS"
    assert answer["trade_type"] == trade_type and answer["appid"] == APPID and answer["mch_id"] == MCH_ID
    assert re.fullmatch(r"wx\d{8}[0-9a-f]{24}", answer["prepay_id"])
    assert_signed(pay, answer)
    order = sandbox.payments.find("wechatpay", MCH_ID, out_trade_no=f"V2-{trade_type}-01")
    extra = order.extra
    assert (extra["api"], extra["appid"], extra["trade_type"], extra["attach"]) == ("v2", APPID, trade_type, "table=7")
    assert extra["handles"] == [answer["prepay_id"], f"pr:{extra['pr']}"]
    assert extra["sign_key_kind"] == ("sandbox" if pay.sandbox else "api") and extra["sign_type"] == "MD5"
    if trade_type == "NATIVE":
        assert answer["code_url"] == f"weixin://wxpay/bizpayurl?pr={extra['pr']}"
    if trade_type == "MWEB":
        assert answer["mweb_url"] == (
            f"{live.url}/cashier/wechatpay/h5?prepay_id={answer['prepay_id']}&package={order.trade_no[-10:]}"
        )
    if trade_type == "JSAPI":
        assert order.buyer == {"openid": OPENID}


def test_unifiedorder_again_is_the_same_prepay_unless_it_changed(pay, live):
    first = create(pay, "V2-AGAIN-01")
    assert create(pay, "V2-AGAIN-01")["prepay_id"] == first["prepay_id"]
    assert refused(create, pay, "V2-AGAIN-01", total_fee=200).errcode == "OUT_TRADE_NO_USED"
    assert refused(create, pay, "V2-AGAIN-01", "APP").errcode == "OUT_TRADE_NO_USED"
    buyer_pays(live, "V2-AGAIN-01")
    error = refused(create, pay, "V2-AGAIN-01")
    assert (error.return_code, error.result_code, error.errcode) == ("SUCCESS", "FAIL", "ORDERPAID")


def test_jsapi_without_openid_lacks_params(pay):
    error = refused(
        pay.order.create, "JSAPI", "x", 1, "http://127.0.0.1:9/n", client_ip="127.0.0.1", out_trade_no="V2-NOOPENID"
    )
    assert error.errcode == "LACK_PARAMS" and "openid is required when trade_type is JSAPI" in error.errmsg


# -- pay, query, notify ---------------------------------------------------------------------------------------


def test_paid_order_is_queried_and_notified(pay, live, receiver):
    create(pay, "V2-PAID-01", "JSAPI", 188, notify_url=f"{receiver.url}/v2", attach="desk 3")
    unpaid = pay.order.query(out_trade_no="V2-PAID-01")
    assert (unpaid["trade_state"], unpaid["total_fee"], unpaid["trade_type"]) == ("NOTPAY", "188", "JSAPI")
    assert "transaction_id" not in unpaid
    assert_signed(pay, unpaid)

    buyer_pays(live, "V2-PAID-01")
    paid = pay.order.query(out_trade_no="V2-PAID-01")
    assert paid["trade_state"] == "SUCCESS" and paid["trade_state_desc"] == "支付成功"
    assert (paid["openid"], paid["cash_fee"], paid["attach"], paid["bank_type"]) == (OPENID, "188", "desk 3", "OTHERS")
    assert re.fullmatch(r"4200\d{24}", paid["transaction_id"]) and re.fullmatch(r"\d{14}", paid["time_end"])
    by_id = pay.order.query(transaction_id=paid["transaction_id"])
    assert by_id["out_trade_no"] == "V2-PAID-01"

    [message] = receiver.wait_for(1, path="/v2")
    assert message.headers["Content-Type"] == "text/xml"
    data = pay.parse_payment_result(message.body.decode())  # raises unless MD5-signed with the right key
    assert data["result_code"] == "SUCCESS" and data["out_trade_no"] == "V2-PAID-01"
    assert (data["total_fee"], data["cash_fee"], data["openid"]) == (188, 188, OPENID)
    assert (data["transaction_id"], data["time_end"]) == (paid["transaction_id"], paid["time_end"])
    assert (data["appid"], data["mch_id"], data["trade_type"], data["attach"]) == (APPID, MCH_ID, "JSAPI", "desk 3")


def test_hmac_sha256_orders_are_answered_with_hmac_and_notified_with_md5(pay, live, receiver, sandbox):
    answer = create(pay, "V2-HMAC-01", notify_url=f"{receiver.url}/hmac", sign_type="HMAC-SHA256")
    assert_signed(pay, answer, hmac_sha256=True)
    assert sandbox.payments.find("wechatpay", MCH_ID, out_trade_no="V2-HMAC-01").extra["sign_type"] == "HMAC-SHA256"
    buyer_pays(live, "V2-HMAC-01")
    [message] = receiver.wait_for(1, path="/hmac")
    assert pay.parse_payment_result(message.body.decode())["out_trade_no"] == "V2-HMAC-01"


def test_unknown_orders_are_ordernotexist(pay):
    error = refused(pay.order.query, out_trade_no="V2-NOSUCH-01")
    assert (error.return_code, error.result_code, error.errcode) == ("SUCCESS", "FAIL", "ORDERNOTEXIST")
    assert "V2-NOSUCH-01" in error.errmsg
    assert refused(pay.order.query, transaction_id="4200000000202401010000000000").errcode == "ORDERNOTEXIST"
    assert refused(pay.refund.apply, 100, 1, "R-NOSUCH-01", out_trade_no="V2-NOSUCH-01").errcode == "ORDERNOTEXIST"
    assert refused(pay.refund.query, out_trade_no="V2-NOSUCH-01").errcode == "REFUNDNOTEXIST"


# -- close --------------------------------------------------------------------------------------------------


def test_closeorder_closes_once_and_never_a_paid_order(pay, live):
    create(pay, "V2-CLOSE-01")
    answer = pay.order.close("V2-CLOSE-01")
    assert answer["result_code"] == "SUCCESS"
    assert_signed(pay, answer)
    assert pay.order.query(out_trade_no="V2-CLOSE-01")["trade_state"] == "CLOSED"
    assert refused(pay.order.close, "V2-CLOSE-01").errcode == "ORDERCLOSED"
    assert refused(create, pay, "V2-CLOSE-01").errcode == "ORDERCLOSED"
    create(pay, "V2-CLOSE-02")
    buyer_pays(live, "V2-CLOSE-02")
    assert refused(pay.order.close, "V2-CLOSE-02").errcode == "ORDERPAID"


# -- refunds ------------------------------------------------------------------------------------------------


def test_partial_refunds_are_processing_then_succeed_and_notify(pay, live, receiver, manual):
    create(pay, "V2-REFUND-01", total_fee=100)
    buyer_pays(live, "V2-REFUND-01")
    first = pay.refund.apply(100, 30, "V2-R-01-A", out_trade_no="V2-REFUND-01", notify_url=f"{receiver.url}/refund")
    assert (first["refund_fee"], first["total_fee"], first["out_refund_no"]) == ("30", "100", "V2-R-01-A")
    assert_signed(pay, first)
    assert pay.refund.apply(100, 30, "V2-R-01-A", out_trade_no="V2-REFUND-01")["refund_id"] == first["refund_id"]
    second = pay.refund.apply(
        100, 20, "V2-R-01-B", transaction_id=first["transaction_id"], notify_url=f"{receiver.url}/refund"
    )

    pending = pay.refund.query(out_trade_no="V2-REFUND-01")
    assert pending["refund_count"] == "2"
    assert (pending["refund_status_0"], pending["refund_fee_0"], pending["refund_status_1"]) == (
        "PROCESSING",
        "30",
        "PROCESSING",
    )
    assert "refund_success_time_0" not in pending
    assert pay.order.query(out_trade_no="V2-REFUND-01")["trade_state"] == "REFUND"

    manual.advance(5)  # common.REFUND_SECONDS
    done = pay.refund.query(refund_id=second["refund_id"])
    assert (done["refund_count"], done["out_refund_no_0"], done["refund_status_0"]) == ("1", "V2-R-01-B", "SUCCESS")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", done["refund_success_time_0"])
    assert pay.refund.query(out_refund_no="V2-R-01-A")["refund_status_0"] == "SUCCESS"

    notes = [pay.parse_refund_notify_result(r.body.decode()) for r in receiver.wait_for(2, path="/refund")]
    assert sorted((n["out_refund_no"], n["refund_fee"], n["refund_status"]) for n in notes) == [
        ("V2-R-01-A", 30, "SUCCESS"),
        ("V2-R-01-B", 20, "SUCCESS"),
    ]
    assert all(n["total_fee"] == 100 and n["out_trade_no"] == "V2-REFUND-01" and n["success_time"] for n in notes)


@pytest.mark.parametrize(
    ("outcome", "status"), [("abnormal", "CHANGE"), ("closed", "REFUNDCLOSE"), ("success", "SUCCESS")]
)
def test_refund_outcomes_from_the_control_api_are_notified(pay, live, receiver, outcome, status):
    create(pay, "V2-OUTCOME-1", notify_url=f"{receiver.url}/pay")
    buyer_pays(live, "V2-OUTCOME-1")
    pay.refund.apply(100, 100, "V2-O-1", out_trade_no="V2-OUTCOME-1", notify_url=f"{receiver.url}/refund")
    settle_refund(live, "V2-OUTCOME-1", "V2-O-1", outcome)
    assert pay.refund.query(out_refund_no="V2-O-1")["refund_status_0"] == status
    [message] = receiver.wait_for(1, path="/refund")
    assert "<sign>" not in message.body.decode()
    note = pay.parse_refund_notify_result(message.body.decode())
    assert (note["refund_status"], note["refund_fee"], note["out_refund_no"]) == (status, 100, "V2-O-1")


def test_refunds_beyond_what_was_paid_are_refused(pay, live):
    create(pay, "V2-TOOMUCH-1")
    assert refused(pay.refund.apply, 100, 10, "V2-T-0", out_trade_no="V2-TOOMUCH-1").errcode == "INVALID_REQUEST"
    buyer_pays(live, "V2-TOOMUCH-1")
    pay.refund.apply(100, 80, "V2-T-1", out_trade_no="V2-TOOMUCH-1")
    error = refused(pay.refund.apply, 100, 30, "V2-T-2", out_trade_no="V2-TOOMUCH-1")
    assert (error.result_code, error.errcode) == ("FAIL", "NOTENOUGH") and "20 fen" in error.errmsg
    assert refused(pay.refund.apply, 99, 10, "V2-T-3", out_trade_no="V2-TOOMUCH-1").errcode == "PARAM_ERROR"
    assert refused(pay.refund.apply, 100, 10, "V2-T-1", out_trade_no="V2-TOOMUCH-1").errcode == "INVALID_REQUEST"


# -- bills --------------------------------------------------------------------------------------------------


def test_downloadbill_serves_a_day_once_it_has_ended(pay, live, manual):
    to_noon(manual)
    create(pay, "V2-BILL-01", total_fee=250, notify_url="http://127.0.0.1:9/none")
    buyer_pays(live, "V2-BILL-01")
    day = manual.clock.now().strftime("%Y%m%d")
    error = refused(pay.tools.download_bill, day)
    assert error.return_code == "FAIL" and error.return_msg.startswith("No Bill Exist: the bill of")
    manual.advance(24 * 3600)
    bill = pay.tools.download_bill(day)
    assert isinstance(bill, str) and bill.startswith("交易时间,公众账号ID,商户号")
    assert "`V2-BILL-01" in bill and "`2.50" in bill
    assert refused(pay.tools.download_bill, "2024-01-01").return_msg.startswith("参数错误: invalid bill_date")


# -- micropay and reverse -----------------------------------------------------------------------------------


def test_micropay_magic_codes(pay, manual):
    paid = pay.micropay.create("扫码", 66, PAYS, client_ip="127.0.0.1", out_trade_no="V2-MICRO-01")
    assert (paid["trade_type"], paid["total_fee"], paid["cash_fee"]) == ("MICROPAY", "66", "66")
    assert re.fullmatch(r"4200\d{24}", paid["transaction_id"])
    assert_signed(pay, paid)

    waiting = refused(pay.micropay.create, "扫码", 67, WAIT_THEN_PAY, client_ip="127.0.0.1", out_trade_no="V2-MICRO-02")
    assert (waiting.return_code, waiting.result_code, waiting.errcode) == ("SUCCESS", "FAIL", "USERPAYING")
    assert pay.micropay.query(out_trade_no="V2-MICRO-02")["trade_state"] == "USERPAYING"
    manual.advance(10)
    assert pay.micropay.query(out_trade_no="V2-MICRO-02")["trade_state"] == "SUCCESS"

    poor = refused(pay.micropay.create, "扫码", 68, NOT_ENOUGH, client_ip="127.0.0.1", out_trade_no="V2-MICRO-03")
    assert poor.errcode == "NOTENOUGH"
    assert pay.order.query(out_trade_no="V2-MICRO-03")["trade_state"] == "PAYERROR"
    bad = refused(pay.micropay.create, "扫码", 69, "123", client_ip="127.0.0.1", out_trade_no="V2-MICRO-04")
    assert bad.errcode == "AUTH_CODE_INVALID"


def test_reverse_revokes_a_waiting_code_payment_and_refunds_a_paid_one(pay, manual):
    refused(pay.micropay.create, "扫码", 70, WAIT_THEN_PAY, client_ip="127.0.0.1", out_trade_no="V2-REVERSE-1")
    answer = pay.order.reverse(out_trade_no="V2-REVERSE-1")
    assert (answer["result_code"], answer["recall"]) == ("SUCCESS", "N")
    assert pay.order.query(out_trade_no="V2-REVERSE-1")["trade_state"] == "REVOKED"
    manual.advance(10)  # the buyer's confirmation comes too late: the order stays revoked
    assert pay.order.query(out_trade_no="V2-REVERSE-1")["trade_state"] == "REVOKED"

    paid = pay.micropay.create("扫码", 71, PAYS, client_ip="127.0.0.1", out_trade_no="V2-REVERSE-2")
    pay.order.reverse(transaction_id=paid["transaction_id"])
    money_back = pay.refund.query(out_trade_no="V2-REVERSE-2")
    assert (money_back["refund_count"], money_back["refund_fee_0"], money_back["refund_status_0"]) == (
        "1",
        "71",
        "SUCCESS",
    )
    # The state is common.trade_state's, shared with v3 (WeChat itself says REVOKED for a reversed paid order).
    assert pay.order.query(out_trade_no="V2-REVERSE-2")["trade_state"] in ("REVOKED", "REFUND")

    create(pay, "V2-REVERSE-3")
    assert refused(pay.order.reverse, out_trade_no="V2-REVERSE-3").errcode == "INVALID_REQUEST"


# -- keys -----------------------------------------------------------------------------------------------------


def test_a_wrong_api_key_is_a_signerror_that_shows_the_signed_string(live, pay):
    wrong = WeChatPay(appid=APPID, api_key="w" * 32, mch_id=MCH_ID, sandbox=pay.sandbox, timeout=10)
    wrong.API_BASE_URL = live.url + "/"
    error = refused(create, wrong, "V2-WRONGKEY-1")
    assert (error.return_code, error.errcode) == ("FAIL", "SIGNERROR")
    assert "appid=wxd930ea5d5a258f4f&body=测试商品" in error.return_msg
    assert "out_trade_no=V2-WRONGKEY-1" in error.return_msg
    assert "&key=<the API key of mch_id 1900000109>" in error.return_msg or (
        "&key=<the sandbox key of mch_id 1900000109" in error.return_msg
    )
    assert API_KEY not in error.return_msg and codec.sandbox_key(API_KEY) not in error.return_msg


def test_sandbox_mode_uses_a_sandbox_key_distinct_from_the_api_key(live):
    client = WeChatPay(appid=APPID, api_key=API_KEY, mch_id=MCH_ID, sandbox=True, timeout=10)
    client.API_BASE_URL = live.url + "/"
    key = client.sandbox_api_key
    assert re.fullmatch(r"[0-9A-F]{32}", key) and key != API_KEY
    # Signed with the API key under /sandboxnew/: refused, and the answer says which key would fit.
    confused = WeChatPay(appid=APPID, api_key=API_KEY, mch_id=MCH_ID, timeout=10)
    confused.API_BASE_URL = live.url + "/sandboxnew/"
    error = refused(create, confused, "V2-CONFUSED-1")
    assert error.errcode == "SIGNERROR"
    assert "key=<the sandbox key of mch_id 1900000109, from sandboxnew/pay/getsignkey>" in error.return_msg
    assert "signed with the API key of mch_id 1900000109 instead" in error.return_msg
