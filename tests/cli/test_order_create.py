"""`paysandbox orders create`: the amount in yuan as typed (no floats), the order and where to pay it, --json."""

from __future__ import annotations

import argparse

import pytest

from sandbox.cli.order_create import fen, render
from tests.cli.conftest import APP, paysandbox

NOBODY = "http://127.0.0.1:9/notify"


@pytest.mark.parametrize(
    ("typed", "amount"), [("9.90", 990), ("1", 100), ("0.01", 1), ("0.1", 10), ("19.99", 1999), (" 5 ", 500)]
)
def test_yuan_as_typed_is_exact_fen(typed, amount):
    assert fen(typed) == amount


@pytest.mark.parametrize("typed", ["9.999", "abc", "1e3", "-1", "0", "0.00", "nan", "", "1,5", "100000000.01"])
def test_anything_else_is_refused_in_one_line(typed):
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        fen(typed)
    assert "\n" not in str(refused.value) and repr(typed) in str(refused.value)


def test_create_prints_the_order_and_where_to_pay(sbx):
    out = sbx.cli("orders", "create", "--gateway", "alipay", "--amount", "9.90", "--out-trade-no", "QA-CLI-1")
    assert "QA-CLI-1" in out and "9.90 CNY" in out and "pending" in out
    order = sbx.api("GET", f"/orders/alipay/{APP}/QA-CLI-1")
    assert (order["amount"], order["subject"], order["product"]) == (990, "paysandbox test order", "page")
    assert f"pay_url  {sbx.url}/cashier/alipay/{order['trade_no']}" in out


def test_create_json_is_the_api_answer_and_a_qr_product_has_its_code(sbx):
    answer = sbx.cli_json(
        "orders",
        "create",
        "--gateway",
        "wechatpay",
        "--amount",
        "0.01",
        "--notify-url",
        NOBODY,
        "--subject",
        "Tea",
        "--merchant-id",
        "1900000109",
    )
    assert (answer["amount"], answer["subject"], answer["product"]) == (1, "Tea", "NATIVE")
    assert answer["qr_code"].startswith("weixin://wxpay/bizpayurl?pr=")
    out = sbx.cli("orders", "create", "--gateway", "alipay", "--amount", "1", "--method", "precreate")
    assert "qr_code  http" in out


def test_a_terminal_gets_the_qr_code_drawn():
    order = {"gateway": "alipay", "merchant_id": APP, "out_trade_no": "X", "amount": 1, "status": "pending"}
    drawn = render({**order, "pay_url": "http://x/qr/1", "qr_code": "http://x/qr/1"}, with_qr=True)
    plain = render({**order, "pay_url": "http://x/qr/1", "qr_code": "http://x/qr/1"}, with_qr=False)
    assert len(drawn.splitlines()) > len(plain.splitlines()) + 10
    assert "(none: pay it with `orders pay`)" in render({**order, "pay_url": None}, with_qr=True)


def test_refusals_are_one_line(sbx):
    result = paysandbox("orders", "create", "--gateway", "wechatpay", "--amount", "1", "--url", sbx.url)
    assert result.returncode == 1
    assert result.stderr == "paysandbox: INVALID_PARAMETER: wechatpay refuses notify_url: notify_url is required\n"
    result = paysandbox("orders", "create", "--gateway", "alipay", "--amount", "9.999", "--url", sbx.url)
    assert result.returncode == 2 and "'9.999' is not an amount in yuan" in result.stderr
    assert "Traceback" not in result.stderr
