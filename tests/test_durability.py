"""What a user's crash does to `paysandbox serve --data FILE`: real processes, real concurrent clients, kill -9."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path

import requests

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.core.clock import BEIJING
from sandbox.core.models import PAID, PENDING, Order
from sandbox.core.store import open_store, tiny
from sandbox.merchant.alipay import AlipayClient
from tests.test_cli import serve, stop

APP = "2021000000000001"


def kill(process) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=15)


def stored_orders(url: str) -> set[str]:
    return {o["out_trade_no"] for o in requests.get(f"{url}/_sandbox/orders", timeout=30).json()["orders"]}


def test_every_create_answered_before_a_kill_9_is_there_after_the_restart(tmp_path, alipay_demo):
    data = str(tmp_path / "paysandbox.json")
    merchant = AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://unused")
    biz = [{"out_trade_no": f"K{n:04d}", "total_amount": "1.00", "subject": "x"} for n in range(300)]
    signed = [merchant.signed_params("alipay.trade.precreate", b) for b in biz]  # before the clock starts
    process, url = serve("--data", data)
    acknowledged: list[str] = []

    def client(mine: list[dict]) -> None:
        for params in mine:
            try:
                answer = requests.post(f"{url}/gateway.do", data=params, timeout=30)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):  # killed mid-answer
                return  # killed
            if '"code":"10000"' in answer.text:
                acknowledged.append(params["biz_content"])

    threads = [threading.Thread(target=client, args=(signed[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 150:
        threads[0].join(0.001)
    kill(process)  # during the burst: the four clients are mid-request
    for thread in threads:
        thread.join()
    process, url = serve("--data", data)
    try:
        stored = stored_orders(url)
    finally:
        stop(process)
    answered = {b["out_trade_no"] for b in biz if any(f'"{b["out_trade_no"]}"' in a for a in acknowledged)}
    assert len(answered) >= 150 and answered <= stored


def test_a_journal_torn_by_a_crash_is_repaired_so_a_second_crash_still_restarts(tmp_path, alipay_demo):
    data = tmp_path / "paysandbox.json"
    Path(f"{data}.journal").write_text('{"t": "notes/0001", "i": "1", "d": {"_key": "a"}}\n{"t": "notes/00')
    process, url = serve("--data", str(data))
    merchant = AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{url}/gateway.do")
    assert merchant.precreate("TORN-1", 100, "x")["code"] == "10000"  # appended after the repaired line
    kill(process)
    process, url = serve("--data", str(data))
    try:
        assert stored_orders(url) == {"TORN-1"}
    finally:
        stop(process)


def stored_history(folder, count: int) -> str:
    """A store file of `count` Alipay orders, paid but for one in a thousand (pending, expiring in 30 minutes)."""
    data = str(folder / "paysandbox.json")
    store = open_store(data)
    now = datetime.now(BEIJING)
    for n in range(count):
        pending = n % 1000 == 0
        order = Order(
            gateway="alipay",
            merchant_id=APP,
            out_trade_no=f"H{n:05d}",
            trade_no=f"T{n:05d}",
            amount=100,
            created_at=now,
            status=PENDING if pending else PAID,
            expires_at=now + timedelta(minutes=30),
            paid_at=None if pending else now,
        )
        store.put("orders", order.key, order.to_doc())
    store.close()
    return data


def test_a_restart_with_a_long_paid_history_reschedules_only_what_is_due(tmp_path, monkeypatch):
    data = stored_history(tmp_path, 5000)
    built = []
    real_from_doc = Order.from_doc.__func__
    monkeypatch.setattr(Order, "from_doc", classmethod(lambda cls, doc: built.append(doc) or real_from_doc(cls, doc)))
    app = create_app(Config(clock_mode="manual", data_path=data, retention_orders=0))  # keep the whole history
    monkeypatch.undo()
    assert len(built) == 5  # the pending ones: nothing is built for the paid history
    client = app.test_client()
    client.post("/_sandbox/clock/advance", json={"seconds": 3600})
    orders = client.get("/_sandbox/orders").get_json()["orders"]
    assert len(orders) == 5000
    closed = sorted(o["out_trade_no"] for o in orders if o["status"] == "closed")
    assert closed == [f"H{n:05d}" for n in range(0, 5000, 1000)]  # their expiries were rescheduled
    app.extensions["paysandbox"].stop()


def test_a_restart_reads_only_the_documents_it_uses_then_finds_the_rest(tmp_path, monkeypatch):
    data = stored_history(tmp_path, 3000)
    create_app(Config(clock_mode="manual", data_path=data, retention_orders=0)).extensions["paysandbox"].stop()
    assert Path(f"{data}.index").exists()  # the clean stop wrote the file and its index file
    parsed = []
    real_parse = tiny._parse
    monkeypatch.setattr(tiny, "_parse", lambda text: parsed.append(text) or real_parse(text))
    app = create_app(Config(clock_mode="manual", data_path=data, retention_orders=0))
    orders = [text for text in parsed if b'"out_trade_no"' in text]
    assert len(orders) == 3  # the pending ones, to schedule their expiry: the paid history stays unread
    client = app.test_client()
    found = client.get(f"/_sandbox/orders/alipay/{APP}/H02999").get_json()
    assert (found["status"], found["trade_no"]) == ("paid", "T02999")
    client.post("/_sandbox/clock/advance", json={"seconds": 3600})
    listed = client.get("/_sandbox/orders").get_json()["orders"]
    assert len(listed) == 3000
    assert sorted(o["out_trade_no"] for o in listed if o["status"] == "closed") == ["H00000", "H01000", "H02000"]
    app.extensions["paysandbox"].stop()
