"""wechatpayv3 (API v3) and wechatpy (API v2), unmodified but for their base URL, for merchants in two namespaces:
each call reaches the namespace of the mchid it names (in the Authorization header, or the XML's mch_id)."""

from __future__ import annotations

import json

import pytest
from wechatpayv3 import WeChatPay
from wechatpy.pay import WeChatPay as WeChatPayV2

from tests.conftest import WECHAT_MERCHANT, wechatpayv3_client

MCHID, APPID = WECHAT_MERCHANT["merchant_id"], WECHAT_MERCHANT["appid"]
MCHID_A = "1900000201"


@pytest.fixture
def team(space):
    team = space("team-a")
    team.register("wechatpay", MCHID_A)
    return team


@pytest.fixture
def wx(live, receiver) -> WeChatPay:
    """wechatpayv3 as the demo merchant (the default namespace's)."""
    return wechatpayv3_client(live.url, f"{receiver.url}/wx")


@pytest.fixture
def team_wx(team, live, receiver) -> WeChatPay:
    """wechatpayv3 as team-a's merchant: the demo merchant's keys under another mchid."""
    return wechatpayv3_client(live.url, f"{receiver.url}/team", mchid=MCHID_A)


def ok(answer: tuple) -> dict:
    status, text = answer
    assert 200 <= status < 300, text
    return json.loads(text) if text else {}


def prepay(client: WeChatPay, total: int) -> None:
    ok(client.pay(description="Tea", out_trade_no="SAME-1", amount={"total": total}))


def test_each_mchid_s_v3_calls_reach_its_own_namespace(wx, team_wx, team, space):
    prepay(wx, 100)
    prepay(team_wx, 200)  # the same out_trade_no: another namespace, another order

    team.api("POST", f"/orders/wechatpay/{MCHID_A}/SAME-1/pay", json={})

    mine = ok(team_wx.query(out_trade_no="SAME-1"))
    assert (mine["trade_state"], mine["amount"]["total"], mine["mchid"]) == ("SUCCESS", 200, MCHID_A)
    assert ok(wx.query(out_trade_no="SAME-1"))["trade_state"] == "NOTPAY"
    assert [o["amount"] for o in team.api("GET", "/orders")["orders"]] == [200]
    assert [o["amount"] for o in space().api("GET", "/orders")["orders"]] == [100]


def test_a_v3_refund_names_its_merchant_only_in_the_authorization_header_and_finds_its_namespace(team_wx, team):
    prepay(team_wx, 200)
    team.api("POST", f"/orders/wechatpay/{MCHID_A}/SAME-1/pay", json={})

    refund = ok(
        team_wx.refund(
            out_refund_no="R-1", amount={"refund": 50, "total": 200, "currency": "CNY"}, out_trade_no="SAME-1"
        )
    )

    assert refund["out_trade_no"] == "SAME-1"
    assert team.api("GET", f"/orders/wechatpay/{MCHID_A}/SAME-1")["refunds"][0]["amount"] == 50


def test_a_namespace_s_v3_notification_is_built_and_sent_for_its_own_merchant(team_wx, team, receiver):
    prepay(team_wx, 200)

    team.api("POST", f"/orders/wechatpay/{MCHID_A}/SAME-1/pay", json={})

    [received] = receiver.wait_for(1, path="/team")
    resource = team_wx.callback(received.headers, received.body.decode())["resource"]  # the SDK verifies, decrypts
    assert (resource["mchid"], resource["out_trade_no"], resource["trade_state"]) == (MCHID_A, "SAME-1", "SUCCESS")


def test_v2_calls_find_their_namespace_by_the_mch_id_in_the_xml(live, team, space):
    def v2(mch_id: str) -> WeChatPayV2:
        client = WeChatPayV2(appid=APPID, api_key=WECHAT_MERCHANT["api_key"], mch_id=mch_id, timeout=10)
        client.API_BASE_URL = live.url + "/"  # the only change to the SDK
        return client

    for mch_id, total in ((MCHID, 100), (MCHID_A, 300)):
        v2(mch_id).order.create(
            "NATIVE", "Tea", total, "http://127.0.0.1:9/unused", out_trade_no="SAME-1", product_id="SKU-1"
        )

    assert v2(MCHID_A).order.query(out_trade_no="SAME-1")["total_fee"] == "300"
    assert v2(MCHID).order.query(out_trade_no="SAME-1")["total_fee"] == "100"
    assert [o["merchant_id"] for o in team.api("GET", "/orders")["orders"]] == [MCHID_A]
    assert [o["merchant_id"] for o in space().api("GET", "/orders")["orders"]] == [MCHID]


def test_api_faults_of_one_namespace_leave_the_other_s_calls_alone(wx, team_wx, team):
    team.api("POST", "/scenarios", json={"match": {"gateway": "wechatpay"}, "api": {"error": "SYSTEM_ERROR"}})

    status, text = team_wx.pay(description="Tea", out_trade_no="SAME-1", amount={"total": 200})

    assert (status, json.loads(text)["code"]) == (500, "SYSTEM_ERROR")
    prepay(wx, 100)
