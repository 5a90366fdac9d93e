"""One namespace of a live sandbox for the tests: its control API over real HTTP, and merchants registered in it
with the TEST-ONLY demo keys (a merchant id belongs to one namespace, so each gets ids of its own)."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from sandbox.merchant.alipay import AlipayClient

HEADER = "X-Sandbox-Namespace"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WECHAT = json.loads((FIXTURES / "wechatpay/demo/merchant.json").read_text())


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def registration(gateway: str, merchant_id: str) -> dict:
    """A registration body for `merchant_id` with the demo merchant's public material."""
    material = {
        "alipay": {"app_public_key": read("alipay/demo/app_public_key.pem")},
        "wechatpay": {
            **{name: WECHAT[name] for name in ("appid", "apiv3_key", "api_key")},
            "merchant_certificate": read("wechatpay/demo/merchant_cert.pem"),
        },
        "unionpay": {"merchant_certificate": read("unionpay/demo/merchant_cert.pem")},
    }[gateway]
    return {"gateway": gateway, "merchant_id": merchant_id, **material}


class Space:
    """The control API in one namespace (None: the default one, called without the header)."""

    def __init__(self, http: requests.Session, url: str, name: str | None) -> None:
        self.http, self.url, self.name = http, url, name

    def call(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        """`headers` may name another namespace, or a malformed one."""
        headers = {**({HEADER: self.name} if self.name else {}), **(headers or {})}
        return self.http.request(method, f"{self.url}/_sandbox{path}", headers=headers, timeout=10, **kwargs)

    def api(self, method: str, path: str, **kwargs) -> dict:
        reply = self.call(method, path, **kwargs)
        assert reply.status_code < 400, reply.text
        return reply.json()

    def clock(self) -> str:
        return self.api("GET", "/clock")["now"]

    def register(self, gateway: str, merchant_id: str) -> dict:
        """Register `merchant_id` here with the demo merchant's keys (the demo's private key signs for it)."""
        return self.api("POST", "/merchants", json=registration(gateway, merchant_id))

    def alipay(self, app_id: str) -> AlipayClient:
        """The reference client as the Alipay app `app_id`, registered here."""
        self.register("alipay", app_id)
        return AlipayClient(
            app_id,
            read("alipay/demo/app_private_key.pem"),
            read("alipay/sandbox/alipay_public_key.pem"),
            f"{self.url}/gateway.do",
        )
