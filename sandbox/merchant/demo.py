"""The TEST-ONLY demo merchants of fixtures/ as a merchant holds them: ids, private keys, and the gateways' public
keys to verify with. Every sandbox registers these merchants at start; their keys are public on purpose."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sandbox.merchant.alipay import AlipayClient
from sandbox.merchant.alipay_v3 import AlipayV3Client
from sandbox.merchant.unionpay import UnionPayClient
from sandbox.merchant.wechatpay import WechatPayClient


@dataclass(frozen=True)
class Credentials:
    """What a merchant holds for one gateway: ids, its private key, and the gateway's public keys to verify with."""

    alipay: dict
    wechatpay: dict
    unionpay: dict

    @classmethod
    def demo(cls, fixtures_dir: str | Path) -> Credentials:
        root = Path(fixtures_dir)

        def merchant(gateway: str) -> dict:
            return json.loads((root / gateway / "demo" / "merchant.json").read_text())

        def read(*parts: str) -> str:
            return (root.joinpath(*parts)).read_text()

        alipay, wechat, union = merchant("alipay"), merchant("wechatpay"), merchant("unionpay")
        platform = json.loads(read("wechatpay", "sandbox", "platform.json"))
        return cls(
            alipay={
                "app_id": alipay["merchant_id"],
                "app_private_key": read("alipay", "demo", alipay["app_private_key_file"]),
                "alipay_public_key": read("alipay", "sandbox", "alipay_public_key.pem"),
            },
            wechatpay={
                "mchid": wechat["merchant_id"],
                "appid": wechat["appid"],
                "merchant_serial_no": wechat["merchant_serial_no"],
                "merchant_private_key": read("wechatpay", "demo", wechat["merchant_private_key_file"]),
                "apiv3_key": wechat["apiv3_key"],
                "api_key": wechat["api_key"],
                "public_key_id": platform["public_key_id"],
                "platform_public_key": read("wechatpay", "sandbox", "pub_key.pem"),
            },
            unionpay={
                "mer_id": union["merchant_id"],
                "pkcs12": (root / "unionpay" / "demo" / union["pkcs12_file"]).read_bytes(),
                "pkcs12_password": union["pkcs12_password"],
                "root_cert": read("unionpay", "sandbox", "root.pem"),
                "middle_cert": read("unionpay", "sandbox", "middle.pem"),
            },
        )


# Ready clients from one gateway's credentials (`Credentials.demo(...).alipay`, or the same keys under another id).


def alipay_client(keys: dict, base_url: str, **options) -> AlipayClient:
    return AlipayClient(
        keys["app_id"], keys["app_private_key"], keys["alipay_public_key"], f"{base_url}/gateway.do", **options
    )


def alipay_v3_client(keys: dict, base_url: str, **options) -> AlipayV3Client:
    """The same app on OpenAPI v3 (public-key mode)."""
    return AlipayV3Client(keys["app_id"], keys["app_private_key"], keys["alipay_public_key"], base_url, **options)


def wechatpay_client(keys: dict, base_url: str, **options) -> WechatPayClient:
    """In public-key mode: answers and notifications verify with the platform public key, nothing to download."""
    return WechatPayClient(
        keys["mchid"],
        keys["appid"],
        keys["merchant_serial_no"],
        keys["merchant_private_key"],
        keys["apiv3_key"],
        base_url,
        platform_public_key=keys["platform_public_key"],
        public_key_id=keys["public_key_id"],
        **options,
    )


def unionpay_client(keys: dict, base_url: str, **options) -> UnionPayClient:
    return UnionPayClient.from_pkcs12(
        keys["mer_id"],
        keys["pkcs12"],
        keys["pkcs12_password"],
        base_url=base_url,
        root_cert=keys["root_cert"],
        middle_cert=keys["middle_cert"],
        **options,
    )
