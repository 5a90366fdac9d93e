"""What POST /_sandbox/orders/.../refund and .../close refuse: bad input is a 400 naming the field, an order in
the wrong state a 409 with the gateway's reason, an unknown order a 404, and another namespace's order is unknown."""

from __future__ import annotations

import pytest

from sandbox.core.money import MAX_AMOUNT
from tests.namespaced import HEADER, registration

MERCHANTS = {"alipay": "2021000000000001", "wechatpay": "1900000109", "unionpay": "777290058110097"}
NOTIFY = "http://127.0.0.1:9/notify"  # nothing listens: deliveries fail at once, and nothing here waits for them


def order(client, gateway: str, paid: bool = True, amount: int = 1000, headers: dict | None = None, **extra) -> str:
    body = {"gateway": gateway, "amount": amount, "notify_url": NOTIFY, **extra}
    if gateway == "unionpay":
        body["return_url"] = "http://127.0.0.1:9/back"
    made = client.post("/_sandbox/orders", json=body, headers=headers)
    assert made.status_code == 201, made.get_json()
    path = f"/_sandbox/orders/{gateway}/{made.get_json()['merchant_id']}/{made.get_json()['out_trade_no']}"
    if paid:
        assert client.post(path + "/pay", json={}, headers=headers).status_code == 200
    return path


def refused(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == code, error
    return error


BAD = [
    ("alipay", {"amount": 0}, "amount"),
    ("alipay", {"amount": -300}, "amount"),
    ("alipay", {"amount": "3.00"}, "amount"),
    ("wechatpay", {"amount": 2.5}, "amount"),
    ("wechatpay", {"amount": True}, "amount"),
    ("unionpay", {"amount": MAX_AMOUNT + 1}, "amount"),
    ("alipay", {"out_refund_no": "has space"}, "out_refund_no"),
    ("alipay", {"out_refund_no": "R" * 65}, "out_refund_no"),
    ("alipay", {"out_refund_no": 12345678}, "out_refund_no"),
    ("wechatpay", {"out_refund_no": "R#1"}, "out_refund_no"),
    ("wechatpay", {"out_refund_no": "R" * 65}, "out_refund_no"),
    ("unionpay", {"out_refund_no": "R1"}, "out_refund_no"),  # 8 to 40
    ("unionpay", {"out_refund_no": "QA-R-0001"}, "out_refund_no"),  # letters and digits only
    ("unionpay", {"reason": "broken"}, "reason"),  # ACP has no such field
    ("wechatpay", {"reason": "R" * 81}, "reason"),
    ("alipay", {"reason": "R" * 257}, "reason"),
    ("alipay", {"reason": ["broken"]}, "reason"),
    ("alipay", {"refund_amount": "3.00"}, "refund_amount"),
]


@pytest.mark.parametrize(("gateway", "body", "field"), BAD, ids=[f"{g}-{f}-{i}" for i, (g, _, f) in enumerate(BAD)])
def test_bad_input_is_a_400_naming_the_field(client, gateway, body, field):
    path = order(client, gateway)
    error = refused(client.post(path + "/refund", json=body), 400, "INVALID_PARAMETER")
    assert error["field"] == field and field.split("_")[0] in error["message"], error
    assert client.get(path).get_json()["refunds"] == []


def test_a_body_that_is_no_object_and_a_close_with_fields_are_400s(client):
    path = order(client, "alipay", paid=False)
    error = refused(
        client.post(path + "/refund", data="[300]", content_type="application/json"), 400, "INVALID_PARAMETER"
    )
    assert error["field"] == "body"
    error = refused(client.post(path + "/close", json={"reason": "x"}), 400, "INVALID_PARAMETER")
    assert error["field"] == "reason" and "no fields" in error["message"]
    error = refused(client.post("/_sandbox/orders/paypal/M/N/refund", json={}), 400, "INVALID_PARAMETER")
    assert error["field"] == "gateway"


@pytest.mark.parametrize("gateway", list(MERCHANTS))
def test_unknown_orders_are_404s(client, gateway):
    for action in ("refund", "close"):
        answer = client.post(f"/_sandbox/orders/{gateway}/{MERCHANTS[gateway]}/NO-SUCH-ORDER/{action}", json={})
        refused(answer, 404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize("gateway", list(MERCHANTS))
def test_state_conflicts_are_409s_with_the_gateway_s_reason(client, gateway):
    pending = order(client, gateway, paid=False)
    if gateway == "alipay":  # the buyer opens the cashier: Alipay has the trade, waiting for payment
        assert client.get(f"/cashier/alipay/{client.get(pending).get_json()['trade_no']}").status_code == 200
    error = refused(client.post(pending + "/refund", json={}), 409, "ORDER_NOT_PAID")
    assert error["message"].startswith(f"{gateway} refused it: ")

    paid = order(client, gateway)
    refused(client.post(paid + "/refund", json={"amount": 1001}), 409, "REFUND_EXCEEDS_PAID")
    number = {"out_refund_no": "QAR00001"}
    assert client.post(paid + "/refund", json={"amount": 600, **number}).status_code == 201
    refused(client.post(paid + "/refund", json={"amount": 500, **number}), 409, "REFUND_MISMATCH")
    refused(client.post(paid + "/refund", json={"amount": 401}), 409, "REFUND_EXCEEDS_PAID")
    assert client.post(paid + "/refund", json={}).get_json()["refund"]["amount"] == 400
    error = refused(client.post(paid + "/refund", json={}), 409, "REFUND_EXCEEDS_PAID")
    assert "nothing is left" in error["message"]
    code = {"alipay": "ORDER_ALREADY_PAID", "wechatpay": "ORDER_ALREADY_PAID", "unionpay": "UNSUPPORTED_BY_GATEWAY"}
    refused(client.post(paid + "/close"), 409, code[gateway])


def test_a_closed_alipay_order_is_not_refunded(client, sandbox):
    path = order(client, "alipay", paid=False, method="precreate")
    trade_no = client.get(path).get_json()["trade_no"]
    assert client.get(f"/cashier/alipay/qr/{trade_no}").status_code == 200  # the buyer scans: Alipay has the trade
    assert client.post(path + "/close").status_code == 200
    error = refused(client.post(path + "/refund", json={}), 409, "ORDER_CLOSED")
    assert "ACQ.TRADE_HAS_CLOSE" in error["message"]
    refused(client.post(path + "/close"), 409, "ORDER_CLOSED")


def test_an_order_is_refunded_and_closed_only_in_its_own_namespace(client):
    team = {HEADER: "team-a"}
    assert client.post("/_sandbox/namespaces", json={"name": "team-a"}).status_code == 201
    assert client.post("/_sandbox/merchants", json=registration("wechatpay", "1900000777"), headers=team).status_code
    paid = order(client, "wechatpay", headers=team, merchant_id="1900000777")
    pending = order(client, "wechatpay", paid=False, headers=team, merchant_id="1900000777")

    refused(client.post(paid + "/refund", json={}), 404, "ORDER_NOT_FOUND")  # the default namespace has none
    refused(client.post(pending + "/close"), 404, "ORDER_NOT_FOUND")
    elsewhere = {HEADER: "team-b"}
    refused(client.post(paid + "/refund", json={}, headers=elsewhere), 404, "NAMESPACE_NOT_FOUND")

    assert client.post(paid + "/refund", json={"amount": 100}, headers=team).status_code == 201
    assert client.post(pending + "/close", headers=team).get_json()["status"] == "closed"
    assert client.get("/_sandbox/orders").get_json()["orders"] == []
    assert client.get(paid, headers=team).get_json()["refunded_amount"] == 100
