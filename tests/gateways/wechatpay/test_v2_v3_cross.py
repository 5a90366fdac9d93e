"""One merchant, one set of orders: what API v2 (wechatpy) makes, API v3 (wechatpayv3) sees, and the reverse.

wechatpayv3 runs in public-key mode (docs/protocols/wechatpay-v3.md#sdk-quirks), so its constructor makes no
network call; its 2xx answers have passed its own signature check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from wechatpayv3 import WeChatPay as V3Pay
from wechatpy.pay import WeChatPay as V2Pay

from tests.conftest import wechatpayv3_client

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
MCH_ID, APPID = MERCHANT["merchant_id"], MERCHANT["appid"]


@pytest.fixture
def v2(live) -> V2Pay:
    client = V2Pay(appid=APPID, api_key=MERCHANT["api_key"], mch_id=MCH_ID, timeout=10)
    client.API_BASE_URL = live.url + "/"
    return client


@pytest.fixture
def v3(live, receiver) -> V3Pay:
    return wechatpayv3_client(live.url, receiver.url + "/notify")


def ok(answer: tuple) -> dict:
    status, text = answer
    assert status == 200, text
    return json.loads(text)


def buyer_pays(live, out_trade_no: str) -> None:
    session = requests.Session()
    session.trust_env = False
    reply = session.post(f"{live.url}/_sandbox/orders/wechatpay/{MCH_ID}/{out_trade_no}/pay", json={}, timeout=5)
    assert reply.status_code == 200, reply.text


def test_an_order_made_with_v2_is_queried_with_v3(v2, v3, live):
    v2.order.create(
        "NATIVE",
        "跨版本",
        321,
        "http://127.0.0.1:9/v2",
        client_ip="127.0.0.1",
        out_trade_no="CROSS-V2-01",
        product_id="SKU-1",
        attach="from v2",
    )
    unpaid = ok(v3.query(out_trade_no="CROSS-V2-01"))
    assert (unpaid["trade_state"], unpaid["trade_type"], unpaid["appid"]) == ("NOTPAY", "NATIVE", APPID)
    assert (unpaid["amount"]["total"], unpaid["attach"]) == (321, "from v2")
    buyer_pays(live, "CROSS-V2-01")
    paid_v2 = v2.order.query(out_trade_no="CROSS-V2-01")
    paid_v3 = ok(v3.query(transaction_id=paid_v2["transaction_id"]))
    assert (paid_v3["trade_state"], paid_v3["out_trade_no"]) == ("SUCCESS", "CROSS-V2-01")
    assert paid_v3["payer"]["openid"] == paid_v2["openid"]


def test_an_order_made_with_v3_is_queried_and_refunded_with_v2(v2, v3, live):
    ok(v3.pay(description="跨版本", out_trade_no="CROSS-V3-01", amount={"total": 500}))
    unpaid = v2.order.query(out_trade_no="CROSS-V3-01")
    assert (unpaid["trade_state"], unpaid["trade_type"], unpaid["total_fee"]) == ("NOTPAY", "NATIVE", "500")
    buyer_pays(live, "CROSS-V3-01")
    assert v2.order.query(out_trade_no="CROSS-V3-01")["trade_state"] == "SUCCESS"

    v2.refund.apply(500, 120, "CROSS-V3-R1", out_trade_no="CROSS-V3-01")
    seen_by_v3 = ok(v3.query_refund(out_refund_no="CROSS-V3-R1"))
    assert (seen_by_v3["status"], seen_by_v3["amount"]["refund"]) == ("PROCESSING", 120)
    ok(
        v3.refund(
            out_refund_no="CROSS-V3-R2",
            amount={"refund": 80, "total": 500, "currency": "CNY"},
            out_trade_no="CROSS-V3-01",
        )
    )
    both = v2.refund.query(out_trade_no="CROSS-V3-01")
    assert both["refund_count"] == "2"
    assert {both["out_refund_no_0"], both["out_refund_no_1"]} == {"CROSS-V3-R1", "CROSS-V3-R2"}
