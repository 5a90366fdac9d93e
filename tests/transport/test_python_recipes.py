"""Python SDKs with hard-coded hosts, unmodified, through the proxy: only their environment names it and the CA."""

from __future__ import annotations

import json
import urllib.request

import pytest
from alipay import AliPay
from wechatpayv3 import WeChatPay, WeChatPayType

from tests.conftest import FIXTURES, WECHAT, WECHAT_MERCHANT

APP = "2021000000000001"


def test_wechatpayv3_pays_and_queries_through_the_proxy_with_https_proxy_and_requests_ca_bundle(
    ssl_env, http, receiver, tmp_path
):
    # Certificate mode with an empty cert_dir: the constructor itself downloads the platform certificates from
    # https://api.mch.weixin.qq.com/v3/certificates, through the proxy.
    wx = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=WECHAT_MERCHANT["merchant_id"],
        private_key=(WECHAT / "demo/merchant_private_key.pem").read_text(),
        cert_serial_no=WECHAT_MERCHANT["merchant_serial_no"],
        apiv3_key=WECHAT_MERCHANT["apiv3_key"],
        appid=WECHAT_MERCHANT["appid"],
        notify_url=f"{receiver.url}/notify",
        cert_dir=str(tmp_path),
        timeout=(5, 10),
    )
    assert wx._core._gate_way == "https://api.mch.weixin.qq.com"  # untouched
    code, message = wx.pay(description="proxy", out_trade_no="PROXY-WX-1", amount={"total": 1})
    assert code == 200 and json.loads(message)["code_url"].startswith("weixin://"), message

    paid = http.post(f"{ssl_env.sandbox_url}/_sandbox/orders/wechatpay/1900000109/PROXY-WX-1/pay", json={})
    assert paid.status_code == 200
    code, message = wx.query(out_trade_no="PROXY-WX-1")  # the SDK verified the answer's signature
    assert code == 200 and json.loads(message)["trade_state"] == "SUCCESS", message


def test_python_alipay_sdk_on_its_default_gateway_through_the_proxy_with_ssl_cert_file(ssl_env, monkeypatch, http):
    # urllib's shared opener reads the proxy settings once; a fresh process builds it from this environment.
    monkeypatch.setattr(urllib.request, "_opener", None)
    alipay = AliPay(
        appid=APP,
        app_notify_url=None,
        app_private_key_string=(FIXTURES / "alipay/demo/app_private_key.pem").read_text(),
        alipay_public_key_string=(FIXTURES / "alipay/sandbox/alipay_public_key.pem").read_text(),
    )
    assert alipay._gateway == "https://openapi.alipay.com/gateway.do"  # untouched
    created = alipay.api_alipay_trade_precreate(subject="proxy", out_trade_no="PROXY-ALI-1", total_amount="9.90")
    assert created["code"] == "10000", created
    http.post(f"{ssl_env.sandbox_url}/_sandbox/orders/alipay/{APP}/PROXY-ALI-1/pay", json={}).raise_for_status()
    assert alipay.api_alipay_trade_query(out_trade_no="PROXY-ALI-1")["trade_status"] == "TRADE_SUCCESS"


def test_without_the_ca_python_refuses_the_sandbox_certificate(ssl_env, monkeypatch):
    monkeypatch.setattr(urllib.request, "_opener", None)
    monkeypatch.setenv("SSL_CERT_FILE", str(FIXTURES / "unionpay/sandbox/root.pem"))  # some other CA
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen("https://openapi.alipay.com/gateway.do", timeout=5)
