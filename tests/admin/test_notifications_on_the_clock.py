"""Notification delivery, retries, replay and flush on the sandbox clock: no sleeping, the clock is advanced."""

from datetime import datetime
from itertools import pairwise

import pytest

from sandbox.gateways.alipay.notify import RETRY_SCHEDULE

APP = "2021000000000001"


@pytest.fixture
def manual(client):
    client.post("/_sandbox/clock", json={"mode": "manual"})


def paid_order(client, alipay_call, receiver, out_trade_no: str, path: str = "/notify") -> None:
    answer = alipay_call(
        "alipay.trade.create",
        {"out_trade_no": out_trade_no, "total_amount": "9.90", "subject": "coffee", "buyer_id": "2088000000000009"},
        notify_url=receiver.url + path,
    )
    assert answer["code"] == "10000"
    assert (
        client.post(f"/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={"outcome": "success"}).status_code == 200
    )


def notifications(client, out_trade_no: str) -> list[dict]:
    return client.get(f"/_sandbox/notifications?out_trade_no={out_trade_no}").get_json()["notifications"]


def test_flush_delivers_a_due_notification_and_records_the_ack(client, alipay_call, receiver, manual):
    paid_order(client, alipay_call, receiver, "N-1")
    answer = client.post("/_sandbox/notifications/flush").get_json()
    assert [a["event"] for a in answer["attempted"]] == ["TRADE_SUCCESS"]
    [record] = notifications(client, "N-1")
    assert record["status"] == "delivered"
    assert record["attempts"][0]["response_body"] == "success"
    assert receiver.at("/notify")[0].form["trade_status"] == "TRADE_SUCCESS"


def test_a_merchant_that_never_acks_gets_alipays_whole_retry_schedule(client, alipay_call, receiver, manual):
    receiver.reply("fail")
    paid_order(client, alipay_call, receiver, "N-2")
    client.post("/_sandbox/notifications/flush")
    answer = client.post("/_sandbox/clock/advance", json={"seconds": 26 * 3600}).get_json()
    assert len(answer["attempted"]) == len(RETRY_SCHEDULE)
    [record] = notifications(client, "N-2")
    assert record["status"] == "failed"
    assert record["next_attempt_at"] is None
    times = [datetime.fromisoformat(a["at"]) for a in record["attempts"]]
    gaps = [int((later - earlier).total_seconds()) for earlier, later in pairwise(times)]
    assert gaps == list(RETRY_SCHEDULE)  # 4m, 10m, 10m, 1h, 2h, 6h, 15h
    assert [a["response_body"] for a in record["attempts"]] == ["fail"] * 8
    assert len(receiver.at("/notify")) == 8


def test_only_the_exact_body_success_is_an_ack(client, alipay_call, receiver, manual):
    receiver.reply("SUCCESS")
    paid_order(client, alipay_call, receiver, "N-3")
    client.post("/_sandbox/notifications/flush")
    receiver.reply("success")
    client.post("/_sandbox/clock/advance", json={"seconds": 239})
    assert notifications(client, "N-3")[0]["status"] == "pending"
    client.post("/_sandbox/clock/advance", json={"seconds": 1})
    [record] = notifications(client, "N-3")
    assert record["status"] == "delivered"
    assert [a["acked"] for a in record["attempts"]] == [False, True]


def test_an_unreachable_merchant_is_recorded_as_an_error_and_retried(client, alipay_call, receiver, manual):
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "N-4", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
        notify_url="http://127.0.0.1:9/nothing",
    )
    client.post(f"/_sandbox/orders/alipay/{APP}/N-4/pay", json={})
    client.post("/_sandbox/notifications/flush")
    [record] = notifications(client, "N-4")
    assert record["status"] == "pending"
    assert record["attempts"][0]["http_status"] is None
    assert record["attempts"][0]["error"] == "cannot connect to 127.0.0.1:9 (127.0.0.1 port 9: Connection refused)"
    assert record["next_attempt_at"] is not None


def test_replay_sends_the_same_message_again_as_a_new_attempt(client, alipay_call, receiver, manual):
    paid_order(client, alipay_call, receiver, "N-5")
    client.post("/_sandbox/notifications/flush")
    [record] = notifications(client, "N-5")
    replayed = client.post(f"/_sandbox/notifications/{record['id']}/replay").get_json()
    assert [a["trigger"] for a in replayed["attempts"]] == ["schedule", "replay"]
    first, second = receiver.at("/notify")
    assert first.body == second.body  # same notify_id, same signature: a duplicate the merchant must absorb


def test_replay_of_an_unknown_notification_is_404(client):
    answer = client.post("/_sandbox/notifications/ntf_nope/replay")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "NOT_FOUND"


def test_an_unpaid_order_closes_at_its_expiry_with_a_trade_closed_notification(client, alipay_call, receiver, manual):
    alipay_call(
        "alipay.trade.create",
        {
            "out_trade_no": "N-6",
            "total_amount": "1.00",
            "subject": "x",
            "buyer_id": "2088000000000009",
            "timeout_express": "30m",
        },
        notify_url=receiver.url + "/notify",
    )
    client.post("/_sandbox/clock/advance", json={"seconds": 29 * 60})
    assert client.get(f"/_sandbox/orders/alipay/{APP}/N-6").get_json()["status"] == "pending"
    client.post("/_sandbox/clock/advance", json={"seconds": 60})
    order = client.get(f"/_sandbox/orders/alipay/{APP}/N-6").get_json()
    assert order["status"] == "closed"
    assert order["native"]["trade_status"] == "TRADE_CLOSED"
    assert receiver.at("/notify")[0].form["trade_status"] == "TRADE_CLOSED"
    assert alipay_call("alipay.trade.query", {"out_trade_no": "N-6"})["trade_status"] == "TRADE_CLOSED"


def test_a_cashier_order_nobody_opened_expires_silently(client, alipay_call, receiver, manual):
    alipay_call(
        "alipay.trade.precreate",
        {"out_trade_no": "N-7", "total_amount": "1.00", "subject": "x"},
        notify_url=receiver.url + "/notify",
    )
    client.post("/_sandbox/clock/advance", json={"seconds": 2 * 3600})
    assert client.get(f"/_sandbox/orders/alipay/{APP}/N-7").get_json()["status"] == "closed"
    assert notifications(client, "N-7") == []


def test_default_expiry_is_fifteen_days(client, alipay_call, receiver, manual):
    alipay_call(
        "alipay.trade.create",
        {"out_trade_no": "N-8", "total_amount": "1.00", "subject": "x", "buyer_id": "2088000000000009"},
    )
    order = client.get(f"/_sandbox/orders/alipay/{APP}/N-8").get_json()
    span = datetime.fromisoformat(order["expires_at"]) - datetime.fromisoformat(order["created_at"])
    assert round(span.total_seconds()) == 15 * 86400


def test_barcode_payment_waiting_for_the_buyer_settles_on_the_clock(client, alipay_call, manual):
    answer = alipay_call(
        "alipay.trade.pay",
        {
            "out_trade_no": "N-9",
            "total_amount": "5.00",
            "subject": "x",
            "scene": "bar_code",
            "auth_code": "280000000000000010",
        },
    )
    assert answer["code"] == "10003"
    assert alipay_call("alipay.trade.query", {"out_trade_no": "N-9"})["trade_status"] == "WAIT_BUYER_PAY"
    client.post("/_sandbox/clock/advance", json={"seconds": 10})
    assert alipay_call("alipay.trade.query", {"out_trade_no": "N-9"})["trade_status"] == "TRADE_SUCCESS"


@pytest.mark.parametrize("seconds", [-1, "ten", None, True, 10**9])
def test_advance_refuses_a_bad_number_of_seconds(client, seconds):
    answer = client.post("/_sandbox/clock/advance", json={"seconds": seconds})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "INVALID_PARAMETER"
