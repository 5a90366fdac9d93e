"""Observations on both stores: purged with their order (and, for an order never made, by age), dropped by reset, and
shared by processes on one PostgreSQL database (a fault seen by one is followed up through another)."""

from __future__ import annotations

from datetime import datetime

import pytest

from sandbox.config import Config
from sandbox.core.models import Order
from sandbox.core.rules import Context
from sandbox.core.sandbox import Sandbox

MCHID = "1900000109"
TIMEOUT = {"status": 504}


def fault(space, out_trade_no: str, operation: str = "create") -> None:
    ctx = Context("wechatpay", operation, f"transactions.{operation}", MCHID, out_trade_no, 100)
    space.observations.fault("scn_test", TIMEOUT, True, ctx)


def faulted(space) -> dict[str, dict]:
    docs, _ = space.observations.of_merchant("wechatpay", MCHID)
    return {doc["out_trade_no"]: doc for doc in docs}


def paid(space, out_trade_no: str) -> None:
    draft = Order("wechatpay", MCHID, out_trade_no, "", 100, datetime.now())
    order, _ = space.payments.create(draft, lambda: f"T{out_trade_no}")
    space.payments.pay(order.key)


@pytest.fixture
def make(store_data):
    made = []

    def make(**settings) -> Sandbox:
        sandbox = Sandbox(Config(data_path=store_data, clock_mode="manual", **settings))
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        sandbox.stop()


def test_retention_purges_a_faulted_order_with_its_observations_and_an_order_never_made_by_age(make):
    space = make(retention="1h").default
    paid(space, "OBS-PAID")
    fault(space, "OBS-PAID", "refund")
    fault(space, "OBS-NEVER-MADE")  # the fault stopped the create: no order
    space.observations.bill_fetched("wechatpay", "bill.tradebill", MCHID)
    assert faulted(space).keys() == {"OBS-PAID", "OBS-NEVER-MADE"}

    space.advance(2 * 3600)

    assert faulted(space) == {}
    assert space.observations.of_merchant("wechatpay", MCHID)[1]["count"] == 1  # one small record per merchant
    space.observations.call("wechatpay", "query", "transactions.query", MCHID, "OBS-PAID")  # nothing waits: no-op
    assert faulted(space) == {}


def test_a_follow_up_closes_the_fault_and_reset_drops_everything_observed(make):
    space = make().default
    fault(space, "OBS-1")
    space.observations.call("wechatpay", "refund", "refunds.create", MCHID, "OBS-1")  # not a follow-up of a create
    assert faulted(space)["OBS-1"]["faults"][0]["followed_by"] is None

    space.observations.call("wechatpay", "query", "transactions.query", MCHID, "OBS-1")

    assert faulted(space)["OBS-1"]["faults"][0]["followed_by"]["operation"] == "query"
    space.observations.bill_fetched("wechatpay", "bill.tradebill", MCHID)
    space.reset()
    assert space.observations.of_merchant("wechatpay", MCHID) == ([], None)


def test_a_fault_seen_by_one_process_is_followed_up_through_another(postgres_url):
    first = Sandbox(Config(data_path=postgres_url, clock_mode="manual"))
    second = Sandbox(Config(data_path=postgres_url, clock_mode="manual"))
    try:
        second.default.observations.call("wechatpay", "query", "", MCHID, "OBS-X")  # reads the (empty) set
        fault(first.default, "OBS-X")
        second.refresh()  # as before every request: the announced fault makes it read the set again

        second.default.observations.call("wechatpay", "query", "transactions.query", MCHID, "OBS-X")

        first.refresh()
        assert faulted(first.default)["OBS-X"]["faults"][0]["followed_by"]["method"] == "transactions.query"
    finally:
        first.stop()
        second.stop()
