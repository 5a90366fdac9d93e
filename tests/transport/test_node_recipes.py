"""Node SDKs, unmodified, through the proxy: global-agent for one with a hard-coded host, a proxy agent for alipay-sdk.

Each runs as `node tests/node/<script>.js` (JSON in on stdin, JSON out), with NODE_EXTRA_CA_CERTS as its trust.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import WECHAT, WECHAT_MERCHANT
from tests.transport.conftest import require_node_modules, require_tool

APP = "2021000000000001"


def node(script: str, payload: dict, env: dict, preload: tuple[str, ...] = ()) -> dict:
    folder = require_node_modules()
    executable = require_tool("node", "apt-get install nodejs npm")
    result = subprocess.run(
        [executable, *preload, str(folder / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def clean_env(**extra: str) -> dict:
    """This environment less any proxy or CA setting of the machine's own, plus `extra`."""
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS", "GLOBAL_AGENT_NO_PROXY"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in drop}
    return {**env, **extra}


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
    answer = node("wechatpay_node_v3.js", payload, env, preload=("-r", "global-agent/bootstrap"))
    assert answer["native"]["status"] == 200, answer
    assert answer["native"]["data"]["code_url"].startswith("weixin://")
    assert answer["query"]["data"]["trade_state"] == "NOTPAY"
    order = http.get(f"{transport.sandbox_url}/_sandbox/orders/wechatpay/1900000109/NODE-WX-1", timeout=5).json()
    assert order["status"] == "pending"


def test_alipay_sdk_exec_on_its_default_gateway_with_an_undici_proxy_agent(transport, alipay_demo):
    payload = {
        "proxy": transport.proxy_url,
        "app_id": APP,
        "private_key": alipay_demo.app_private_key,
        "alipay_public_key": alipay_demo.alipay_public_key,
        "out_trade_no": "NODE-ALI-1",
    }
    answer = node("alipay_sdk_exec.js", payload, clean_env(NODE_EXTRA_CA_CERTS=str(transport.ca_file)))
    assert answer["precreate"]["code"] == "10000", answer  # exec() verified the answer's signature
    assert answer["precreate"]["qrCode"]
    assert answer["query"]["code"] == "40004" and answer["query"]["subCode"] == "ACQ.TRADE_NOT_EXIST"


def test_node_without_the_ca_refuses_the_sandbox_and_the_sandbox_logs_one_line(transport, alipay_demo, transport_log):
    payload = {"proxy": transport.proxy_url, "app_id": APP, "private_key": alipay_demo.app_private_key}
    payload |= {"alipay_public_key": alipay_demo.alipay_public_key, "out_trade_no": "NODE-ALI-2"}
    with pytest.raises(AssertionError, match="unable to verify the first certificate"):
        node("alipay_sdk_exec.js", payload, clean_env())
    [line] = transport_log.wait_for(1)
    assert "TLS handshake with 127.0.0.1 on the proxy (CONNECT openapi.alipay.com) failed" in line.getMessage()
    assert line.exc_info is None
