"""Scenario rules: strict parsing that names the bad key, matching, the order rules are tried, times per effect."""

import pytest

from sandbox.core.rules import Context, parse_rule, processed
from sandbox.errors import InvalidParameter

GATEWAYS = ("alipay", "wechatpay", "unionpay")


def rule(payload: dict, rule_id: str = "scn_1"):
    return parse_rule(payload, GATEWAYS, rule_id)


@pytest.mark.parametrize(
    ("payload", "bad_key"),
    [
        ([], "rule"),
        ({"match": {"gateway": "alipay"}}, "rule"),
        ({"notfy": {"drop": 1}}, "notfy"),
        ({"match": {"gatway": "alipay"}, "notify": {"drop": 1}}, "match.gatway"),
        ({"match": {"gateway": "paypal"}, "notify": {"drop": 1}}, "match.gateway"),
        ({"match": {"amount": "12.34"}, "notify": {"drop": 1}}, "match.amount"),
        ({"match": {"amount": {"min": 200, "max": 100}}, "notify": {"drop": 1}}, "match.amount"),
        ({"match": {"amount": {"least": 1}}, "notify": {"drop": 1}}, "match.amount.least"),
        ({"match": {"out_trade_no": ""}, "notify": {"drop": 1}}, "match.out_trade_no"),
        ({"times": 0, "notify": {"drop": 1}}, "times"),
        ({"times": True, "notify": {"drop": 1}}, "times"),
        ({"payment": {"outcome": "maybe"}}, "payment.outcome"),
        ({"payment": {"outcome": "success", "code": "NOTENOUGH"}}, "payment.code"),
        ({"payment": {"outcome": "fail", "then": "success"}}, "payment.then"),
        ({"payment": {"outcome": "pending", "then": "later"}}, "payment.then"),
        ({"payment": {"outcome": "pending", "settle_after": -1}}, "payment.settle_after"),
        ({"payment": {"outcome": "success", "settle_after": 30}}, "payment.settle_after"),
        ({"match": {"operation": "create"}, "payment": {"outcome": "pending"}}, "payment.outcome"),
        ({"notify": {}}, "notify"),
        ({"notify": {"drop": -1}}, "notify.drop"),
        ({"notify": {"duplicate": 21}}, "notify.duplicate"),
        ({"notify": {"delay": "10m"}}, "notify.delay"),
        ({"notify": {"signature": "wrong"}}, "notify.signature"),
        ({"notify": {"tamper": {}}}, "notify.tamper"),
        ({"notify": {"tamper": {"amount": [1]}}}, "notify.tamper.amount"),
        ({"notify": {"tamper": {"amount": "9.99"}}}, "notify.tamper.amount"),
        ({"notify": {"timestamp": "old"}}, "notify.timestamp"),
        ({"api": {"status": 418}}, "api.status"),
        ({"api": {"delay": 301}}, "api.delay"),
        ({"api": {"body": "empty"}}, "api.body"),
        ({"api": {"disconnect": False}}, "api.disconnect"),
        ({"api": {"status": 503, "error": "ACQ.SYSTEM_ERROR"}}, "api.error"),
        ({"api": {"processed": "yes", "status": 503}}, "api.processed"),
        ({"api": {"processed": False, "body": "unsigned"}}, "api.processed"),
        ({"api": {"processed": True}}, "api"),
    ],
)
def test_a_rule_that_cannot_be_understood_names_the_bad_key(payload, bad_key):
    with pytest.raises(InvalidParameter) as raised:
        rule(payload)
    assert raised.value.name == bad_key
    assert raised.value.message


def test_omitted_match_keys_match_anything():
    parsed = rule({"notify": {"drop": 1}})
    assert parsed.matches("notify", Context("wechatpay", "notify", "TRANSACTION.SUCCESS", "1900000109", "X", 1))


def test_match_by_gateway_merchant_glob_and_amount_range():
    parsed = rule(
        {
            "match": {
                "gateway": "alipay",
                "merchant_id": "2021000000000001",
                "out_trade_no": "QA-*",
                "amount": {"min": 100, "max": 200},
            },
            "notify": {"drop": 1},
        }
    )
    hit = Context("alipay", "notify", "TRADE_SUCCESS", "2021000000000001", "QA-7", 150)
    assert parsed.matches("notify", hit)
    assert not parsed.matches("notify", Context("unionpay", "notify", "", "2021000000000001", "QA-7", 150))
    assert not parsed.matches("notify", Context("alipay", "notify", "", "2021000000000002", "QA-7", 150))
    assert not parsed.matches("notify", Context("alipay", "notify", "", "2021000000000001", "XQA-7", 150))
    assert not parsed.matches("notify", Context("alipay", "notify", "", "2021000000000001", "QA-7", 201))
    assert not parsed.matches("notify", Context("alipay", "notify", "", "2021000000000001", "QA-7", None))


def test_operation_matches_the_neutral_name_or_the_wire_method():
    neutral = rule({"match": {"operation": "query"}, "api": {"status": 503}})
    wire = rule({"match": {"operation": "alipay.trade.query"}, "api": {"status": 503}})
    call = Context("alipay", "query", "alipay.trade.query")
    assert neutral.matches("api", call) and wire.matches("api", call)
    assert not wire.matches("api", Context("alipay", "query", "alipay.trade.fastpay.refund.query"))


def test_a_rule_acts_only_through_the_effects_it_has():
    parsed = rule({"api": {"status": 503}})
    assert not parsed.matches("notify", Context("alipay", "notify"))
    assert not parsed.matches("payment", Context("alipay", "pay"))


def test_payment_rules_act_when_the_buyer_pays_unless_they_name_the_creation():
    on_payment = rule({"payment": {"outcome": "fail"}})
    buyerless = rule({"match": {"operation": "create"}, "payment": {"outcome": "success", "settle_after": 30}})
    assert on_payment.matches("payment", Context("alipay", "pay")) and not on_payment.matches(
        "payment", Context("alipay", "create")
    )
    assert buyerless.matches("payment", Context("alipay", "create")) and not buyerless.matches(
        "payment", Context("alipay", "pay")
    )


def test_pending_defaults_to_settle_thirty_seconds_later_with_success():
    assert rule({"payment": {"outcome": "pending"}}).payment == {
        "outcome": "pending",
        "settle_after": 30,
        "then": "success",
    }


def test_times_is_counted_per_effect():
    parsed = rule({"times": 2, "notify": {"drop": 1}, "api": {"status": 503}})
    assert parsed.remaining == {"notify": 2, "api": 2}
    assert parsed.left == 2
    assert rule({"notify": {"drop": 1}}).left is None


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        ({"status": 503}, False),
        ({"status": 500}, False),
        ({"status": 502}, False),
        ({"status": 504}, True),
        ({"error": "ACQ.SYSTEM_ERROR"}, False),
        ({"error": "ACQ.SYSTEM_ERROR", "processed": True}, True),
        ({"disconnect": True}, True),
        ({"disconnect": True, "processed": False}, False),
        ({"delay": 1}, True),
        ({"body": "malformed"}, True),
    ],
)
def test_whether_the_call_takes_effect_before_the_fault(api, expected):
    assert processed(rule({"api": api}).api) is expected
