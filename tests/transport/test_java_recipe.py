"""A Java shop on the JDK alone (no SDK jars: no Maven here): HttpClient through the proxy, a keytool truststore."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import WECHAT, WECHAT_MERCHANT, WECHAT_PUBLIC_KEY_ID
from tests.tools import JDK, require_tool, run_java


def truststore(ca_file, folder) -> str:
    """`keytool -importcert` of the sandbox CA, as a Java user makes it."""
    store = folder / "paysandbox-truststore.p12"
    command = [require_tool("keytool", JDK), "-importcert", "-noprompt", "-alias", "paysandbox", "-file", str(ca_file)]
    command += ["-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return str(store)


def test_java_httpclient_signs_and_verifies_wechat_pay_v3_through_the_proxy(transport, tmp_path, http):
    properties = (
        "-Dhttps.proxyHost=127.0.0.1",
        f"-Dhttps.proxyPort={transport.proxy_port}",
        f"-Djavax.net.ssl.trustStore={truststore(transport.ca_file, tmp_path)}",
        "-Djavax.net.ssl.trustStorePassword=changeit",
        "-Djdk.net.hosts.file=/dev/null",  # no name resolves here: only the proxy can reach the host
    )
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
