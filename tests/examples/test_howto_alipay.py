"""docs/getting-started.md includes the block between the nutshell markers: run as a test so the docs stay true."""

from pathlib import Path

import requests
from alipay import AliPay


def test_nutshell_precreate_pay_query(live, alipay_demo):
    sandbox = live.url  # in the docs: "http://127.0.0.1:8008"

    # --8<-- [start:nutshell]
    alipay = AliPay(
        appid="2021000000000001",
        app_private_key_string=Path("fixtures/alipay/demo/app_private_key.pem").read_text(),
        alipay_public_key_string=Path("fixtures/alipay/sandbox/alipay_public_key.pem").read_text(),
    )
    alipay._gateway = sandbox + "/gateway.do"  # the one change from production

    order = alipay.api_alipay_trade_precreate(subject="Coffee", out_trade_no="order-1", total_amount="9.90")
    requests.get(order["qr_code"])  # the buyer scans the code (opens the scan page)
    requests.post(f"{sandbox}/_sandbox/orders/alipay/2021000000000001/order-1/pay", json={"outcome": "success"})

    assert alipay.api_alipay_trade_query(out_trade_no="order-1")["trade_status"] == "TRADE_SUCCESS"
    # --8<-- [end:nutshell]
