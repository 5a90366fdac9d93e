"""GET /_sandbox/orders/.../timeline over real HTTP: an order's life and every notification attempt with the exact
request the merchant received, on both stores."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sandbox.config import Config
from tests.conftest import WECHAT_MERCHANT, wechatpayv3_client

APP = "2021000000000001"
MCHID = WECHAT_MERCHANT["merchant_id"]


@pytest.fixture(params=["tiny", "postgres"])
def config(request) -> Config:
    if request.param == "tiny":
        return Config(seed=1234)
    return Config(seed=1234, data_path=request.getfixturevalue("postgres_url"))


def advance(control, seconds: int) -> None:
    control("POST", "/clock/advance", {"seconds": seconds})


def at(event: dict) -> datetime:
    return datetime.fromisoformat(event["at"])


def sent(event: dict) -> tuple[str, str]:
    return event["request"]["url"], event["request"]["body"]


def test_a_paid_refunded_notified_order_lists_its_events_in_order_with_the_exact_requests(
    live, http, control, receiver, alipay_client, rule
):
    notify = f"{receiver.url}/notify"
    alipay_client.precreate("TL-1", 990, "Coffee", notify_url=notify)
    trade_no = control("GET", f"/orders/alipay/{APP}/TL-1")["trade_no"]
    advance(control, 5)
    assert http.get(f"{live.url}/cashier/alipay/qr/{trade_no}", timeout=10).status_code == 200  # the buyer scans
    http.get(f"{live.url}/cashier/alipay/qr/{trade_no}", timeout=10)  # again: only the first opening is kept
    rule(match={"out_trade_no": "TL-1"}, times=1, notify={"drop": 1})
    advance(control, 5)
    control("POST", f"/orders/alipay/{APP}/TL-1/pay", {"outcome": "success"})
    advance(control, 240)  # the lost first attempt is retried on Alipay's schedule
    [notification] = control("GET", "/notifications?out_trade_no=TL-1")["notifications"]
    advance(control, 10)
    control("POST", f"/notifications/{notification['id']}/replay")
    advance(control, 10)
    assert alipay_client.refund("TL-1", 300, "TL-1-R1")["fund_change"] == "Y"
    control("POST", "/notifications/flush")
    received = receiver.wait_for(3)

    answer = control("GET", f"/orders/alipay/{APP}/TL-1/timeline")

    assert answer["order"] == control("GET", f"/orders/alipay/{APP}/TL-1")
    events = answer["events"]
    kinds = [(e["kind"], e.get("trigger")) for e in events]
    assert kinds == [
        ("created", None),
        ("page_opened", None),
        ("paid", None),
        ("notification_attempt", "schedule"),  # lost
        ("notification_attempt", "schedule"),
        ("notification_attempt", "replay"),
        ("refund", None),
        ("notification_attempt", "schedule"),
    ]
    times = [e["at"] for e in events]
    assert times == sorted(times) and len(set(times)) == 6
    created, opened, paid, lost, retry, replay, refund, refund_notice = events
    assert (created["product"], created["amount"], paid["amount"]) == ("precreate", 990, 990)
    assert at(opened) - at(created) == timedelta(seconds=5)
    assert lost["request"] is None and lost["effect"] == "lost" and lost["rule"]
    assert (refund["out_refund_no"], refund["amount"], refund["status"]) == ("TL-1-R1", 300, "success")
    # The exact requests, as the merchant got them, in order.
    assert [sent(e) for e in (retry, replay, refund_notice)] == [(notify, r.text) for r in received]
    assert all(e["request"]["method"] == "POST" for e in (retry, replay, refund_notice))
    assert retry["request"]["headers"] == {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert alipay_client.verify_notification(dict(received[0].form))["trade_status"] == "TRADE_SUCCESS"
    assert (retry["http_status"], retry["response_body"], retry["acked"]) == (200, "success", True)
    assert refund_notice["notification_id"] != notification["id"] and refund_notice["event"] == "TRADE_SUCCESS"
    assert all(e["title"] for e in events)


def test_wechat_pay_attempts_carry_the_headers_each_was_signed_with_and_a_pending_one_its_next_attempt(
    live, control, receiver, sandbox
):
    receiver.reply("busy", status=500)
    wx = wechatpayv3_client(live.url, f"{receiver.url}/wx")
    assert wx.pay(description="timeline", out_trade_no="TL-WX-1", amount={"total": 500})[0] == 200
    control("POST", f"/orders/wechatpay/{MCHID}/TL-WX-1/pay")
    advance(control, 15)  # the first retry: WeChat signs each attempt afresh
    first, second = receiver.wait_for(2)

    events = control("GET", f"/orders/wechatpay/{MCHID}/TL-WX-1/timeline")["events"]

    attempts = [e for e in events if e["kind"] == "notification_attempt"]
    assert [(e["attempt"], e["http_status"], e["acked"]) for e in attempts] == [(1, 500, False), (2, 500, False)]
    for event, got in zip(attempts, (first, second), strict=True):
        assert event["request"]["body"] == got.text
        received = {name.lower(): value for name, value in got.headers.items()}
        assert {k.lower(): v for k, v in event["request"]["headers"].items()}.items() <= received.items()
        assert wx.callback(event["request"]["headers"], event["request"]["body"])  # verifies as sent
    assert attempts[0]["request"]["headers"]["Wechatpay-Nonce"] != attempts[1]["request"]["headers"]["Wechatpay-Nonce"]
    scheduled = events[-1]
    assert (scheduled["kind"], scheduled["attempt"]) == ("notification_scheduled", 3)
    assert scheduled["at"] == scheduled["next_attempt_at"] > attempts[1]["at"]


def test_a_pending_refund_settles_and_a_close_says_who_closed(live, control, receiver, sandbox):
    wx = wechatpayv3_client(live.url, f"{receiver.url}/wx")
    wx.pay(description="timeline", out_trade_no="TL-WX-2", amount={"total": 500})
    control("POST", f"/orders/wechatpay/{MCHID}/TL-WX-2/pay")
    code, _ = wx.refund(out_refund_no="TL-WX-2-R", amount={"refund": 200, "total": 500, "currency": "CNY"},
                        out_trade_no="TL-WX-2")  # fmt: skip
    assert code == 200
    advance(control, 1)  # less than a refund takes to settle on its own
    control("POST", f"/orders/wechatpay/{MCHID}/TL-WX-2/refunds/TL-WX-2-R/settle", {"outcome": "abnormal"})
    wx.pay(description="closed", out_trade_no="TL-WX-3", amount={"total": 500})
    assert wx.close(out_trade_no="TL-WX-3")[0] == 204

    events = control("GET", f"/orders/wechatpay/{MCHID}/TL-WX-2/timeline")["events"]
    closed = control("GET", f"/orders/wechatpay/{MCHID}/TL-WX-3/timeline")["events"]

    assert [e["kind"] for e in events] == [
        "created",
        "paid",
        "notification_attempt",
        "refund",
        "refund_settled",
        "notification_attempt",
    ]
    refund, settled, notice = events[3:]
    assert (refund["status"], settled["status"], settled["amount"]) == ("abnormal", "abnormal", 200)
    assert settled["at"] > refund["at"] and notice["event"] == "REFUND.ABNORMAL"
    assert [(e["kind"], e.get("by")) for e in closed] == [("created", None), ("closed", "merchant")]


def test_an_expired_order_and_a_declined_one(control, alipay_client):
    alipay_client.precreate("TL-EXP", 100, "Tea", timeout_express="1m")
    alipay_client.precreate("TL-FAIL", 100, "Tea")
    control("POST", f"/orders/alipay/{APP}/TL-FAIL/pay", {"outcome": "fail", "reason": "balance_not_enough"})
    advance(control, 120)

    expired = control("GET", f"/orders/alipay/{APP}/TL-EXP/timeline")["events"][-1]
    failed = control("GET", f"/orders/alipay/{APP}/TL-FAIL/timeline")["events"][1]

    assert (expired["kind"], expired["by"], expired["title"]) == ("closed", "expiry", "Expired unpaid")
    assert (failed["kind"], failed["reason"]) == ("failed", "ACQ.BUYER_BALANCE_NOT_ENOUGH")


def test_a_resend_is_stored_sent_once_replayable_and_in_the_timeline(control, receiver, alipay_client):
    alipay_client.create("TL-RS", 990, "Tea", "2088000000000009", notify_url=f"{receiver.url}/notify")
    control("POST", f"/orders/alipay/{APP}/TL-RS/pay")
    [original] = control("GET", "/notifications?out_trade_no=TL-RS")["notifications"]
    receiver.reply("busy", status=500)

    body = {"fields": {"total_amount": "0.02", "buyer_logon_id": None}}
    resent = control("POST", f"/notifications/{original['id']}/resend", body, status=201)
    advance(control, 86400)

    assert resent["status"] == "failed" and len(resent["attempts"]) == 1
    stored = control("GET", f"/notifications/{resent['id']}")
    assert stored["attempts"] == resent["attempts"] and stored["edits"] == resent["edits"]  # never retried
    assert stored["edits"]["fields"] == {"total_amount": "0.02", "buyer_logon_id": None}
    receiver.reply("success")
    replayed = control("POST", f"/notifications/{resent['id']}/replay")
    assert [a["trigger"] for a in replayed["attempts"]] == ["resend", "replay"]
    assert replayed["status"] == "delivered"
    events = control("GET", f"/orders/alipay/{APP}/TL-RS/timeline")["events"]
    attempts = [e for e in events if e["kind"] == "notification_attempt"]
    assert [(e["trigger"], e["resent_from"]) for e in attempts] == [
        ("schedule", None),
        ("resend", original["id"]),
        ("replay", original["id"]),
    ]
    received = receiver.wait_for(3)
    assert [e["request"]["body"] for e in attempts] == [r.text for r in received]
    assert alipay_client.verify_notification(received[1].form)["total_amount"] == "0.02"


def test_namespaces_isolate_and_bad_paths_are_refused(space, control, alipay_client):
    alipay_client.precreate("TL-NS", 100, "Tea")
    team = space("team-timeline")
    assert team.call("GET", f"/orders/alipay/{APP}/TL-NS/timeline").status_code == 404
    assert team.call("GET", f"/orders/alipay/{APP}/TL-NS/timeline").json()["error"]["code"] == "ORDER_NOT_FOUND"
    assert space().call("GET", f"/orders/alipay/{APP}/TL-NS/timeline").status_code == 200
    bad = space().call("GET", f"/orders/paypal/{APP}/TL-NS/timeline")
    assert bad.status_code == 400 and "gateway" in bad.json()["error"]["message"]
