"""WeChat Pay v3 probe traffic (签名探测): notifications and answers whose Wechatpay-Signature starts
`WECHATPAY/SIGNTEST/`, which a merchant that verifies refuses.

`notify: {"probe": N}` sends N probe copies of a notification, each once, before the genuine one (which is sent
and retried as usual); each probe's record says whether the merchant rightly refused it. `api: {"body": "probe"}`
signs an answer so. A rule must name the gateway: only WeChat Pay probes, and only in API v3.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

import pytest
from wechatpy.pay import WeChatPay as WeChatPayV2

from sandbox.cli.notifications import render_notification
from sandbox.gateways.wechatpay.adapter import RETRY_SCHEDULE
from sandbox.merchant.wechatpay import WechatPaySignatureError
from sandbox.testing.receiver import Received, Reply
from tests.conftest import WECHAT_MERCHANT, wechatpayv3_client
from tests.gateways.wechatpay.test_v3_bad_input import authorization
from tests.merchant.test_wechatpay_client import make_client

MCHID = WECHAT_MERCHANT["merchant_id"]
PREFIX = "WECHATPAY/SIGNTEST/"
WECHATPAY = {"gateway": "wechatpay"}


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


@pytest.fixture
def wx(live, receiver):
    return wechatpayv3_client(live.url, f"{receiver.url}/notify")


@pytest.fixture
def paid(wx, live, http):
    """paid(out_trade_no): a v3 order created by the SDK and paid by the buyer; its notifications follow."""

    def pay(out_trade_no: str) -> None:
        code, text = wx.pay(description="probe", out_trade_no=out_trade_no, amount={"total": 100})
        assert code == 200, text
        reply = http.post(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/{out_trade_no}/pay", json={})
        assert reply.status_code == 200, reply.text

    return pay


@pytest.fixture
def records(live, http, sandbox):
    """records(out_trade_no): its notification records once every attempt made so far is recorded."""

    def get(out_trade_no: str) -> list[dict]:
        sandbox.advance(0)  # waits for attempts on their way
        reply = http.get(f"{live.url}/_sandbox/notifications", params={"out_trade_no": out_trade_no})
        return reply.json()["notifications"]

    return get


def verifying(wx):
    """A merchant's notify handler that verifies: 200 for a notification that verifies, 401 for anything else."""

    def answer(received: Received) -> Reply:
        ok = wx.callback(received.headers, received.body) is not None
        return Reply(200, "") if ok else Reply(401, '{"code":"FAIL","message":"签名错误"}')

    return answer


def probes_and_genuine(found: list[dict]) -> tuple[list[dict], dict]:
    [genuine] = [r for r in found if r["probe"] is None]
    return [r for r in found if r["probe"] is not None], genuine


# -- notifications -----------------------------------------------------------------------------------------


def test_a_verifying_merchant_refuses_the_probe_and_takes_the_genuine_notification(
    wx, rule, paid, receiver, records, sandbox
):
    receiver.reply(verifying(wx))
    scenario = rule(match=WECHATPAY, times=1, notify={"probe": 1})
    paid("PRB-N-1")
    probe_copy, genuine_copy = receiver.wait_for(2)
    assert probe_copy.headers["Wechatpay-Signature"].startswith(PREFIX)
    assert probe_copy.body == genuine_copy.body  # a copy of the real thing: only the signature tells them apart
    assert wx.callback(genuine_copy.headers, genuine_copy.body)["resource"]["out_trade_no"] == "PRB-N-1"

    [probe], genuine = probes_and_genuine(records("PRB-N-1"))
    assert (probe["probe"], probe["status"]) == ("rightly_refused", "failed")
    [attempt] = probe["attempts"]
    assert (attempt["http_status"], attempt["acked"], attempt["rule"]) == (401, False, scenario["id"])
    assert attempt["effect"].startswith("probe 1 of 1: Wechatpay-Signature WECHATPAY/SIGNTEST/")
    assert (genuine["status"], genuine["probe"]) == ("delivered", None)

    sandbox.advance(sum(RETRY_SCHEDULE))  # a refused probe is not tried again
    assert len(receiver.at("/notify")) == 2
    assert re.search(r"^probe\s+rightly_refused$", render_notification(probe), re.M)  # paysandbox notifications show


def test_a_merchant_that_accepts_anything_wrongly_accepted_the_probe(rule, paid, receiver, records):
    rule(match=WECHATPAY, times=1, notify={"probe": 2})
    paid("PRB-N-2")
    first, second, genuine_copy = receiver.wait_for(3)
    assert [r.headers["Wechatpay-Signature"][: len(PREFIX)] for r in (first, second)] == [PREFIX, PREFIX]
    assert not genuine_copy.headers["Wechatpay-Signature"].startswith(PREFIX)
    probes, genuine = probes_and_genuine(records("PRB-N-2"))
    assert [(p["probe"], p["status"]) for p in probes] == [("wrongly_accepted", "delivered")] * 2
    assert genuine["status"] == "delivered"


def test_a_merchant_refusing_everything_refused_the_probe_and_the_genuine_notification_is_retried(
    rule, paid, receiver, records, sandbox
):
    receiver.reply('{"code":"FAIL","message":"失败"}', status=400)
    rule(match=WECHATPAY, times=1, notify={"probe": 1})
    paid("PRB-N-3")
    receiver.wait_for(2)
    [probe], genuine = probes_and_genuine(records("PRB-N-3"))
    assert probe["probe"] == "rightly_refused"
    assert (genuine["status"], len(genuine["attempts"])) == ("pending", 1)
    sandbox.advance(RETRY_SCHEDULE[0])
    [probe], genuine = probes_and_genuine(records("PRB-N-3"))
    assert (len(probe["attempts"]), len(genuine["attempts"])) == (1, 2)


def test_probes_keep_the_rules_delay(rule, paid, receiver, records, sandbox):
    rule(match=WECHATPAY, times=1, notify={"probe": 1, "delay": 600})
    paid("PRB-N-4")
    sandbox.advance(599)
    assert receiver.at("/notify") == []
    sandbox.advance(1)
    probe_copy, _ = receiver.wait_for(2)
    assert probe_copy.headers["Wechatpay-Signature"].startswith(PREFIX)
    assert {r["probe"] for r in records("PRB-N-4")} == {"wrongly_accepted", None}


def test_wechatpayv3_and_the_reference_client_refuse_a_probe_notification_without_crashing(
    wx, live, rule, paid, receiver
):
    rule(match=WECHATPAY, times=1, notify={"probe": 1})
    paid("PRB-N-5")
    probe_copy, genuine_copy = receiver.wait_for(2)
    assert wx.callback(probe_copy.headers, probe_copy.body) is None
    merchant = make_client(live.url, "public_key")
    with pytest.raises(WechatPaySignatureError, match="signature probe"):
        merchant.parse_notification(probe_copy.headers, probe_copy.body)
    assert merchant.parse_notification(genuine_copy.headers, genuine_copy.body)["resource"]["out_trade_no"] == "PRB-N-5"


def test_an_api_v2_notification_has_no_probe_copy_and_says_why(live, rule, receiver, records, http):
    client = WeChatPayV2(appid=WECHAT_MERCHANT["appid"], api_key=WECHAT_MERCHANT["api_key"], mch_id=MCHID)
    client.API_BASE_URL = live.url + "/"
    client.order.create("NATIVE", "v2", 100, f"{receiver.url}/v2", out_trade_no="PRB-V2-1", product_id="p")
    rule(match=WECHATPAY, times=1, notify={"probe": 1})
    assert http.post(f"{live.url}/_sandbox/orders/wechatpay/{MCHID}/PRB-V2-1/pay", json={}).status_code == 200
    receiver.wait_for(1, path="/v2")
    [record] = records("PRB-V2-1")
    assert record["probe"] is None
    assert "probe: none sent, WeChat Pay API v2 has no probe traffic" in record["attempts"][0]["effect"]


# -- answers -----------------------------------------------------------------------------------------------


def test_wechatpayv3_reports_a_probe_signed_answer_as_a_verification_failure(wx, live, rule, http):
    assert wx.pay(description="x", out_trade_no="PRB-A-1", amount={"total": 1})[0] == 200
    rule(match={**WECHATPAY, "operation": "transactions.query"}, times=1, api={"body": "probe"})
    with pytest.raises(Exception, match="failed to verify the signature"):
        wx.query(out_trade_no="PRB-A-1")
    assert json.loads(wx.query(out_trade_no="PRB-A-1")[1])["trade_state"] == "NOTPAY"  # the rule is spent


def test_a_probe_signed_answer_carries_no_base64_signature(wx, live, rule, http):
    assert wx.pay(description="x", out_trade_no="PRB-A-2", amount={"total": 1})[0] == 200
    rule(match=WECHATPAY, times=1, api={"body": "probe"})
    url = f"/v3/pay/transactions/out-trade-no/PRB-A-2?mchid={MCHID}"
    reply = http.get(live.url + url, headers={"Authorization": authorization("GET", url, b"")})
    assert reply.status_code == 200 and reply.json()["out_trade_no"] == "PRB-A-2"
    signature = reply.headers["Wechatpay-Signature"]
    assert signature.startswith(PREFIX)
    with pytest.raises(binascii.Error):
        base64.b64decode(signature, validate=True)


def test_an_api_v2_answer_is_left_as_it_is(live, rule):
    client = WeChatPayV2(appid=WECHAT_MERCHANT["appid"], api_key=WECHAT_MERCHANT["api_key"], mch_id=MCHID)
    client.API_BASE_URL = live.url + "/"
    client.order.create("NATIVE", "v2", 100, "http://127.0.0.1:9/v2", out_trade_no="PRB-V2-2", product_id="p")
    rule(match={**WECHATPAY, "operation": "pay/orderquery"}, times=1, api={"body": "probe"})
    assert client.order.query(out_trade_no="PRB-V2-2")["trade_state"] == "NOTPAY"  # wechatpy verified its sign


# -- parsing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_body", "field"),
    [
        ({"notify": {"probe": 1}}, "notify.probe"),
        ({"match": {"gateway": "alipay"}, "notify": {"probe": 1}}, "notify.probe"),
        ({"match": {"gateway": "unionpay"}, "api": {"body": "probe"}}, "api.body"),
        ({"match": WECHATPAY, "notify": {"probe": 21}}, "notify.probe"),
        ({"match": WECHATPAY, "notify": {"probe": "yes"}}, "notify.probe"),
    ],
)
def test_a_probe_rule_that_cannot_be_honoured_is_refused_naming_the_key(client, rule_body, field):
    answer = client.post("/_sandbox/scenarios", json=rule_body)
    assert answer.status_code == 400, answer.get_json()
    message = answer.get_json()["error"]["message"]
    assert message.startswith(field)


def test_a_probe_rule_for_wechatpay_is_taken(client):
    answer = client.post(
        "/_sandbox/scenarios", json={"match": WECHATPAY, "notify": {"probe": 2}, "api": {"body": "probe"}}
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["scenario"]["notify"] == {"probe": 2}
