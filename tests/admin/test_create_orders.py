"""POST /_sandbox/orders makes an order as its merchant would: the buyer pays it on its hosted page (or by the pay
action), and its notification verifies with the gateway's real SDK or the reference client, like any other."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from sandbox.gateways.unionpay import magic as unionpay_magic
from tests.conftest import wechatpayv3_client

APP, MCHID, MER_ID = "2021000000000001", "1900000109", "777290058110097"
CARD = "6216261000000000018"  # the demo debit card: pays


def create(http, live, **body):
    return http.post(f"{live.url}/_sandbox/orders", json=body)


def created(http, live, **body) -> dict:
    reply = create(http, live, **body)
    assert reply.status_code == 201, reply.text
    return reply.json()


def pay_on_the_page(http, live, order: dict, method: str) -> None:
    """What the buyer's browser does: open pay_url, then press Pay (or type the card, at UnionPay)."""
    page = http.get(order["pay_url"])
    assert page.status_code == 200, page.text
    trade_no = order["trade_no"]
    if order["gateway"] == "alipay":
        answer = http.post(f"{live.url}/cashier/alipay/{trade_no}/pay", data={"action": "pay"}, allow_redirects=False)
    elif order["gateway"] == "wechatpay":
        form = {"action": "pay", "page": method}
        answer = http.post(f"{live.url}/cashier/wechatpay/{trade_no}/pay", data=form, allow_redirects=False)
    else:
        channel = "07" if method == "frontTrans" else "08"
        form = {"accNo": CARD, **unionpay_magic.HOLDER, "smsCode": unionpay_magic.sms_code(channel)}
        answer = http.post(f"{live.url}/cashier/unionpay/{trade_no}/pay", data=form, allow_redirects=False)
    assert answer.status_code in (200, 302), answer.text


CASES = [
    ("alipay", "page", "page"),
    ("alipay", "wap", "page"),
    ("alipay", "precreate", "page"),
    ("wechatpay", "native", "page"),
    ("wechatpay", "h5", "page"),
    ("wechatpay", "jsapi", "action"),
    ("unionpay", "frontTrans", "page"),
    ("unionpay", "appTrans", "page"),
]


@pytest.mark.parametrize(("gateway", "method", "paid_by"), CASES, ids=[f"{g}-{m}" for g, m, _ in CASES])
def test_an_order_created_here_is_paid_and_notified_like_a_merchants_own(
    gateway, method, paid_by, live, http, receiver, alipay_client, bank
):
    body = {"gateway": gateway, "method": method, "amount": 990, "notify_url": receiver.url + "/notify"}
    if method in ("page", "wap", "frontTrans", "h5"):
        body["return_url"] = receiver.url + "/back"
    if gateway == "unionpay":
        receiver.reply("ok")
    order = created(http, live, **body)
    assert (order["gateway"], order["status"], order["amount"]) == (gateway, "pending", 990)
    assert order["merchant_id"] == {"alipay": APP, "wechatpay": MCHID, "unionpay": MER_ID}[gateway]
    assert order["out_trade_no"].startswith("SBX") and order["subject"] == "paysandbox test order"
    assert order["notify_url"] == receiver.url + "/notify" and order["expires_at"]
    if method == "jsapi":
        assert order["pay_url"] is None and "qr_code" not in order
    else:
        assert order["pay_url"].startswith(live.url + "/cashier/"), order["pay_url"]
    if method == "precreate":
        assert order["qr_code"] == order["pay_url"]
    elif method == "native":
        assert order["qr_code"].startswith("weixin://wxpay/bizpayurl?pr=")
        assert urlsplit(order["pay_url"]).path.endswith(order["qr_code"].rsplit("=", 1)[1])
    else:
        assert "qr_code" not in order

    if paid_by == "page":
        pay_on_the_page(http, live, order, method)
    else:
        path = f"/_sandbox/orders/{gateway}/{order['merchant_id']}/{order['out_trade_no']}/pay"
        assert http.post(live.url + path, json={}).status_code == 200

    [arrived] = receiver.wait_for(1, path="/notify")
    if gateway == "alipay":
        verified = alipay_client.verify_notification(arrived.form)
        assert (verified["out_trade_no"], verified["total_amount"]) == (order["out_trade_no"], "9.90")
        assert verified["trade_status"] == "TRADE_SUCCESS"
    elif gateway == "wechatpay":
        sdk = wechatpayv3_client(live.url, receiver.url + "/notify")
        resource = sdk.callback(arrived.headers, arrived.body)["resource"]
        assert (resource["out_trade_no"], resource["amount"]["total"]) == (order["out_trade_no"], 990)
        assert resource["trade_state"] == "SUCCESS"
    else:
        verified = bank.verify_notification(arrived.form)
        assert (verified["orderId"], verified["txnAmt"], verified["respCode"]) == (order["out_trade_no"], "990", "00")
    view = http.get(f"{live.url}/_sandbox/orders/{gateway}/{order['merchant_id']}/{order['out_trade_no']}").json()
    assert view["status"] == "paid"


def test_the_merchant_s_sdk_sees_it_as_its_own_order(live, http, receiver):
    order = created(http, live, gateway="wechatpay", amount=1, out_trade_no="QA-SDK-1", notify_url=receiver.url)
    sdk = wechatpayv3_client(live.url, receiver.url)
    code, answer = sdk.query(out_trade_no="QA-SDK-1")
    assert code == 200
    assert (json.loads(answer)["trade_state"], json.loads(answer)["amount"]["total"]) == ("NOTPAY", 1)
    assert order["native"] == {"trade_state": "NOTPAY", "trade_state_desc": "未支付", "api": "v3"}


def test_a_create_rule_and_the_expiry_apply_as_to_a_merchants_call(live, http, sandbox, rule):
    sandbox.clock.set_mode("manual")
    rule(match={"gateway": "alipay", "operation": "create"}, payment={"outcome": "success", "settle_after": 30})
    buyerless = created(http, live, gateway="alipay", amount=100, out_trade_no="QA-RULE-1")
    expiring = created(http, live, gateway="wechatpay", amount=100, notify_url="http://127.0.0.1:9/n")
    sandbox.advance(30)
    assert http.get(f"{live.url}/_sandbox/orders/alipay/{APP}/QA-RULE-1").json()["status"] == "paid"
    assert buyerless["status"] == "pending"
    sandbox.advance(2 * 3600)  # WeChat Pay's default two hours to pay
    view = http.get(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/{expiring['out_trade_no']}").json()
    assert view["status"] == "closed"


def test_an_identical_repeat_answers_the_same_order_and_a_different_one_the_gateways_409(live, http):
    first = created(http, live, gateway="alipay", amount=100, out_trade_no="QA-DUP-1")
    again = create(http, live, gateway="alipay", amount=100, out_trade_no="QA-DUP-1")
    assert again.status_code == 200 and again.json()["trade_no"] == first["trade_no"]
    other = create(http, live, gateway="alipay", amount=101, out_trade_no="QA-DUP-1")
    assert (other.status_code, other.json()["error"]["code"]) == (409, "ORDER_MISMATCH")
    assert "already exists with amount 100 fen" in other.json()["error"]["message"]

    union = {
        "gateway": "unionpay",
        "method": "appTrans",
        "notify_url": "http://127.0.0.1:9/n",
        "out_trade_no": "QADUP0001",
    }
    tn_first = created(http, live, amount=100, **union)
    tn_again = create(http, live, amount=100, **union)
    assert tn_again.status_code == 200 and tn_again.json()["pay_url"] == tn_first["pay_url"]
    refused = create(http, live, amount=200, **union)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "ORDER_MISMATCH")
    assert "orderId QADUP0001 was already used" in refused.json()["error"]["message"]

    http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/QA-DUP-1/pay", json={})
    paid = create(http, live, gateway="alipay", amount=100, out_trade_no="QA-DUP-1")
    assert (paid.status_code, paid.json()["error"]["code"]) == (409, "ORDER_ALREADY_PAID")


NOTIFY = "http://127.0.0.1:9/n"
BAD = [
    ({"amount": 1}, "gateway", "gateway is required"),
    ({"gateway": "paypal", "amount": 1}, "gateway", "alipay, unionpay, wechatpay"),
    ({"gateway": "alipay"}, "amount", "integer fen"),
    ({"gateway": "alipay", "amount": 0}, "amount", "from 1 to"),
    ({"gateway": "alipay", "amount": -5}, "amount", "from 1 to"),
    ({"gateway": "alipay", "amount": "9.90"}, "amount", "integer fen"),
    ({"gateway": "alipay", "amount": 9.9}, "amount", "integer fen"),
    ({"gateway": "alipay", "amount": True}, "amount", "integer fen"),
    ({"gateway": "alipay", "amount": 10**12}, "amount", "from 1 to 10000000000"),
    ({"gateway": "alipay", "amount": 1, "method": "native"}, "method", "page, wap, precreate"),
    ({"gateway": "wechatpay", "amount": 1, "method": "page", "notify_url": NOTIFY}, "method", "native, jsapi, h5"),
    ({"gateway": "unionpay", "amount": 1, "method": "qr", "notify_url": NOTIFY}, "method", "frontTrans, appTrans"),
    ({"gateway": "alipay", "amount": 1, "merchant_id": 2021}, "merchant_id", "must be a string"),
    ({"gateway": "alipay", "amount": 1, "out_trade_no": "has space"}, "out_trade_no", "letters, digits"),
    ({"gateway": "wechatpay", "amount": 1, "out_trade_no": "abc", "notify_url": NOTIFY}, "out_trade_no", "6-32"),
    ({"gateway": "unionpay", "amount": 1, "out_trade_no": "QA-1-2345", "notify_url": NOTIFY}, "out_trade_no", "8-40"),
    ({"gateway": "alipay", "amount": 1, "subject": ["x"]}, "subject", "must be a string"),
    ({"gateway": "alipay", "amount": 1, "subject": "x" * 300}, "subject", "longer than 256"),
    ({"gateway": "alipay", "amount": 1, "notify_url": "ftp://x"}, "notify_url", "http(s) URL"),
    ({"gateway": "wechatpay", "amount": 1}, "notify_url", "notify_url is required"),
    ({"gateway": "unionpay", "amount": 1, "method": "appTrans"}, "notify_url", "backUrl is required"),
    ({"gateway": "unionpay", "amount": 1, "notify_url": NOTIFY}, "return_url", "frontUrl is required"),
    ({"gateway": "alipay", "amount": 1, "return_url": "javascript:x"}, "return_url", "http(s) URL"),
    ({"gateway": "wechatpay", "amount": 1, "notify_url": NOTIFY, "return_url": NOTIFY}, "return_url", "only h5"),
    ({"gateway": "alipay", "amount": 1, "method": "precreate", "return_url": NOTIFY}, "return_url", "no return_url"),
    ({"gateway": "alipay", "amount": 1, "amout": 2}, "amout", "unknown field"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD, ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD)])
def test_bad_input_is_a_400_naming_the_field(live, http, body, field, words):
    reply = create(http, live, **body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["field"] == field and words in error["message"], error
    assert error["code"] in ("INVALID_PARAMETER", "MISSING_PARAMETER")
    assert http.get(f"{live.url}/_sandbox/orders").json()["orders"] == []


def test_a_body_that_is_not_an_object_is_a_400(live, http):
    reply = http.post(f"{live.url}/_sandbox/orders", json=[1])
    assert (reply.status_code, reply.json()["error"]["field"]) == (400, "body")


def test_namespaces_isolate_merchants_orders_and_the_demo_merchant(space):
    team, default = space("team-a"), space(None)
    team.register("alipay", "2021000000000777")
    missing = team.call("POST", "/orders", json={"gateway": "alipay", "amount": 1})
    assert (missing.status_code, missing.json()["error"]["field"]) == (400, "merchant_id")
    assert "has no alipay demo merchant" in missing.json()["error"]["message"]
    elsewhere = team.call("POST", "/orders", json={"gateway": "alipay", "amount": 1, "merchant_id": APP})
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (404, "MERCHANT_NOT_FOUND")

    made = team.api("POST", "/orders", json={"gateway": "alipay", "amount": 1, "merchant_id": "2021000000000777"})
    assert [o["out_trade_no"] for o in team.api("GET", "/orders")["orders"]] == [made["out_trade_no"]]
    assert default.api("GET", "/orders")["orders"] == []

    [alipay, wechatpay, unionpay] = team.api("GET", "/gateways")["gateways"]
    assert alipay == {
        "gateway": "alipay",
        "methods": ["page", "wap", "precreate"],
        "default_method": "page",
        "demo_merchant_id": None,
        "merchants": ["2021000000000777"],
    }
    assert (wechatpay["merchants"], unionpay["demo_merchant_id"]) == ([], None)


def test_gateways_lists_each_gateways_methods_and_the_demo_merchants(space):
    answer = space(None).api("GET", "/gateways")
    assert answer == {
        "gateways": [
            {
                "gateway": "alipay",
                "methods": ["page", "wap", "precreate"],
                "default_method": "page",
                "demo_merchant_id": APP,
                "merchants": [APP],
            },
            {
                "gateway": "wechatpay",
                "methods": ["native", "jsapi", "h5"],
                "default_method": "native",
                "demo_merchant_id": MCHID,
                "merchants": [MCHID],
            },
            {
                "gateway": "unionpay",
                "methods": ["frontTrans", "appTrans"],
                "default_method": "frontTrans",
                "demo_merchant_id": MER_ID,
                "merchants": [MER_ID],
            },
        ]
    }
