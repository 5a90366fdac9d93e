"""A rule's match.operation must be a name some gateway uses: a typo is a 400 naming the known operations.

Over real HTTP (POST /_sandbox/scenarios) and through `paysandbox serve --scenarios`, where a file is loaded.
"""

from __future__ import annotations

import re

import pytest

from sandbox.core.rules import BUYER_CHANNELS, NEUTRAL_OPERATIONS
from sandbox.gateways.alipay import handlers as alipay_handlers
from sandbox.gateways.alipay import notify as alipay_notify
from sandbox.gateways.alipay.adapter import RULE_METHODS as ALIPAY
from sandbox.gateways.unionpay import faults as unionpay_faults
from sandbox.gateways.unionpay import notify as unionpay_notify
from sandbox.gateways.unionpay.adapter import RULE_METHODS as UNIONPAY
from sandbox.gateways.wechatpay import faults as wechatpay_faults
from sandbox.gateways.wechatpay.adapter import RULE_METHODS as WECHATPAY
from sandbox.gateways.wechatpay.v3 import notify as wechatpay_notify
from tests.test_cli import cli, free_port

NAMES = {"alipay": ALIPAY, "wechatpay": WECHATPAY, "unionpay": UNIONPAY}


def add(http, live, match: dict):
    return http.post(f"{live.url}/_sandbox/scenarios", json={"match": match, "api": {"status": 503}})


def test_a_typo_in_match_operation_is_a_400_naming_the_gateways_operations(live, http):
    answer = add(http, live, {"gateway": "alipay", "operation": "alipay.trade.qeury"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "INVALID_PARAMETER"
    assert error["field"] == "match.operation"
    assert "'alipay.trade.qeury' is not an operation of alipay" in error["message"]
    assert "alipay.trade.query" in error["message"] and "query" in error["message"]
    assert "transactions.query" not in error["message"]  # only the gateway the rule names
    assert http.get(f"{live.url}/_sandbox/scenarios").json()["scenarios"] == []


def test_without_a_gateway_the_message_names_every_gateways_operations(live, http):
    error = add(http, live, {"operation": "qeury"}).json()["error"]
    for gateway, names in NAMES.items():
        assert f"{gateway}: {', '.join(names)}" in error["message"]
    assert f"every gateway: {', '.join(NEUTRAL_OPERATIONS + BUYER_CHANNELS)}" in error["message"]


def test_another_gateways_method_is_refused_when_the_rule_names_a_gateway(live, http):
    answer = add(http, live, {"gateway": "unionpay", "operation": "transactions.query"})
    assert answer.status_code == 400
    assert "unionpay: consume, queryTrans, refund, undo" in answer.json()["error"]["message"]


@pytest.mark.parametrize("gateway", NAMES)
def test_every_known_name_is_taken(live, http, gateway):
    for operation in (*NEUTRAL_OPERATIONS, *BUYER_CHANNELS, *NAMES[gateway]):
        answer = add(http, live, {"gateway": gateway, "operation": operation})
        assert answer.status_code == 201, (operation, answer.text)
        assert add(http, live, {"operation": operation}).status_code == 201, operation


def test_each_adapter_names_every_method_and_event_its_calls_and_notifications_carry():
    alipay = {*alipay_handlers.METHODS, *alipay_notify.TRADE_STATUS.values()} - {"WAIT_BUYER_PAY"}
    assert alipay == set(ALIPAY)
    v3 = set()
    for _, pattern, method, _ in wechatpay_faults._V3_ROUTES:
        alternatives = re.fullmatch(r"[^(]*\(([a-z0-9|]+)\)", pattern.pattern)
        v3 |= {method.format(a) for a in alternatives.group(1).split("|")} if "{0}" in method else {method}
    events = {event for event, _ in wechatpay_notify.EVENTS.values()}
    assert {*v3, *wechatpay_faults.V2_OPERATIONS, *events} == set(WECHATPAY)
    calls = {method for by_type in unionpay_faults.CALLS.values() for _, method in by_type.values()}
    assert {*calls, *unionpay_notify.EVENTS.values()} == set(UNIONPAY)


def test_a_scenarios_file_with_a_typo_in_match_operation_stops_serve(tmp_path):
    path = tmp_path / "qa.yaml"
    path.write_text("- match: {gateway: wechatpay, operation: refund.create}\n  api: {status: 503}\n")
    result = cli("serve", "--port", str(free_port()), "--scenarios", str(path))
    assert result.returncode == 2
    assert "scenarios[0]: match.operation" in result.stderr
    assert "'refund.create' is not an operation of wechatpay" in result.stderr
    assert "refunds.create" in result.stderr
    assert "Traceback" not in result.stderr
