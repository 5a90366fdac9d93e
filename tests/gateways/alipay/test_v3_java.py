"""OpenAPI v3 from Java: the JDK's own HTTP client and signatures, configured as Alipay's Java v3 SDK is."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.tools import run_java


def test_a_java_shop_signs_a_v3_query_and_verifies_the_answer(live, node_alipay, alipay_demo):
    node_alipay.curl(
        "POST",
        "/v3/alipay/trade/create",
        {"out_trade_no": "V3-JAVA-1", "total_amount": "3.00", "subject": "Bun", "buyer_id": "2088000000000042"},
    )
    keys = json.loads(
        subprocess.run(
            [sys.executable, "-m", "sandbox", "keys", "--json"], capture_output=True, text=True, check=True
        ).stdout
    )["merchants"][0]
    status, verified, body = run_java(
        "AlipayV3Query.java",
        live.url,
        alipay_demo.app_id,
        keys["app_private_key_pkcs8_base64"],
        keys["alipay_public_key_base64"],
        "V3-JAVA-1",
    )
    assert (status, verified) == ("200", "verified")
    assert json.loads(body)["trade_status"] == "WAIT_BUYER_PAY"
