"""Node SDKs, unmodified, through the proxy: global-agent for one with a hard-coded host, alipay-sdk's own proxy
agent for Alipay (gateway.do and OpenAPI v3 on their default https://openapi.alipay.com), NODE_EXTRA_CA_CERTS as
their trust.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import WECHAT, WECHAT_MERCHANT
from tests.nodejs import NODE_DIR, NodeAlipay, NodeAlipayError, NodeScript, require_node

APP = "2021000000000001"


def clean_env(**extra: str) -> dict:
    """This environment less any proxy or CA setting of the machine's own, plus `extra`."""
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS", "GLOBAL_AGENT_NO_PROXY"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in drop}
    return {**env, **extra}


@pytest.fixture
def alipay_through_proxy(transport, alipay_demo):
    """alipay-sdk trusting the sandbox CA, configured with nothing but its keys and `proxyAgent`."""
    script = NodeScript("alipay.js", env=clean_env(NODE_EXTRA_CA_CERTS=str(transport.ca_file)))
    yield NodeAlipay(
        script,
        appId=APP,
        privateKey=alipay_demo.app_private_key,
        alipayPublicKey=alipay_demo.alipay_public_key,
        proxy=transport.proxy_url,  # tests/node/alipay.js: proxyAgent: new ProxyAgent(proxy)
    )
    script.close()


def test_wechatpay_node_v3_with_global_agent_and_node_extra_ca_certs(transport, http, receiver):
    payload = {
        "appid": WECHAT_MERCHANT["appid"],
        "mchid": WECHAT_MERCHANT["merchant_id"],
        "merchant_cert": (WECHAT / "demo/merchant_cert.pem").read_text(),
        "private_key": (WECHAT / "demo/merchant_private_key.pem").read_text(),
        "out_trade_no": "NODE-WX-1",
        "notify_url": f"{receiver.url}/notify",
    }
    env = clean_env(GLOBAL_AGENT_HTTP_PROXY=transport.proxy_url, NODE_EXTRA_CA_CERTS=str(transport.ca_file))
    result = subprocess.run(
        [require_node(), "-r", "global-agent/bootstrap", str(NODE_DIR / "wechatpay_node_v3.js")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=NODE_DIR,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["native"]["status"] == 200, answer
    assert answer["native"]["data"]["code_url"].startswith("weixin://")
    assert answer["query"]["data"]["trade_state"] == "NOTPAY"
    order = http.get(f"{transport.sandbox_url}/_sandbox/orders/wechatpay/1900000109/NODE-WX-1", timeout=5).json()
    assert order["status"] == "pending"


def test_alipay_sdk_exec_on_its_default_gateway_with_its_proxy_agent(alipay_through_proxy):
    biz = {"out_trade_no": "NODE-ALI-1", "total_amount": "9.90", "subject": "through the proxy"}
    precreate = alipay_through_proxy.exec("alipay.trade.precreate", {"bizContent": biz})
    assert precreate["code"] == "10000" and precreate["qrCode"]  # exec() verified the answer's signature
    query = alipay_through_proxy.exec("alipay.trade.query", {"bizContent": {"out_trade_no": "NODE-ALI-1"}})
    assert query["code"] == "40004" and query["subCode"] == "ACQ.TRADE_NOT_EXIST"


def test_alipay_sdk_curl_speaks_openapi_v3_on_its_default_endpoint_through_the_proxy(alipay_through_proxy):
    body = {"out_trade_no": "NODE-V3-1", "total_amount": "1.00", "subject": "v3", "buyer_id": "2088000000000042"}
    assert alipay_through_proxy.curl("POST", "/v3/alipay/trade/create", body)["status"] == 200
    answer = alipay_through_proxy.curl("GET", "/v3/alipay/trade/query", query={"out_trade_no": "NODE-V3-1"})
    assert answer["data"]["trade_status"] == "WAIT_BUYER_PAY"  # curl() verified the signed headers


def test_node_without_the_ca_refuses_the_sandbox_and_the_sandbox_logs_one_line(transport, alipay_demo, transport_log):
    script = NodeScript("alipay.js", env=clean_env())
    try:
        node = NodeAlipay(
            script,
            appId=APP,
            privateKey=alipay_demo.app_private_key,
            alipayPublicKey=alipay_demo.alipay_public_key,
            proxy=transport.proxy_url,
        )
        with pytest.raises(NodeAlipayError, match="unable to verify the first certificate"):
            node.exec("alipay.trade.query", {"bizContent": {"out_trade_no": "NODE-ALI-2"}})
    finally:
        script.close()
    [line] = transport_log.wait_for(1)
    assert "TLS handshake with 127.0.0.1 on the proxy (CONNECT openapi.alipay.com) failed" in line.getMessage()
    assert line.exc_info is None


def test_a_page_handed_out_through_the_proxy_points_at_the_sandbox_a_browser_can_reach(alipay_through_proxy, transport):
    body = {"out_trade_no": "NODE-V3-QR", "total_amount": "1.00", "subject": "scan me"}
    qr_code = alipay_through_proxy.curl("POST", "/v3/alipay/trade/precreate", body)["data"]["qr_code"]
    assert qr_code.startswith(f"{transport.sandbox_url}/cashier/alipay/qr/")  # not https://openapi.alipay.com/...
