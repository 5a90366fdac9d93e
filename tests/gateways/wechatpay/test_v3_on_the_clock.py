"""WeChat Pay v3 notifications and refunds on the sandbox clock: retries, acks, restarts. No sleeping."""

import json
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import requests
from wechatpayv3 import WeChatPay

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.gateways.wechatpay.adapter import RETRY_SCHEDULE
from sandbox.testing.server import ThreadedServer
from tests.conftest import wechatpayv3_client

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
MCHID = MERCHANT["merchant_id"]


def sdk(base_url: str, notify_url: str) -> WeChatPay:
    return wechatpayv3_client(base_url, notify_url)


@pytest.fixture
def wx(live, receiver, sandbox):
    sandbox.clock.set_mode("manual")
    return sdk(live.url, receiver.url + "/notify")


def pay(base_url: str, out_trade_no: str) -> None:
    answer = requests.post(f"{base_url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}/pay", json={}, timeout=5)
    assert answer.status_code == 200, answer.text


def notifications(base_url: str, out_trade_no: str) -> list[dict]:
    url = f"{base_url}/_sandbox/notifications?out_trade_no={out_trade_no}"
    return requests.get(url, timeout=5).json()["notifications"]


def test_a_merchant_that_never_acks_gets_wechats_whole_retry_schedule(wx, live, receiver, sandbox):
    receiver.reply('{"code":"FAIL","message":"失败"}', status=500)
    wx.pay(description="x", out_trade_no="WXC-0001", amount={"total": 1})
    pay(live.url, "WXC-0001")
    receiver.wait_for(1)
    sandbox.advance(2 * 86400)
    [record] = notifications(live.url, "WXC-0001")
    assert record["status"] == "failed"
    times = [datetime.fromisoformat(a["at"]) for a in record["attempts"]]
    assert [int((b - a).total_seconds()) for a, b in pairwise(times)] == list(RETRY_SCHEDULE)
    assert len(receiver.at("/notify")) == len(RETRY_SCHEDULE) + 1
    # Each attempt is signed afresh, and each still verifies.
    signatures = {r.headers["Wechatpay-Signature"] for r in receiver.at("/notify")}
    assert len(signatures) == len(RETRY_SCHEDULE) + 1
    assert all(wx.callback(r.headers, r.body) for r in receiver.at("/notify"))


def test_204_with_no_body_is_an_ack(wx, live, receiver):
    receiver.reply("", status=204)
    wx.pay(description="x", out_trade_no="WXC-0002", amount={"total": 1})
    pay(live.url, "WXC-0002")
    receiver.wait_for(1)
    requests.post(f"{live.url}/_sandbox/notifications/flush", timeout=5)
    assert notifications(live.url, "WXC-0002")[0]["status"] == "delivered"


def test_a_refund_is_processing_until_the_clock_reaches_it(wx, live, receiver, sandbox):
    wx.pay(description="x", out_trade_no="WXC-0003", amount={"total": 100})
    pay(live.url, "WXC-0003")
    code, body = wx.refund(
        out_refund_no="WXC-0003-R1", amount={"refund": 40, "total": 100, "currency": "CNY"}, out_trade_no="WXC-0003"
    )
    assert (code, json.loads(body)["status"]) == (200, "PROCESSING")
    sandbox.advance(4)
    assert json.loads(wx.query_refund(out_refund_no="WXC-0003-R1")[1])["status"] == "PROCESSING"
    sandbox.advance(1)
    assert json.loads(wx.query_refund(out_refund_no="WXC-0003-R1")[1])["status"] == "SUCCESS"
    events = [wx.callback(r.headers, r.body)["event_type"] for r in receiver.wait_for(2)]
    assert events == ["TRANSACTION.SUCCESS", "REFUND.SUCCESS"]
    assert json.loads(wx.query(out_trade_no="WXC-0003")[1])["trade_state"] == "REFUND"


def test_a_pending_refund_survives_a_restart(tmp_path, receiver):
    data = str(tmp_path / "state.json")
    first = create_app(Config(data_path=data, clock_mode="manual"))
    with ThreadedServer(first) as server:
        wx = sdk(server.url, receiver.url + "/notify")
        wx.pay(description="x", out_trade_no="WXC-0004", amount={"total": 100})
        pay(server.url, "WXC-0004")
        wx.refund(
            out_refund_no="WXC-0004-R1",
            amount={"refund": 100, "total": 100, "currency": "CNY"},
            out_trade_no="WXC-0004",
        )
    first.extensions["paysandbox"].stop()
    second = create_app(Config(data_path=data, clock_mode="manual"))
    with ThreadedServer(second) as server:
        second.extensions["paysandbox"].advance(5)
        order = requests.get(f"{server.url}/_sandbox/orders/wechatpay/{MCHID}/WXC-0004", timeout=5).json()
        assert order["status"] == "refunded"
        assert order["refunds"][0]["status"] == "success"
        events = [r["event"] for r in order["notifications"]]
        assert events == ["TRANSACTION.SUCCESS", "REFUND.SUCCESS"]
    second.extensions["paysandbox"].stop()


def test_time_expire_closes_an_unpaid_order_silently(wx, live, receiver, sandbox):
    expire = (sandbox.clock.now() + timedelta(minutes=10)).isoformat(timespec="seconds")
    wx.pay(description="x", out_trade_no="WXC-0005", amount={"total": 1}, time_expire=expire)
    sandbox.advance(599)
    assert json.loads(wx.query(out_trade_no="WXC-0005")[1])["trade_state"] == "NOTPAY"
    sandbox.advance(1)
    assert json.loads(wx.query(out_trade_no="WXC-0005")[1])["trade_state"] == "CLOSED"
    assert notifications(live.url, "WXC-0005") == []  # WeChat does not notify closes


def test_an_order_without_time_expire_closes_after_two_hours(wx, sandbox):
    wx.pay(description="x", out_trade_no="WXC-0006", amount={"total": 1})
    sandbox.advance(2 * 3600)
    assert json.loads(wx.query(out_trade_no="WXC-0006")[1])["trade_state"] == "CLOSED"
