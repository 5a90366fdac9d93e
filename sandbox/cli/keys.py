"""`paysandbox keys`: the demo merchants' TEST-ONLY keys from fixtures/, and how to point each SDK at the sandbox."""

from __future__ import annotations

import argparse
import base64
import json
import os
from pathlib import Path

from sandbox.config import Config


def register(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="print the demo merchants' keys and how to point an SDK here")
    # Read from fixtures/, no sandbox needed: --url only shapes the URLs printed (default $SANDBOX_URL, else the port).
    keys.add_argument(
        "--url",
        default=os.environ.get("SANDBOX_URL") or None,
        help="the sandbox base URL (default http://127.0.0.1:8008)",
    )
    keys.add_argument("--json", action="store_true", help="machine-readable output")
    keys.set_defaults(handler=_keys)


def _keys(args: argparse.Namespace, config: Config) -> int:
    base = (args.url or f"http://127.0.0.1:{config.port}").rstrip("/")
    fixtures = Path(config.fixtures_dir)
    demo = json.loads((fixtures / "alipay/demo/merchant.json").read_text())
    alipay = {
        "gateway": "alipay",
        "app_id": demo["merchant_id"],
        "gateway_url": f"{base}/gateway.do",
        "app_private_key": (fixtures / "alipay/demo" / demo["app_private_key_file"]).read_text(),
        "alipay_public_key": (fixtures / "alipay/sandbox/alipay_public_key.pem").read_text(),
        "openapi_v3_endpoint": base,
        "cert_mode": {
            "app_public_key_cert": str(fixtures / "alipay/demo" / demo["app_cert_file"]),
            "alipay_public_key_cert": str(fixtures / "alipay/sandbox/alipay_public_key_cert.pem"),
            "alipay_root_cert": str(fixtures / "alipay/sandbox/root_cert.pem"),
        },
    }
    from sandbox.core import crypto  # here: other commands start without pycryptodome

    # Alipay's Java SDKs want bare base64: the private key as PKCS#8, the public key as X.509 SubjectPublicKeyInfo.
    alipay["app_private_key_pkcs8_base64"] = _base64_der(crypto.load_private_key(alipay["app_private_key"]), pkcs=8)
    alipay["alipay_public_key_base64"] = _base64_der(crypto.load_public_key(alipay["alipay_public_key"]))
    wechat = json.loads((fixtures / "wechatpay/demo/merchant.json").read_text())
    platform = json.loads((fixtures / "wechatpay/sandbox/platform.json").read_text())
    wechatpay = {
        "gateway": "wechatpay",
        "mchid": wechat["merchant_id"],
        "appid": wechat["appid"],
        "base_url": base,
        "merchant_serial_no": wechat["merchant_serial_no"],
        "merchant_private_key": (fixtures / "wechatpay/demo" / wechat["merchant_private_key_file"]).read_text(),
        "apiv3_key": wechat["apiv3_key"],
        "api_key": wechat["api_key"],
        "public_key_id": platform["public_key_id"],
        "platform_public_key": (fixtures / "wechatpay/sandbox/pub_key.pem").read_text(),
        "platform_serial_no": platform["platform_serial_no"],
        "platform_certificate": str(fixtures / "wechatpay/sandbox/platform_cert.pem"),
    }
    union = json.loads((fixtures / "unionpay/demo/merchant.json").read_text())
    unionpay = {
        "gateway": "unionpay",
        "merId": union["merchant_id"],
        "certId": union["cert_id"],
        "base_url": f"{base}/gateway/api",
        "pkcs12": str(fixtures / "unionpay/demo" / union["pkcs12_file"]),
        "pkcs12_password": union["pkcs12_password"],
        "merchant_private_key": (fixtures / "unionpay/demo" / union["merchant_private_key_file"]).read_text(),
        "root_certificate": str(fixtures / "unionpay/sandbox/root.pem"),
        "middle_certificate": str(fixtures / "unionpay/sandbox/middle.pem"),
    }
    if args.json:
        print(json.dumps({"merchants": [alipay, wechatpay, unionpay]}, indent=2, ensure_ascii=False))
        return 0
    print("TEST-ONLY keys of the demo merchants. Never use them for real money.\n")
    print(f"== Alipay (demo app {alipay['app_id']}) ==")
    print(f"app_id        {alipay['app_id']}")
    print(f"gateway URL   {alipay['gateway_url']}")
    for label, path in alipay["cert_mode"].items():
        print(f"{label:<24}{path}")
    print("\napp private key (PKCS#1, both SDKs accept it):")
    print(alipay["app_private_key"])
    print("Alipay public key:")
    print(alipay["alipay_public_key"])
    print("python-alipay-sdk:   alipay = AliPay(appid=..., app_private_key_string=..., alipay_public_key_string=...)")
    print(f'                     alipay._gateway = "{alipay["gateway_url"]}"')
    print(f'alipay-sdk-python:   config.server_url = "{alipay["gateway_url"]}"')
    print("                     (it ignores the port: see docs/protocols/alipay.md#sdk-quirks)")
    print(f'OpenAPI v3, Node:    new AlipaySdk({{ appId, privateKey, alipayPublicKey, endpoint: "{base}" }})')
    print(f'OpenAPI v3, Java:    alipayConfig.setServerUrl("{base}"); setPrivateKey(<PKCS#8 base64 below>)')
    print(f"app private key, PKCS#8 base64 (Java):  {alipay['app_private_key_pkcs8_base64']}")
    print(f"Alipay public key, base64 (Java):       {alipay['alipay_public_key_base64']}")
    print(f"\n== WeChat Pay (demo mchid {wechatpay['mchid']}) ==")
    for label in (
        "mchid",
        "appid",
        "merchant_serial_no",
        "apiv3_key",
        "api_key",
        "public_key_id",
        "platform_serial_no",
        "platform_certificate",
    ):
        print(f"{label:<24}{wechatpay[label]}")
    print("\nmerchant private key (PKCS#8, as wechatpayv3 needs):")
    print(wechatpay["merchant_private_key"])
    print("platform public key (public-key mode, goes with public_key_id):")
    print(wechatpay["platform_public_key"])
    print(f'wechatpayv3:   wx._core._gate_way = "{base}"')
    print(f'wechatpy:      pay.API_BASE_URL = "{base}/"  (the trailing slash is required)')
    print(f"\n== UnionPay (demo merId {unionpay['merId']}) ==")
    for label in ("merId", "certId", "base_url", "pkcs12", "pkcs12_password", "root_certificate", "middle_certificate"):
        print(f"{label:<24}{unionpay[label]}")
    print("acp_sdk.ini:   acpsdk.backTransUrl = base_url + /backTransReq.do (and so on); ifValidateRemoteCert=false")
    return 0


def _base64_der(key, pkcs: int = 1) -> str:
    """A key as bare base64 DER: PKCS#8 (pkcs=8) for a private key, SubjectPublicKeyInfo for a public one."""
    der = key.export_key(format="DER", pkcs=pkcs) if key.has_private() else key.export_key(format="DER")
    return base64.b64encode(der).decode()
