"""Due work shared by `paysandbox serve` processes on one PostgreSQL database: each notification, expiry and retry
is run by exactly one process, a holder killed mid-delivery is taken over, a restart resends nothing, and an
advance through one process's control API runs its namespace alone.

Real processes, a real merchant receiver, a real database. Which process sent a request is told by the receiver:
it looks up, while the request is open, which process holds the other end of its connection (Linux's /proc)."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections import Counter
from datetime import datetime

import pytest
import requests

from sandbox.core.store import open_store
from sandbox.merchant.alipay import AlipayClient
from sandbox.testing.receiver import Received, Reply
from tests.test_cli import serve, stop
from tests.test_durability import kill

APP, BUYER = "2021000000000001", "2088000000000009"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tells senders apart through /proc")


class Sandboxes:
    """`serve` processes on one database, each with its URL and pid; stopped (or killed) at the end."""

    def __init__(self, data: str) -> None:
        self.data = data
        self.processes: list = []

    def start(self, *args: str) -> str:
        process, url = serve("--data", self.data, *args)
        self.processes.append((process, url))
        return url

    def pid(self, url: str) -> int:
        return next(process.pid for process, u in self.processes if u == url)

    def kill(self, url: str) -> None:
        process = next(process for process, u in self.processes if u == url)
        kill(process)
        self.processes.remove((process, url))

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                stop(process)
        self.processes = []


@pytest.fixture
def sandboxes(postgres_url):
    started = Sandboxes(postgres_url)
    yield started
    started.stop_all()


class Senders:
    """Remembers, for every notification the receiver gets, its out_trade_no and the pid that sent it."""

    def __init__(self, receiver) -> None:
        self.seen: list[tuple[str, int | None]] = []
        self._lock = threading.Lock()
        self._answers: dict[str, object] = {}
        receiver.reply(self._answer)

    def answer(self, out_trade_no: str, reply) -> None:
        """`reply`: a body, a Reply, or a function of the Received."""
        self._answers[out_trade_no] = reply

    def _answer(self, received: Received):
        out_trade_no = received.form.get("out_trade_no", "")
        with self._lock:
            self.seen.append((out_trade_no, sender_pid(received.client[1])))
        reply = self._answers.get(out_trade_no, "success")
        return reply(received) if callable(reply) else reply

    def count(self) -> Counter:
        with self._lock:
            return Counter(out_trade_no for out_trade_no, _ in self.seen)

    def pids(self, out_trade_no: str) -> list[int | None]:
        with self._lock:
            return [pid for number, pid in self.seen if number == out_trade_no]


def sender_pid(port: int) -> int | None:
    """The process whose socket has local port `port` (a sandbox's connection to the receiver). /proc can miss a
    socket for a moment (seen once under load): look again a few times before answering None."""
    for _ in range(20):
        pid = _socket_owner(port)
        if pid is not None:
            return pid
        time.sleep(0.01)
    return None


def _socket_owner(port: int) -> int | None:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}").removeprefix("socket:[").rstrip("]") in inodes:
                    return int(pid)
        except OSError:  # a process that ended, or is not ours
            continue
    return None


def merchant(url: str, alipay_demo) -> AlipayClient:
    return AlipayClient(
        APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{url}/gateway.do", timeout=30
    )


def create(url: str, alipay_demo, out_trade_no: str, notify_url: str, **biz) -> None:
    answer = merchant(url, alipay_demo).create(out_trade_no, 100, "due", BUYER, notify_url=notify_url, **biz)
    assert answer["code"] == "10000", answer


def pay(url: str, out_trade_no: str) -> None:
    assert requests.post(f"{url}/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={}, timeout=30).ok


def notifications(url: str, out_trade_no: str = "") -> list[dict]:
    params = {"out_trade_no": out_trade_no, "gateway": "alipay", "merchant_id": APP} if out_trade_no else {}
    answer = requests.get(f"{url}/_sandbox/notifications", params=params, timeout=30)
    return answer.json()["notifications"]


def until(probe, seconds: float = 30.0, what: str = "the condition"):
    deadline = time.monotonic() + seconds
    while not (answer := probe()):
        assert time.monotonic() < deadline, f"{what} did not come within {seconds} s"
        time.sleep(0.05)
    return answer


def test_two_processes_deliver_each_notification_exactly_once_and_share_the_work(sandboxes, receiver, alipay_demo):
    urls = [sandboxes.start(), sandboxes.start()]
    senders = Senders(receiver)
    numbers = [f"PGD-{n:03d}" for n in range(120)]
    for n, number in enumerate(numbers):  # created through one, paid through one or the other
        create(urls[n % 2], alipay_demo, number, f"{receiver.url}/notify")
        pay(urls[(n // 2) % 2], number)
    until(lambda: len(senders.count()) == len(numbers), what="a notification of every order")
    until(lambda: all(r["status"] == "delivered" for r in notifications(urls[0])), what="every attempt recorded")
    records = notifications(urls[1])
    assert len(records) == len(numbers)
    assert all(len(record["attempts"]) == 1 for record in records)
    assert senders.count() == Counter(numbers)  # exactly once each
    pids = {pid for number in numbers for pid in senders.pids(number)}
    assert pids == {sandboxes.pid(url) for url in urls}  # both processes delivered some
    # An order created through the first and paid through the second: one notification, sent once.
    assert senders.count()["PGD-002"] == 1 and len(notifications(urls[0], "PGD-002")) == 1


def test_a_delivery_whose_holder_is_killed_mid_flight_is_taken_over_by_the_other(sandboxes, receiver, alipay_demo):
    holder = sandboxes.start()
    senders = Senders(receiver)
    arrived, release = threading.Event(), threading.Event()

    def hold(received: Received) -> str:
        if not arrived.is_set():
            arrived.set()
            release.wait(30)  # held open until the holder is dead
        return "success"

    senders.answer("HELD", hold)
    others = [f"PGK-{n}" for n in range(10)]
    for number in [*others, "HELD"]:
        create(holder, alipay_demo, number, f"{receiver.url}/notify")
        pay(holder, number)
    assert arrived.wait(30)
    until(lambda: all(senders.count()[number] == 1 for number in others), what="the other notifications")
    other = sandboxes.start()  # it sees the held delivery's row leased by a live process: it leaves it
    holder_pid = sandboxes.pid(holder)
    sandboxes.kill(holder)  # kill -9 mid-delivery
    release.set()
    until(lambda: senders.count()["HELD"] == 2, seconds=15, what="the takeover")  # seen again, as from a provider
    assert senders.pids("HELD") == [holder_pid, sandboxes.pid(other)]
    [record] = until(lambda: [r for r in notifications(other, "HELD") if r["status"] == "delivered"])
    assert len(record["attempts"]) == 1  # the dead holder never recorded its attempt
    assert all(senders.count()[number] == 1 for number in others)  # nothing else was sent twice


def test_an_expiry_is_run_by_exactly_one_process(sandboxes, receiver, alipay_demo):
    urls = [sandboxes.start(), sandboxes.start()]
    senders = Senders(receiver)
    numbers = [f"PGE-{n}" for n in range(12)]
    for n, number in enumerate(numbers):
        create(urls[n % 2], alipay_demo, number, f"{receiver.url}/notify", timeout_express="1m")
    for url in urls:  # a minute in a second, both clocks anchored together (within milliseconds)
        assert requests.post(f"{url}/_sandbox/clock", json={"mode": "accelerated", "factor": 60}, timeout=30).ok
    until(lambda: len(senders.count()) == len(numbers), what="a notification of every expiry")
    until(lambda: all(r["status"] == "delivered" for r in notifications(urls[1])), what="every attempt recorded")
    assert senders.count() == Counter(numbers)  # one close, one TRADE_CLOSED each
    for number in numbers:
        [record] = notifications(urls[0], number)
        assert "TRADE_CLOSED" in record["body"]
        order = requests.get(f"{urls[1]}/_sandbox/orders/alipay/{APP}/{number}", timeout=30).json()
        assert order["status"] == "closed"


def test_a_restart_of_every_process_resends_nothing_and_sends_what_was_pending_once(sandboxes, receiver, alipay_demo):
    urls = [sandboxes.start("--clock", "manual"), sandboxes.start("--clock", "manual")]
    senders = Senders(receiver)
    refused, accepted = [f"PGR-{n}" for n in range(6)], [f"PGS-{n}" for n in range(6)]
    for number in refused:
        senders.answer(number, "not yet")
    for n, number in enumerate(refused + accepted):
        create(urls[n % 2], alipay_demo, number, f"{receiver.url}/notify")
        pay(urls[(n + 1) % 2], number)
    for url in urls:
        requests.post(f"{url}/_sandbox/notifications/flush", timeout=30)
    until(lambda: len(senders.count()) == 12, what="the first attempts")
    until(lambda: all(r["attempts"] for r in notifications(urls[0])), what="the first attempts recorded")

    sandboxes.stop_all()
    urls = [sandboxes.start("--clock", "manual"), sandboxes.start("--clock", "manual")]
    for url in urls:  # what is due now on either clock: nothing (the retries are minutes away)
        assert requests.post(f"{url}/_sandbox/notifications/flush", timeout=30).json()["attempted"] == []
    for number in refused:
        senders.answer(number, "success")
    pending = sorted(r["id"] for r in notifications(urls[0]) if r["status"] == "pending")
    assert len(pending) == len(refused)
    attempted = requests.post(f"{urls[0]}/_sandbox/clock/advance", json={"seconds": 300}, timeout=60).json()
    assert sorted(a["id"] for a in attempted["attempted"]) == pending
    later = requests.post(f"{urls[1]}/_sandbox/clock/advance", json={"seconds": 300}, timeout=60).json()
    assert later["attempted"] == []  # the other process has nothing left of it to send
    assert senders.count() == Counter({**dict.fromkeys(accepted, 1), **dict.fromkeys(refused, 2)})


def test_an_advance_through_one_process_runs_its_retries_at_their_moments_alone(
    postgres_url, sandboxes, receiver, alipay_demo
):
    advancing = sandboxes.start("--clock", "manual")
    senders = Senders(receiver)
    arrived, release = threading.Event(), threading.Event()

    def refuse(received: Received) -> Reply:
        if not arrived.is_set():
            arrived.set()
            release.wait(30)
        return Reply(500, "try again")

    senders.answer("PGA-1", refuse)
    create(advancing, alipay_demo, "PGA-1", f"{receiver.url}/notify")
    pay(advancing, "PGA-1")  # its first attempt is held open by the merchant
    assert arrived.wait(30)
    other = sandboxes.start("--clock", "manual")  # joins now, so the first attempt was surely the advancing one's
    started = datetime.fromisoformat(requests.get(f"{advancing}/_sandbox/clock", timeout=30).json()["now"])
    result: dict = {}
    advance = threading.Thread(
        target=lambda: result.update(
            requests.post(f"{advancing}/_sandbox/clock/advance", json={"seconds": 7200}, timeout=60).json()
        )
    )
    advance.start()
    observer = open_store(postgres_url)  # a third "process": it sees the namespace held for the advance
    try:

        def held() -> bool:
            with observer.due_queue("default").background_turn() as granted:
                return not granted

        until(held, what="the advance")
    finally:
        observer.close()
    # The clock is shared: each step of the advance is the other process's clock too, and at each the next retry
    # is due for it as well; it is kept off the namespace while the advance runs, so the advancing one sends them.
    release.set()
    advance.join(60)
    assert datetime.fromisoformat(requests.get(f"{other}/_sandbox/clock", timeout=30).json()["now"]) > started
    [record] = notifications(advancing, "PGA-1")
    moments = [datetime.fromisoformat(a["at"]) for a in record["attempts"]][:5]
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(moments)]
    assert gaps == [240, 600, 600, 3600]  # Alipay's schedule, each retry on its moment of the advancing clock
    assert datetime.fromisoformat(result["now"]) >= moments[-1]
    assert senders.pids("PGA-1")[:5] == [sandboxes.pid(advancing)] * 5
