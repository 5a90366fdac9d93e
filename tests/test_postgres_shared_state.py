"""Processes on one PostgreSQL database are one sandbox in what each keeps in memory too: each namespace's clock, the
namespaces themselves, the scenario rules, the merchants' keys and the TLS CA. A change made through one process
holds in the others from their next request. Real `paysandbox serve` processes on a new database each."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
import requests
from Crypto.PublicKey import RSA

from sandbox.core.clock import BEIJING
from sandbox.core.store.database import passwords
from sandbox.merchant.alipay import AlipayApiError, AlipayClient
from tests.test_cli import free_port, stop

APP, BUYER = "2021000000000001", "2088000000000009"
HEADER = "X-Sandbox-Namespace"


class Process:
    """One `paysandbox serve` on the database; what it prints is kept (and its pipe drained) as it runs."""

    def __init__(self, database: str, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "sandbox", "serve", "--port", str(self.port), "--data", database, *args]
        env = {**os.environ, "SANDBOX_LOG_LEVEL": "WARNING"}
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.output: list[str] = []

    def wait_until_serving(self) -> Process:
        for line in self.process.stdout:
            self.output.append(line)
            if "serving on" in line:
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise AssertionError("".join(self.output))

    def _drain(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def get(self, path: str, namespace: str = "", **params) -> requests.Response:
        return requests.get(self.url + path, params=params, headers=_namespace(namespace), timeout=10)

    def post(self, path: str, body: dict | None = None, namespace: str = "") -> requests.Response:
        return requests.post(self.url + path, json=body or {}, headers=_namespace(namespace), timeout=20)

    def delete(self, path: str, namespace: str = "") -> requests.Response:
        return requests.delete(self.url + path, headers=_namespace(namespace), timeout=20)

    def merchant(self, app_id: str, private_key: str, alipay_public_key: str) -> AlipayClient:
        return AlipayClient(app_id, private_key, alipay_public_key, f"{self.url}/gateway.do", timeout=10)

    def stop(self) -> None:
        stop(self.process)


def _namespace(name: str) -> dict:
    return {HEADER: name} if name else {}


def started(database: str, count: int, *args: str) -> list[Process]:
    """`count` processes started at the same moment (so they also meet on the new database together)."""
    processes = [Process(database, *args) for _ in range(count)]
    return [process.wait_until_serving() for process in processes]


@pytest.fixture
def pair(postgres_url):
    processes = started(postgres_url, 2, "--clock", "manual")
    yield processes
    for process in processes:
        process.stop()


def clock_now(process: Process, namespace: str = "") -> datetime:
    return datetime.fromisoformat(process.get("/_sandbox/clock", namespace).json()["now"])


def key_pair() -> tuple[str, str]:
    key = RSA.generate(2048)
    return key.export_key().decode(), key.public_key().export_key().decode()


# -- clocks --------------------------------------------------------------------------------------------


def test_a_clock_advanced_through_one_process_holds_at_once_in_the_other(pair, alipay_demo):
    first, second = pair
    assert clock_now(first) == clock_now(second)
    advanced = first.post("/_sandbox/clock/advance", {"seconds": 3600}).json()
    assert second.get("/_sandbox/clock").json() == {k: advanced[k] for k in ("now", "mode", "factor")}

    # What the second process answers is stamped with the advanced clock.
    merchant = second.merchant(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key)
    merchant.create("SH-CLOCK-1", 100, "x", BUYER, timeout_express="30m")
    second.post(f"/_sandbox/orders/alipay/{APP}/SH-CLOCK-1/pay")
    paid_at = datetime.fromisoformat(advanced["now"]).strftime("%Y-%m-%d %H:%M:%S")
    assert merchant.query("SH-CLOCK-1")["send_pay_date"] == paid_at
    created = second.get(f"/_sandbox/orders/alipay/{APP}/SH-CLOCK-1").json()["created_at"]
    assert created == advanced["now"]


def test_an_order_made_through_one_expires_on_the_clock_advanced_through_the_other(pair, alipay_demo):
    first, second = pair
    merchant = second.merchant(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key)
    merchant.create("SH-EXPIRE-1", 100, "x", BUYER, timeout_express="30m")
    first.post("/_sandbox/clock/advance", {"seconds": 31 * 60})
    assert wait_for(lambda: merchant.query("SH-EXPIRE-1")["trade_status"] == "TRADE_CLOSED")
    order = first.get(f"/_sandbox/orders/alipay/{APP}/SH-EXPIRE-1").json()
    assert order["status"] == "closed"
    assert order["expires_at"] <= order["closed_at"] <= clock_now(first).isoformat()


def test_a_mode_set_through_one_process_holds_in_the_other(pair):
    first, second = pair
    assert second.post("/_sandbox/clock", {"mode": "accelerated", "factor": 600}).ok
    clock = first.get("/_sandbox/clock").json()
    assert (clock["mode"], clock["factor"]) == ("accelerated", 600.0)
    assert first.post("/_sandbox/clock", {"mode": "manual"}).ok
    assert second.get("/_sandbox/clock").json()["mode"] == "manual"


def test_a_clock_reset_through_one_process_holds_in_the_other(pair):
    first, second = pair
    assert first.post("/_sandbox/namespaces", {"name": "team-a"}).status_code == 201
    for namespace in ("", "team-a"):
        first.post("/_sandbox/clock/advance", {"seconds": 86400}, namespace=namespace)
    assert (clock_now(second) - datetime.now(BEIJING)).total_seconds() > 86000
    reset = second.post("/_sandbox/clock/reset").json()
    assert first.get("/_sandbox/clock").json() == reset
    assert reset["mode"] == "real" and abs((clock_now(first) - datetime.now(BEIJING)).total_seconds()) < 5
    # A namespace's reset (POST /_sandbox/reset) does it too, and only there.
    assert clock_now(first, "team-a") > datetime.now(BEIJING) + timedelta(hours=23)
    assert second.post("/_sandbox/reset", namespace="team-a").json()["clock"]["mode"] == "real"
    assert first.get("/_sandbox/clock", "team-a").json()["mode"] == "real"
    assert abs((clock_now(first, "team-a") - datetime.now(BEIJING)).total_seconds()) < 5


def test_a_reset_to_a_manual_clock_through_one_process_holds_in_the_other(pair):
    first, second = pair
    first.post("/_sandbox/clock/advance", {"seconds": 86400})
    reset = second.post("/_sandbox/reset", {"clock": "manual"}).json()
    assert reset["clock"]["mode"] == "manual" and first.get("/_sandbox/clock").json() == reset["clock"]
    assert abs((clock_now(first) - datetime.now(BEIJING)).total_seconds()) < 5


def test_each_namespace_keeps_its_own_clock_across_processes(pair):
    first, second = pair
    assert first.post("/_sandbox/namespaces", {"name": "team-a"}).status_code == 201
    before, default_before = clock_now(second, "team-a"), clock_now(second)
    second.post("/_sandbox/clock/advance", {"seconds": 7200}, namespace="team-a")
    assert (clock_now(first, "team-a") - before).total_seconds() == 7200
    assert clock_now(first) == default_before
    second.post("/_sandbox/clock", {"mode": "real"})
    assert first.get("/_sandbox/clock", "team-a").json()["mode"] == "manual"


def test_a_process_joining_keeps_the_clock_and_one_starting_afresh_sets_it(postgres_url):
    [first] = started(postgres_url, 1, "--clock", "manual")
    advanced = first.post("/_sandbox/clock/advance", {"seconds": 3600}).json()
    [joining] = started(postgres_url, 1, "--clock", "real")
    try:
        assert joining.get("/_sandbox/clock").json()["now"] == advanced["now"]
        assert joining.get("/_sandbox/clock").json()["mode"] == "manual"
        assert any("--clock real (factor 1) is not applied" in line for line in joining.output)
    finally:
        joining.stop()
        first.stop()
    [afresh] = started(postgres_url, 1, "--clock", "accelerated", "--factor", "60")
    try:
        clock = afresh.get("/_sandbox/clock").json()
        assert (clock["mode"], clock["factor"]) == ("accelerated", 60.0)
    finally:
        afresh.stop()


# -- namespaces ----------------------------------------------------------------------------------------


def test_a_namespace_made_through_one_process_is_used_through_the_other_and_deleted_everywhere(pair, alipay_demo):
    first, second = pair
    assert first.post("/_sandbox/namespaces", {"name": "team-b"}).status_code == 201
    private_key, public_key = key_pair()
    merchant_id = "2021000000000777"
    registered = second.post(
        "/_sandbox/merchants", {"gateway": "alipay", "merchant_id": merchant_id, "app_public_key": public_key}, "team-b"
    )
    assert registered.status_code in (200, 201), registered.text
    merchant = second.merchant(merchant_id, private_key, alipay_demo.alipay_public_key)
    assert merchant.create("SH-NS-1", 100, "x", BUYER)["code"] == "10000"
    listed = first.get("/_sandbox/orders", "team-b").json()["orders"]
    assert [o["out_trade_no"] for o in listed] == ["SH-NS-1"]
    assert first.get("/_sandbox/orders").json()["orders"] == []

    assert second.delete("/_sandbox/namespaces/team-b").ok
    assert "team-b" not in first.get("/_sandbox/namespaces").json()["namespaces"]
    gone = first.get("/_sandbox/orders", "team-b")
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "NAMESPACE_NOT_FOUND")
    query = merchant.signed_params("alipay.trade.query", {"out_trade_no": "SH-NS-1"})
    assert "isv.invalid-app-id" in requests.post(f"{first.url}/gateway.do", data=query, timeout=10).text  # gone too
    # Made again through the other: a new, empty namespace in both.
    assert second.post("/_sandbox/namespaces", {"name": "team-b"}).status_code == 201
    assert first.get("/_sandbox/orders", "team-b").json()["orders"] == []


def test_a_namespace_made_through_both_at_once_is_made_once(pair):
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: pair[n % 2].post("/_sandbox/namespaces", {"name": "race"}), range(8)))
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 7


# -- scenario rules ------------------------------------------------------------------------------------


def test_a_rule_added_through_one_process_shapes_a_payment_through_the_other(pair, alipay_demo):
    first, second = pair
    merchant = second.merchant(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key)
    merchant.create("SH-RULE-1", 100, "x", BUYER)
    second.get("/_sandbox/scenarios")  # the second process has read (and sorted) the rules before the first adds one
    rule = {"match": {"out_trade_no": "SH-RULE-*"}, "payment": {"outcome": "fail", "code": "balance_not_enough"}}
    rule_id = first.post("/_sandbox/scenarios", rule).json()["scenario"]["id"]
    assert second.post(f"/_sandbox/orders/alipay/{APP}/SH-RULE-1/pay").json()["status"] == "failed"

    assert first.delete(f"/_sandbox/scenarios/{rule_id}").ok
    merchant.create("SH-RULE-2", 100, "x", BUYER)
    assert second.post(f"/_sandbox/orders/alipay/{APP}/SH-RULE-2/pay").json()["status"] == "paid"


def test_a_one_shot_rule_is_taken_once_when_both_processes_race_for_it(pair, alipay_demo):
    first, second = pair
    merchant = first.merchant(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key)
    numbers = [f"SH-RACE-{n}" for n in range(16)]
    for number in numbers:
        merchant.create(number, 100, "x", BUYER)
    rule = {"match": {"out_trade_no": "SH-RACE-*"}, "times": 1, "payment": {"outcome": "fail"}}
    assert first.post("/_sandbox/scenarios", rule).status_code == 201
    for process in pair:  # both have the rule sorted in memory before the race
        assert len(process.get("/_sandbox/scenarios").json()["scenarios"]) == 1
    start = threading.Barrier(len(numbers))

    def pay(n: int) -> str:
        start.wait()
        return pair[n % 2].post(f"/_sandbox/orders/alipay/{APP}/{numbers[n]}/pay").json()["status"]

    with ThreadPoolExecutor(max_workers=len(numbers)) as pool:
        statuses = list(pool.map(pay, range(len(numbers))))
    assert sorted(statuses) == ["failed"] + ["paid"] * 15
    assert first.get("/_sandbox/scenarios").json()["scenarios"] == []
    assert second.get("/_sandbox/scenarios").json()["scenarios"] == []


# -- merchants, the CA, --seed -------------------------------------------------------------------------


def test_a_merchant_replaced_through_one_process_answers_with_its_new_key_in_the_other(pair, alipay_demo):
    first, second = pair
    merchant_id = "2021000000000888"
    old_private, old_public = key_pair()
    new_private, new_public = key_pair()
    first.post("/_sandbox/merchants", {"gateway": "alipay", "merchant_id": merchant_id, "app_public_key": old_public})
    assert (
        second.merchant(merchant_id, old_private, alipay_demo.alipay_public_key).create("SH-KEY-1", 100, "x", BUYER)[
            "code"
        ]
        == "10000"
    )
    second.post("/_sandbox/merchants", {"gateway": "alipay", "merchant_id": merchant_id, "app_public_key": new_public})
    with pytest.raises(AlipayApiError) as refused:
        first.merchant(merchant_id, old_private, alipay_demo.alipay_public_key).query("SH-KEY-1")
    assert refused.value.sub_code == "isv.invalid-signature"
    assert first.merchant(merchant_id, new_private, alipay_demo.alipay_public_key).query("SH-KEY-1")["code"] == "10000"


def test_processes_starting_at_once_on_a_new_database_make_one_ca(postgres_url):
    processes = [Process(postgres_url, "--tls-port", str(free_port())) for _ in range(3)]  # each makes its at start
    try:
        for process in processes:
            process.wait_until_serving()
        certificates = {process.get("/_sandbox/ca.pem").text for process in processes}
        assert len(certificates) == 1
        assert certificates.pop().startswith("-----BEGIN CERTIFICATE-----")
    finally:
        for process in processes:
            process.stop()


def test_a_seed_is_kept_by_a_lone_process_and_refused_with_one_line_when_others_share_the_database(postgres_url):
    [alone] = started(postgres_url, 1, "--seed", "7")  # one process: its ids cannot collide with another's
    try:
        assert alone.get("/_sandbox/health").ok
    finally:
        alone.stop()
    [running] = started(postgres_url, 1)
    try:
        argv = [sys.executable, "-m", "sandbox", "serve", "--port", str(free_port()), "--data", postgres_url]
        finished = subprocess.run([*argv, "--seed", "7"], capture_output=True, text=True, timeout=60)
    finally:
        running.stop()
    assert finished.returncode == 2
    [line] = finished.stderr.splitlines()
    assert line.startswith("paysandbox: cannot use the database postgresql://postgres@")
    assert "other processes are using it" in line and "drop --seed" in line
    assert not any(secret in line for secret in passwords(postgres_url)) and finished.stdout == ""


def wait_for(condition, seconds: float = 10.0) -> bool:
    """Poll until `condition()` holds (the other process's background worker runs it), within a deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
