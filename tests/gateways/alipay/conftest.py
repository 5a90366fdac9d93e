"""Fixtures shared by the real-SDK compatibility tests: plain HTTP, the buyer's pay action, the notify URL."""

from __future__ import annotations

import pytest
from alipay import AliPay

from sandbox.merchant.alipay_v3 import AlipayV3Client
from tests.nodejs import NodeAlipay


@pytest.fixture
def gateway_url(live) -> str:
    return f"{live.url}/gateway.do"


@pytest.fixture
def notify_url(receiver) -> str:
    return f"{receiver.url}/notify"


@pytest.fixture
def alipay(gateway_url, alipay_demo) -> AliPay:
    """python-alipay-sdk as the demo app, unmodified but for its gateway URL."""
    client = AliPay(
        appid=alipay_demo.app_id,
        app_private_key_string=alipay_demo.app_private_key,
        alipay_public_key_string=alipay_demo.alipay_public_key,
        sign_type="RSA2",
    )
    client._gateway = gateway_url  # the only change to the SDK (docs/protocols/alipay.md#sdk-quirks)
    return client


@pytest.fixture
def pay(live, http, alipay_demo):
    """The buyer pays (or fails to pay) through the control API, as after a real cashier visit."""

    def pay(out_trade_no: str, outcome: str = "success") -> dict:
        url = f"{live.url}/_sandbox/orders/alipay/{alipay_demo.app_id}/{out_trade_no}/pay"
        reply = http.post(url, json={"outcome": outcome})
        assert reply.status_code == 200, reply.text
        return reply.json()

    return pay


@pytest.fixture
def node_alipay(live, alipay_demo, alipay_node_script) -> NodeAlipay:
    """The npm `alipay-sdk` as the demo app, unmodified but for its endpoint (v3) and gateway (gateway.do)."""
    return NodeAlipay(
        alipay_node_script,
        appId=alipay_demo.app_id,
        privateKey=alipay_demo.app_private_key,
        alipayPublicKey=alipay_demo.alipay_public_key,
        endpoint=live.url,
        gateway=f"{live.url}/gateway.do",
    )


@pytest.fixture
def node_alipay_cert(live, alipay_demo, alipay_node_script) -> NodeAlipay:
    """The npm `alipay-sdk` in certificate mode: the app certificate, the Alipay certificate and root."""
    return NodeAlipay(
        alipay_node_script,
        appId=alipay_demo.app_id,
        privateKey=alipay_demo.app_private_key,
        appCertContent=alipay_demo.app_cert,
        alipayPublicCertContent=alipay_demo.alipay_public_key_cert,
        alipayRootCertContent=alipay_demo.alipay_root_cert,
        endpoint=live.url,
    )


@pytest.fixture
def alipay_v3(live, alipay_demo) -> AlipayV3Client:
    """The reference v3 client as the demo app."""
    return AlipayV3Client(alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, live.url)
