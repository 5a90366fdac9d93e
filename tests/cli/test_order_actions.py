"""`paysandbox orders refund | close`: the merchant's actions as a user types them (yuan, --json, refusals)."""

from __future__ import annotations

import re

from tests.cli.conftest import APP, paysandbox

NOBODY = "http://127.0.0.1:9/notify"


def paid(sbx, out_trade_no: str) -> str:
    sbx.order(out_trade_no, 1000, NOBODY)  # alipay.trade.create: a trade that exists, waiting for the buyer
    sbx.api("POST", f"/orders/alipay/{APP}/{out_trade_no}/pay", json={})
    return out_trade_no


def test_refund_takes_yuan_and_prints_the_order_and_the_refund(sbx):
    paid(sbx, "QA-CLI-R")
    part = ("orders", "refund", "alipay", APP, "QA-CLI-R", "--amount", "3.50", "--out-refund-no", "QA-CLI-R1")
    out = sbx.cli(*part)
    assert re.search(r"^refunded +3.50$", out, re.M) and "refund  QA-CLI-R1  3.50  success" in out
    again = sbx.cli_json(*part)
    assert (again["refund"]["out_refund_no"], again["refunded_amount"]) == ("QA-CLI-R1", 350)  # the same refund
    rest = sbx.cli_json("orders", "refund", "alipay", APP, "QA-CLI-R", "--reason", "out of stock")
    assert (rest["status"], rest["refund"]["amount"], rest["refund"]["reason"]) == ("refunded", 650, "out of stock")
    assert rest["refund"]["via"] == "control_api"


def test_close_closes_a_pending_order(sbx):
    sbx.order("QA-CLI-C", 1000, NOBODY)
    out = sbx.cli("orders", "close", "alipay", APP, "QA-CLI-C")
    assert "closed (trade_status=TRADE_CLOSED" in out and "via=control_api" in out
    assert sbx.api("GET", f"/orders/alipay/{APP}/QA-CLI-C")["status"] == "closed"


def test_refusals_are_one_line(sbx):
    sbx.order("QA-CLI-P", 1000, NOBODY)
    result = paysandbox("orders", "refund", "alipay", APP, "QA-CLI-P", "--url", sbx.url)
    assert result.returncode == 1 and result.stderr.startswith("paysandbox: ORDER_NOT_PAID: alipay refused it: ")
    assert len(result.stderr.splitlines()) == 1
    result = paysandbox("orders", "refund", "alipay", APP, "QA-CLI-P", "--amount", "0", "--url", sbx.url)
    assert result.returncode == 2 and "'0' is no amount" in result.stderr
    result = paysandbox("orders", "close", "unionpay", "777290058110097", "NO-SUCH", "--url", sbx.url)
    assert result.returncode == 1 and result.stderr.startswith("paysandbox: ORDER_NOT_FOUND: ")
    assert "Traceback" not in result.stderr
