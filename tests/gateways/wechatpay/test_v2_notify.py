"""v2 notifications on the sandbox clock: what is sent, with which key, and which merchant replies acknowledge it.

The app runs in-process (no dispatcher thread), so nothing is delivered until a test advances the clock;
requests are written with wechatpy's own helpers, notifications are read with wechatpy's own parsers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmltodict
from wechatpy.crypto import WeChatRefundCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from sandbox.gateways.wechatpay.adapter import RETRY_SCHEDULE
from sandbox.gateways.wechatpay.v2 import codec, notify

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
MCH_ID, APPID, API_KEY = MERCHANT["merchant_id"], MERCHANT["appid"], MERCHANT["api_key"]
SANDBOX_KEY = codec.sandbox_key(API_KEY)
ACK = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"


@pytest.fixture
def manual(sandbox):
    sandbox.clock.set_mode("manual")
    return sandbox


@pytest.fixture
def call(client):
    """call(endpoint, fields, sandbox_mode=False): POST wechatpy-written XML, answer the parsed reply."""

    def post(endpoint: str, fields: dict, sandbox_mode: bool = False) -> dict:
        fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "N" * 32, **fields}
        key = SANDBOX_KEY if sandbox_mode else API_KEY
        body = dict_to_xml(fields, calculate_signature(fields, key)).encode()
        reply = client.post(("/sandboxnew/" if sandbox_mode else "/") + endpoint, data=body)
        data = dict(xmltodict.parse(reply.get_data(as_text=True))["xml"])
        assert data["return_code"] == "SUCCESS", data
        return data

    return post


def order(call, receiver, out_trade_no: str, sandbox_mode: bool = False, path: str = "/n") -> dict:
    fields = {
        "body": "测试",
        "out_trade_no": out_trade_no,
        "total_fee": "100",
        "spbill_create_ip": "127.0.0.1",
        "notify_url": f"{receiver.url}{path}",
        "trade_type": "APP",
    }
    return call("pay/unifiedorder", fields, sandbox_mode)


def pay_order(client, out_trade_no: str) -> None:
    assert client.post(f"/_sandbox/orders/wechatpay/{MCH_ID}/{out_trade_no}/pay", json={}).status_code == 200


# -- acks -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "acked"),
    [
        (ACK, 200, True),
        ("<xml><return_code>SUCCESS</return_code></xml>", 200, True),
        ("<xml>\n<return_code> SUCCESS </return_code>\n</xml>", 200, True),
        (ACK, 500, False),
        ("success", 200, False),
        ("", 200, False),
        ("<xml><return_code><![CDATA[FAIL]]></return_code><return_msg>busy</return_msg></xml>", 200, False),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "SUCCESS">]><xml><return_code>&a;</return_code></xml>',
            200,
            False,
        ),
        ('{"return_code": "SUCCESS"}', 200, False),
    ],
    ids=["cdata", "bare", "spaces", "http-500", "text", "empty", "fail", "entity", "json"],
)
def test_only_xml_with_return_code_success_acknowledges(client, manual, receiver, call, body, status, acked):
    receiver.reply(body, status)
    order(call, receiver, "V2-ACK-0001")
    pay_order(client, "V2-ACK-0001")
    [record] = manual.advance(0)
    assert record.attempt_list[-1].acked is acked
    assert record.status == ("delivered" if acked else "pending")


def test_is_ack_never_raises_on_hostile_replies():
    lol = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><x>&b;</x></xml>'
    for body in (
        lol,
        "\udcff",
        "<xml>" * 10_000,
        "<" * 100_000,
        "<xml><return_code>SUCCESS</return_code>" + "x" * 70_000,
    ):
        assert notify.is_ack(200, body) is False


def test_unacknowledged_notifications_are_retried_on_wechats_schedule_with_the_same_body(
    client, manual, receiver, call
):
    receiver.reply("<xml><return_code>FAIL</return_code></xml>")
    order(call, receiver, "V2-RETRY-01")
    pay_order(client, "V2-RETRY-01")
    assert len(manual.advance(0)) == 1
    assert manual.advance(RETRY_SCHEDULE[0] - 1) == []
    assert len(manual.advance(1)) == 1
    receiver.reply(ACK)
    [record] = manual.advance(RETRY_SCHEDULE[1])
    assert record.status == "delivered" and len(record.attempts) == 3
    bodies = {r.body for r in receiver.wait_for(3, path="/n")}
    assert len(bodies) == 1


def test_the_notification_record_is_text_xml_and_v2(client, manual, receiver, call, sandbox):
    order(call, receiver, "V2-RECORD-1")
    pay_order(client, "V2-RECORD-1")
    [record] = sandbox.outbox.list("wechatpay", MCH_ID, "V2-RECORD-1")
    assert (record.event, record.meta, record.headers) == (
        "TRANSACTION.SUCCESS",
        {"api": "v2"},
        {"Content-Type": "text/xml"},
    )
    manual.advance(0)
    [message] = receiver.wait_for(1, path="/n")
    assert message.headers["Content-Type"] == "text/xml"
    data = WeChatPay(APPID, API_KEY, MCH_ID).parse_payment_result(message.body.decode())
    assert data["out_trade_no"] == "V2-RECORD-1" and data["total_fee"] == 100


# -- keys ---------------------------------------------------------------------------------------------------


def test_orders_made_in_sandbox_mode_are_notified_with_the_sandbox_key(client, manual, receiver, call):
    order(call, receiver, "V2-SBXKEY-1", sandbox_mode=True)
    pay_order(client, "V2-SBXKEY-1")
    call(
        "pay/refund",
        {"out_trade_no": "V2-SBXKEY-1", "out_refund_no": "V2-SBXKEY-R", "total_fee": "100", "refund_fee": "40"},
        sandbox_mode=True,
    )
    manual.advance(5)
    [payment, refund] = receiver.wait_for(2, path="/n")
    with pytest.raises(InvalidSignatureException):
        WeChatPay(APPID, API_KEY, MCH_ID).parse_payment_result(payment.body.decode())
    fields = dict(xmltodict.parse(payment.body.decode())["xml"])
    assert fields.pop("sign") == calculate_signature(fields, SANDBOX_KEY)
    note = WeChatRefundCrypto(SANDBOX_KEY).decrypt_message(refund.body.decode(), APPID, MCH_ID)
    assert (note["out_refund_no"], note["refund_fee"], note["refund_status"]) == ("V2-SBXKEY-R", "40", "SUCCESS")
    assert note["refund_request_source"] == "API" and note["refund_account"] == "REFUND_SOURCE_UNSETTLED_FUNDS"


def test_the_refund_notify_url_of_the_refund_wins(client, manual, receiver, call):
    order(call, receiver, "V2-RURL-001")
    pay_order(client, "V2-RURL-001")
    refund = {"out_trade_no": "V2-RURL-001", "total_fee": "100", "refund_fee": "10"}
    call("secapi/pay/refund", {**refund, "out_refund_no": "V2-RURL-A", "notify_url": f"{receiver.url}/r"})
    call("secapi/pay/refund", {**refund, "out_refund_no": "V2-RURL-B"})
    manual.advance(5)
    assert len(receiver.wait_for(1, path="/r")) == 1
    assert len(receiver.wait_for(2, path="/n")) == 2  # the payment, then refund B at the order's notify_url


# -- silence ------------------------------------------------------------------------------------------------


def test_closes_declines_and_payment_codes_are_not_notified(client, manual, receiver, call, sandbox):
    order(call, receiver, "V2-QUIET-01")
    call("pay/closeorder", {"out_trade_no": "V2-QUIET-01"})
    fields = {"body": "x", "total_fee": "1", "spbill_create_ip": "127.0.0.1"}
    call("pay/micropay", {**fields, "out_trade_no": "V2-QUIET-02", "auth_code": "130000000000000020"})
    call("pay/micropay", {**fields, "out_trade_no": "V2-QUIET-03", "auth_code": "134567890123456789"})
    assert manual.advance(60) == []
    assert sandbox.outbox.list("wechatpay") == []
