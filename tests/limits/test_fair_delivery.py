"""A slow or hanging merchant costs only its own deliveries: senders are shared by destination, not taken in turn."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from sandbox.config import Config
from sandbox.core import senders as senders_module
from sandbox.core.senders import FAST_SHARE, NEW_SHARE, SLOW_SHARE, Senders
from tests.limits.merchants import RawMerchant, trickle

APP = "2021000000000001"


@pytest.fixture
def config() -> Config:
    return Config(seed=1234, notify_timeout=5)


def test_a_fast_merchant_is_notified_within_a_second_while_eight_merchants_trickle(live, http, alipay_client, receiver):
    slow = [RawMerchant(trickle(every=1.0)) for _ in range(8)]
    try:
        for number, merchant in enumerate(slow):
            alipay_client.precreate(f"SLOW-{number}", 100, "Tea", notify_url=f"{merchant.url}/notify")
            http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/SLOW-{number}/pay", json={}).raise_for_status()
        for merchant in slow:
            merchant.wait_connections(1)  # every trickling merchant holds an attempt now
        alipay_client.precreate("FAST-1", 100, "Tea", notify_url=f"{receiver.url}/fast")
        paid = time.monotonic()
        http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/FAST-1/pay", json={}).raise_for_status()
        receiver.wait_for(1, path="/fast", timeout=5)
        assert time.monotonic() - paid < 1.0
    finally:
        for merchant in slow:
            merchant.stop()


class Recorder:
    """A send function that holds each attempt until released and records what ran at once, per destination."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.order: list[str] = []

    def send(self, notification_id: str) -> str:
        destination = notification_id.split("/")[0]
        with self.lock:
            self.running[destination] += 1
            self.most[destination] = max(self.most[destination], self.running[destination])
            self.order.append(notification_id)
        if destination.startswith("slow"):
            self.release.wait(10)
        with self.lock:
            self.running[destination] -= 1
        return notification_id


@pytest.fixture
def recorder():
    recorder = Recorder()
    yield recorder
    recorder.release.set()


def test_a_new_destination_holds_at_most_its_share_and_another_still_goes(recorder):
    senders = Senders(recorder.send)
    held = [senders.submit(("order", n), f"slow:80/{n}", "slow:80") for n in range(6)]
    assert senders.submit(("other",), "fast:80/1", "fast:80").result(timeout=2) == "fast:80/1"
    assert recorder.most["slow:80"] == NEW_SHARE
    recorder.release.set()
    assert [future.result(timeout=5) for future in held] == [f"slow:80/{n}" for n in range(6)]
    senders.close()


def test_an_orders_notifications_go_one_after_another_in_the_order_they_fell_due(recorder):
    senders = Senders(recorder.send)
    recorder.release.set()
    futures = [senders.submit(("one order",), f"fast:80/{n}", "fast:80") for n in range(20)]
    assert [future.result(timeout=5) for future in futures] == [f"fast:80/{n}" for n in range(20)]
    assert recorder.order == [f"fast:80/{n}" for n in range(20)] and recorder.most["fast:80"] == 1
    senders.close()


def test_a_destination_that_answers_quickly_gets_more_senders_and_a_slow_one_fewer(recorder, monkeypatch):
    monkeypatch.setattr(senders_module, "SLOW_SECONDS", 0.2)
    senders = Senders(recorder.send)
    senders.submit(("warm",), "fast:80/0", "fast:80").result(timeout=2)  # answered at once: fast from now on
    threading.Timer(0.3, recorder.release.set).start()
    senders.submit(("warm",), "slow:80/0", "slow:80").result(timeout=2)  # took 0.3 s: slow from now on
    recorder.release.clear()
    recorder.most.clear()
    held = [senders.submit(("s", n), f"slow:80/{n}", "slow:80") for n in range(1, 4)]
    fast = [senders.submit(("f", n), f"fast:80/{n}", "fast:80") for n in range(1, 30)]
    assert all(future.result(timeout=2) for future in fast)
    recorder.release.set()
    assert all(future.result(timeout=5) for future in held)
    assert recorder.most["slow:80"] == SLOW_SHARE and 1 <= recorder.most["fast:80"] <= FAST_SHARE
    senders.close()
