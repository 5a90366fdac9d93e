"""One merchant per gateway for the scenario matrix, each using the real client a shop would use.

Alipay: python-alipay-sdk on gateway.do, and the npm alipay-sdk on OpenAPI v3. WeChat Pay: wechatpayv3. UnionPay
(no usable SDK): the reference client.
Every driver creates an order, queries it, and judges a notification the way an honest merchant does:
signature first, then merchant and amount.
"""

from __future__ import annotations

import json
import re
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests
from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError

from sandbox.merchant.unionpay import UnionPayClient, UnionPayClientError
from sandbox.testing.receiver import Received
from tests.conftest import WECHAT_MERCHANT, AlipayDemo, wechatpayv3_client
from tests.nodejs import NodeAlipay, NodeAlipayError, NodeScript

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


class Driver(Protocol):
    gateway: str
    merchant_id: str
    retry_schedule: tuple[int, ...]

    def create(self, out_trade_no: str, amount: int) -> None: ...

    def query(self, out_trade_no: str) -> str:
        """The order's native state, or what went wrong: an error code, "HTTP 503", "refused", "disconnected"."""

    def accepts(self, received: Received, amount: int) -> bool: ...

    def sees(self, seen: str) -> str:
        """What this client reports for a transport failure the others report as `seen`."""


def _transport_failure(exc: Exception) -> str:
    if isinstance(exc, requests.HTTPError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    return "disconnected"


class ReportsTransportAsIs:
    """A client that reports a failed exchange as it was (HTTP 503, disconnected)."""

    def sees(self, seen: str) -> str:
        return seen


@dataclass
class AlipayDriver(ReportsTransportAsIs):
    base_url: str
    notify_url: str
    gateway: str = "alipay"
    merchant_id: str = AlipayDemo.app_id
    retry_schedule: tuple[int, ...] = (240, 600, 600, 3600, 7200, 21600, 54000)

    def __post_init__(self) -> None:
        demo = AlipayDemo()
        self.sdk = AliPay(
            appid=demo.app_id,
            app_private_key_string=demo.app_private_key,
            alipay_public_key_string=demo.alipay_public_key,
        )
        self.sdk._gateway = self.base_url + "/gateway.do"

    def create(self, out_trade_no: str, amount: int) -> None:
        answer = self.sdk.api_alipay_trade_create(
            subject="matrix",
            out_trade_no=out_trade_no,
            total_amount=f"{amount / 100:.2f}",
            buyer_id="2088000000000042",
            notify_url=self.notify_url,
        )
        assert answer["code"] == "10000", answer

    def query(self, out_trade_no: str) -> str:
        try:
            answer = self.sdk.api_alipay_trade_query(out_trade_no=out_trade_no)
        except (AliPayException, AliPayValidationError):
            return "refused"
        except Exception as exc:  # urllib's HTTPError, RemoteDisconnected
            return _transport_failure(exc)
        return answer.get("trade_status") or answer["sub_code"]

    def accepts(self, received: Received, amount: int) -> bool:
        form = dict(received.form)
        signature = form.pop("sign", "")
        return (
            bool(signature)
            and self.sdk.verify(form, signature)
            and form["app_id"] == self.merchant_id
            and form["total_amount"] == f"{amount / 100:.2f}"
        )


@dataclass
class AlipayV3Driver:
    """The npm alipay-sdk's curl() on /v3/alipay: it verifies every 2xx answer's headers itself."""

    base_url: str
    notify_url: str
    script: NodeScript
    gateway: str = "alipay"
    merchant_id: str = AlipayDemo.app_id
    retry_schedule: tuple[int, ...] = AlipayDriver.retry_schedule

    def __post_init__(self) -> None:
        demo = AlipayDemo()
        self.sdk = NodeAlipay(
            self.script,
            appId=demo.app_id,
            privateKey=demo.app_private_key,
            alipayPublicKey=demo.alipay_public_key,
            endpoint=self.base_url,
        )

    def create(self, out_trade_no: str, amount: int) -> None:
        body = {
            "subject": "matrix",
            "out_trade_no": out_trade_no,
            "total_amount": f"{amount / 100:.2f}",
            "buyer_id": "2088000000000042",
            "notify_url": self.notify_url,
        }
        assert self.sdk.curl("POST", "/v3/alipay/trade/create", body)["status"] == 200

    def query(self, out_trade_no: str) -> str:
        try:
            return self.sdk.curl("POST", "/v3/alipay/trade/query", {"out_trade_no": out_trade_no})["data"][
                "trade_status"
            ]
        except NodeAlipayError as exc:
            # alipay-sdk 4.14.0 passes a missing alipay-signature to crypto.verify, which throws
            # ERR_INVALID_ARG_TYPE instead of its own response-signature-verify-error: refused all the same.
            if exc.code in ("response-signature-verify-error", "ERR_INVALID_ARG_TYPE"):
                return "refused"
            if exc.name == "SyntaxError":
                return "unreadable error page"
            return exc.code or "disconnected"

    def accepts(self, received: Received, amount: int) -> bool:
        form = dict(received.form)
        return (
            bool(form.get("sign"))
            and self.sdk.check_notify_sign(form)
            and form["app_id"] == self.merchant_id
            and form["total_amount"] == f"{amount / 100:.2f}"
        )

    def sees(self, seen: str) -> str:
        # The SDK JSON.parses every 4xx/5xx body: a load balancer's HTML page makes it throw a SyntaxError.
        if seen.startswith("HTTP 5"):
            return "unreadable error page"
        # urllib, under the SDK, sends a request again once when its socket drops: one lost answer goes unseen.
        return "WAIT_BUYER_PAY" if seen == "disconnected" else seen


@dataclass
class WechatDriver(ReportsTransportAsIs):
    base_url: str
    notify_url: str
    gateway: str = "wechatpay"
    merchant_id: str = WECHAT_MERCHANT["merchant_id"]
    retry_schedule: tuple[int, ...] = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600)

    def __post_init__(self) -> None:
        self.sdk = wechatpayv3_client(self.base_url, self.notify_url)

    def create(self, out_trade_no: str, amount: int) -> None:
        code, message = self.sdk.pay(description="matrix", out_trade_no=out_trade_no, amount={"total": amount})
        assert code == 200, message

    def query(self, out_trade_no: str) -> str:
        try:
            code, message = self.sdk.query(out_trade_no=out_trade_no)
        except requests.ConnectionError:
            return "disconnected"
        except Exception:  # wechatpayv3 raises when an answer's signature does not verify
            return "refused"
        message = message.decode("utf-8") if isinstance(message, bytes) else message
        if code in (502, 503, 504) and not message.lstrip().startswith("{"):
            return f"HTTP {code}"
        body = json.loads(message)
        return body.get("trade_state") or body["code"]

    def accepts(self, received: Received, amount: int) -> bool:
        result = self.sdk.callback(received.headers, received.body.decode("utf-8"))
        if not result:
            return False
        resource = result["resource"]
        return resource["mchid"] == self.merchant_id and resource["amount"]["total"] == amount


@dataclass
class UnionPayDriver(ReportsTransportAsIs):
    base_url: str
    notify_url: str
    clock: object = None
    gateway: str = "unionpay"
    merchant_id: str = "777290058110097"
    retry_schedule: tuple[int, ...] = (60, 120, 240, 300)

    def __post_init__(self) -> None:
        self.client = UnionPayClient.from_pkcs12(
            self.merchant_id,
            FIXTURES / "unionpay/demo/acp_test_sign.pfx",
            "000000",
            base_url=self.base_url,
            root_cert=(FIXTURES / "unionpay/sandbox/root.pem").read_text(),
            middle_cert=(FIXTURES / "unionpay/sandbox/middle.pem").read_text(),
            clock=self.clock,
        )
        self.txn_times: dict[str, str] = {}

    def create(self, out_trade_no: str, amount: int) -> None:
        answer = self.client.app_consume(out_trade_no, amount, self.notify_url)
        assert answer["respCode"] == "00", answer
        self.txn_times[out_trade_no] = answer["txnTime"]

    def query(self, out_trade_no: str) -> str:
        try:
            answer = self.client.query(out_trade_no, self.txn_times[out_trade_no])
        except UnionPayClientError as exc:
            status = re.search(r"answered HTTP (\d+)", str(exc))  # the client refuses any status but 200
            return f"HTTP {status[1]}" if status else "refused"
        except requests.ConnectionError:
            return "disconnected"
        return answer.get("origRespCode") or answer["respCode"]

    def accepts(self, received: Received, amount: int) -> bool:
        try:
            fields = self.client.verify_notification(received.form)
        except UnionPayClientError:
            return False
        return fields["merId"] == self.merchant_id and fields["txnAmt"] == str(amount)
