"""Every effect on every gateway, observed through the client a shop uses (tests/scenarios/drivers.py).

One rule, one order, one observation: the same scenario means the same thing on Alipay, WeChat Pay and
UnionPay, in each gateway's own words. The clock is manual: retries and settlements run when advanced.
"""

from __future__ import annotations

import itertools

import pytest
import requests

from tests.scenarios.drivers import AlipayDriver, AlipayV3Driver, UnionPayDriver, WechatDriver

# Alipay twice: gateway.do (python-alipay-sdk) and OpenAPI v3 (the npm alipay-sdk), over the same orders.
CLIENTS = ("alipay", "alipay-v3", "wechatpay", "unionpay")
UNPAID = {"alipay": "WAIT_BUYER_PAY", "wechatpay": "NOTPAY", "unionpay": "05"}
PAID = {"alipay": "TRADE_SUCCESS", "wechatpay": "SUCCESS", "unionpay": "00"}
DECLINED = {"alipay": "TRADE_CLOSED", "wechatpay": "PAYERROR", "unionpay": "64"}
SYSTEM_ERROR = {"alipay": "ACQ.SYSTEM_ERROR", "wechatpay": "SYSTEM_ERROR", "unionpay": "03"}
_numbers = itertools.count(1)


@pytest.fixture(params=CLIENTS)
def shop(request, live, receiver, sandbox):
    sandbox.clock.set_mode("manual")
    notify_url = f"{receiver.url}/notify"
    if request.param == "alipay":
        return AlipayDriver(live.url, notify_url)
    if request.param == "alipay-v3":
        return AlipayV3Driver(live.url, notify_url, request.getfixturevalue("alipay_node_script"))
    if request.param == "wechatpay":
        return WechatDriver(live.url, notify_url)
    return UnionPayDriver(live.url, notify_url, clock=sandbox.clock.now)


@pytest.fixture
def control(live, sandbox):
    session = requests.Session()
    session.trust_env = False

    def control(method: str, path: str, body: dict | None = None) -> dict:
        sandbox.advance(0)  # waits for a delivery the dispatcher thread may still be recording
        reply = session.request(method, f"{live.url}/_sandbox{path}", json=body, timeout=10)
        assert reply.status_code < 300, reply.text
        return reply.json()

    return control


def order_no() -> str:
    return f"MATRIX{next(_numbers):06d}"  # UnionPay's orderId allows letters and digits only


def new_order(shop, amount: int = 990) -> str:
    number = order_no()
    shop.create(number, amount)
    return number


def pay(control, shop, number: str, outcome: str = "success") -> dict:
    return control("POST", f"/orders/{shop.gateway}/{shop.merchant_id}/{number}/pay", {"outcome": outcome})


def attempts(control, number: str) -> list[dict]:
    [record] = control("GET", f"/notifications?out_trade_no={number}")["notifications"]
    return record["attempts"]


# -- API faults ---------------------------------------------------------------------------------------


def test_a_system_error_on_the_query_is_the_gateways_own(shop, control):
    number = new_order(shop)
    control("POST", "/scenarios", {"match": {"operation": "query"}, "times": 1, "api": {"error": "system_error"}})
    assert shop.query(number) == SYSTEM_ERROR[shop.gateway]
    assert shop.query(number) == UNPAID[shop.gateway]


@pytest.mark.parametrize(
    ("api", "seen"),
    [
        ({"status": 503}, "HTTP 503"),
        ({"status": 502}, "HTTP 502"),
        ({"disconnect": True}, "disconnected"),
        ({"body": "invalid_signature"}, "refused"),
        ({"body": "unsigned"}, "refused"),
    ],
)
def test_a_transport_fault_or_a_spoiled_answer_reaches_the_client(shop, control, api, seen):
    number = new_order(shop)
    control("POST", "/scenarios", {"match": {"operation": "query"}, "times": 1, "api": api})
    assert shop.query(number) == shop.sees(seen)
    assert shop.query(number) == UNPAID[shop.gateway]


# -- notifications ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notify", [{"signature": "invalid"}, {"signature": "missing"}, {"tamper": {"amount": 1}}, {"merchant": "wrong"}]
)
def test_an_honest_merchant_rejects_a_forged_notification(shop, control, receiver, notify):
    control("POST", "/scenarios", {"times": 1, "notify": notify})
    number = new_order(shop)
    pay(control, shop, number)
    [received] = receiver.wait_for(1)
    assert not shop.accepts(received, 990)


def test_an_unshaped_notification_is_accepted(shop, control, receiver):
    number = new_order(shop)
    pay(control, shop, number)
    assert shop.accepts(receiver.wait_for(1)[0], 990)


def test_a_lost_first_attempt_is_retried_on_the_gateways_schedule(shop, control, receiver, sandbox):
    control("POST", "/scenarios", {"times": 1, "notify": {"drop": 1}})
    number = new_order(shop)
    pay(control, shop, number)
    sandbox.advance(shop.retry_schedule[0] - 1)
    assert receiver.at("/notify") == []
    sandbox.advance(1)
    assert shop.accepts(receiver.wait_for(1)[0], 990)
    assert [a["effect"] for a in attempts(control, number)] == ["lost", ""]


def test_a_duplicated_notification_arrives_twice(shop, control, receiver):
    control("POST", "/scenarios", {"times": 1, "notify": {"duplicate": 1}})
    number = new_order(shop)
    pay(control, shop, number)
    first, second = receiver.wait_for(2)
    assert shop.accepts(first, 990) and shop.accepts(second, 990)
    assert [a["trigger"] for a in attempts(control, number)] == ["schedule", "duplicate"]


def test_a_delayed_notification_waits_on_the_clock(shop, control, receiver, sandbox):
    control("POST", "/scenarios", {"times": 1, "notify": {"delay": 120}})
    number = new_order(shop)
    pay(control, shop, number)
    sandbox.advance(119)
    assert receiver.at("/notify") == []
    sandbox.advance(1)
    assert shop.accepts(receiver.wait_for(1)[0], 990)


# -- payments --------------------------------------------------------------------------------------


def test_a_rule_declines_the_payment_the_buyer_made(shop, control):
    control("POST", "/scenarios", {"times": 1, "payment": {"outcome": "fail", "code": "balance_not_enough"}})
    number = new_order(shop)
    assert pay(control, shop, number)["status"] == "failed"
    assert shop.query(number) == DECLINED[shop.gateway]


def test_a_pending_payment_settles_on_the_clock(shop, control, sandbox):
    control("POST", "/scenarios", {"times": 1, "payment": {"outcome": "pending", "settle_after": 60}})
    number = new_order(shop)
    assert pay(control, shop, number)["status"] == "pending"
    sandbox.advance(59)
    assert shop.query(number) != PAID[shop.gateway]
    sandbox.advance(1)
    assert shop.query(number) == PAID[shop.gateway]


def test_an_order_is_paid_without_a_buyer(shop, control, receiver, sandbox):
    rule = {"match": {"operation": "create"}, "times": 1, "payment": {"outcome": "success", "settle_after": 30}}
    control("POST", "/scenarios", rule)
    number = new_order(shop)
    sandbox.advance(30)
    assert shop.query(number) == PAID[shop.gateway]
    assert shop.accepts(receiver.wait_for(1)[0], 990)


@pytest.mark.parametrize(("amount", "status"), [(601, "failed"), (602, "pending"), (1, "paid"), (100, "paid")])
def test_magic_amounts_and_ordinary_ones(shop, control, amount, status):
    number = new_order(shop, amount)
    assert pay(control, shop, number)["status"] == status


def test_magic_amount_6_07_signs_notifications_badly(shop, control, receiver):
    number = new_order(shop, 607)
    pay(control, shop, number)
    assert not shop.accepts(receiver.wait_for(1)[0], 607)
