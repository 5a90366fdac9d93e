"""A Java shop on the JDK alone (no SDK jars: no Maven here): HttpClient through the proxy, a keytool truststore."""

from __future__ import annotations

import json

from tests.conftest import WECHAT, WECHAT_MERCHANT, WECHAT_PUBLIC_KEY_ID
from tests.tools import java_proxy_options, run_java


def test_java_httpclient_signs_and_verifies_wechat_pay_v3_through_the_proxy(transport, tmp_path, http):
    properties = java_proxy_options(transport.proxy_port, transport.ca_file, tmp_path)
    lines = run_java(
        "WechatPayV3Client.java",
        WECHAT_MERCHANT["merchant_id"],
        WECHAT_MERCHANT["appid"],
        WECHAT_MERCHANT["merchant_serial_no"],
        str(WECHAT / "demo/merchant_private_key.pem"),
        str(WECHAT / "sandbox/pub_key.pem"),
        WECHAT_PUBLIC_KEY_ID,
        "JAVA-1",
        "http://127.0.0.1:9/notify",
        options=properties,
    )
    created, queried = (line.split(" ", 2) for line in lines)
    assert created[:2] == ["200", "true"] and json.loads(created[2])["code_url"].startswith("weixin://")
    assert queried[:2] == ["200", "true"] and json.loads(queried[2])["trade_state"] == "NOTPAY"
    order = http.get(f"{transport.sandbox_url}/_sandbox/orders/wechatpay/1900000109/JAVA-1", timeout=5).json()
    assert order["status"] == "pending"
