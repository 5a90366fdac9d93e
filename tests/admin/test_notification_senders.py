"""Notifications to several merchants are in flight at once: a slow notify_url holds up only its own order."""

from __future__ import annotations

import threading

from sandbox.testing.receiver import Reply

APP = "2021000000000001"


def test_a_merchant_that_does_not_answer_holds_up_only_its_own_notification(live, receiver, alipay_client, http):
    reached, released = threading.Event(), threading.Event()

    def hanging(received):
        reached.set()
        released.wait(timeout=20)  # the merchant is stuck until the test lets it go
        return Reply(200, "success")

    receiver.reply(hanging, path="/slow")
    try:
        alipay_client.precreate("SLOW-1", 100, "Tea", notify_url=f"{receiver.url}/slow")
        alipay_client.precreate("FAST-1", 100, "Tea", notify_url=f"{receiver.url}/fast")
        http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/SLOW-1/pay", json={}).raise_for_status()
        assert reached.wait(timeout=10)  # its request is in, unanswered

        http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/FAST-1/pay", json={}).raise_for_status()

        [fast] = receiver.wait_for(1, path="/fast")
        assert fast.form["out_trade_no"] == "FAST-1"
    finally:
        released.set()
    flushed = http.post(f"{live.url}/_sandbox/notifications/flush").json()  # waits for what is on its way
    assert flushed is not None
    records = http.get(f"{live.url}/_sandbox/notifications").json()["notifications"]
    assert {r["out_trade_no"]: r["status"] for r in records} == {"SLOW-1": "delivered", "FAST-1": "delivered"}
