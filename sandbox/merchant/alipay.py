"""A reference Alipay OpenAPI client: signs requests, verifies every response, notification and return.

It does what merchants get wrong (docs/protocols/alipay.md): the response signature is checked over the exact
bytes Alipay signed (not re-serialised JSON), notifications are verified without `sign` and
`sign_type`, and a notification for another app is refused. Amounts are integer fen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode

import requests

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query

HASHES = {"RSA2": "SHA256", "RSA": "SHA1"}


class AlipayClientError(Exception):
    """Base of everything this client raises."""


class AlipaySignatureError(AlipayClientError):
    """A response, notification or return did not verify with the Alipay public key."""


@dataclass
class AlipayApiError(AlipayClientError):
    """Alipay answered with a failure code (anything but 10000 and 10003)."""

    code: str
    msg: str
    sub_code: str
    sub_msg: str
    response: dict

    def __str__(self) -> str:
        return f"{self.code} {self.msg}: {self.sub_code} {self.sub_msg}"


def yuan(fen: int) -> str:
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amounts are integer fen, e.g. 1 for 0.01 yuan")
    return f"{fen // 100}.{fen % 100:02d}"


class AlipayClient:
    def __init__(
        self,
        app_id: str,
        app_private_key: str,
        alipay_public_key: str,
        gateway_url: str,
        *,
        sign_type: str = "RSA2",
        timeout: float = 15.0,
        app_cert_sn: str = "",
        alipay_root_cert_sn: str = "",
        session: requests.Session | None = None,
    ) -> None:
        if sign_type not in HASHES:
            raise ValueError("sign_type must be RSA2 or RSA")
        self.app_id = app_id
        self.gateway_url = gateway_url
        self.sign_type = sign_type
        self.timeout = timeout
        self._private_key = crypto.load_private_key(app_private_key)
        self._alipay_key = crypto.load_public_key(alipay_public_key)
        self._cert_params = (
            {"app_cert_sn": app_cert_sn, "alipay_root_cert_sn": alipay_root_cert_sn} if app_cert_sn else {}
        )
        self._session = session or requests.Session()
        self._session.trust_env = False

    # -- signing -------------------------------------------------------------------------------

    def signed_params(self, method: str, biz_content: Mapping, **common: str) -> dict[str, str]:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": self.sign_type,
            "timestamp": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
            **self._cert_params,
            **{k: v for k, v in common.items() if v},
        }
        content = sorted_query(params, exclude=("sign",))
        params["sign"] = crypto.sign(self._private_key, content.encode("utf-8"), HASHES[self.sign_type])
        return params

    # -- transport -----------------------------------------------------------------------------

    def execute(self, method: str, biz_content: Mapping, **common: str) -> dict:
        """POST a server-side call, verify the signed answer, raise AlipayApiError on a failure code."""
        params = self.signed_params(method, biz_content, **common)
        reply = self._session.post(self.gateway_url, data=params, timeout=self.timeout)
        reply.raise_for_status()
        return self.parse_response(reply.content.decode("utf-8"), method)

    def parse_response(self, body: str, method: str) -> dict:
        document = json.loads(body)
        key = method.replace(".", "_") + "_response"
        if "error_response" in document:
            key = "error_response"
        if key not in document:
            raise AlipayClientError(f"no {key} in the answer: {body[:200]}")
        if "sign" in document:
            signed_text = _raw_member(body, key)
            if not crypto.verify(
                self._alipay_key, signed_text.encode("utf-8"), document["sign"], HASHES[self.sign_type]
            ):
                raise AlipaySignatureError(f"the {key} signature does not verify with the Alipay public key")
        elif key != "error_response":
            raise AlipaySignatureError(f"the answer to {method} is not signed")
        inner = document[key]
        if inner.get("code") not in ("10000", "10003"):
            raise AlipayApiError(
                inner.get("code", ""), inner.get("msg", ""), inner.get("sub_code", ""), inner.get("sub_msg", ""), inner
            )
        return inner

    # -- browser payments ------------------------------------------------------------------------

    def page_pay_url(
        self,
        out_trade_no: str,
        amount: int,
        subject: str,
        *,
        return_url: str = "",
        notify_url: str = "",
        wap: bool = False,
        **biz,
    ) -> str:
        """The URL to send the buyer's browser to (GET), for the desktop or (wap=True) mobile cashier."""
        params = self._page_params(out_trade_no, amount, subject, return_url, notify_url, wap, biz)
        return self.gateway_url + "?" + urlencode(params)

    def page_pay_form(
        self,
        out_trade_no: str,
        amount: int,
        subject: str,
        *,
        return_url: str = "",
        notify_url: str = "",
        wap: bool = False,
        **biz,
    ) -> str:
        """An auto-submitting HTML form that POSTs the order to the cashier (the official SDK's default)."""
        params = self._page_params(out_trade_no, amount, subject, return_url, notify_url, wap, biz)
        inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items())
        return (
            f'<form id="alipaysubmit" method="post" action="{escape(self.gateway_url)}">{inputs}'
            '<noscript><button type="submit">Continue to Alipay</button></noscript></form>'
            '<script>document.getElementById("alipaysubmit").submit();</script>'
        )

    def _page_params(self, out_trade_no, amount, subject, return_url, notify_url, wap, biz) -> dict[str, str]:
        method = "alipay.trade.wap.pay" if wap else "alipay.trade.page.pay"
        content = {
            "out_trade_no": out_trade_no,
            "total_amount": yuan(amount),
            "subject": subject,
            "product_code": "QUICK_WAP_WAY" if wap else "FAST_INSTANT_TRADE_PAY",
            **biz,
        }
        return self.signed_params(method, content, return_url=return_url, notify_url=notify_url)

    # -- server-side calls ----------------------------------------------------------------------

    def precreate(self, out_trade_no: str, amount: int, subject: str, *, notify_url: str = "", **biz) -> dict:
        content = {"out_trade_no": out_trade_no, "total_amount": yuan(amount), "subject": subject, **biz}
        return self.execute("alipay.trade.precreate", content, notify_url=notify_url)

    def create(
        self, out_trade_no: str, amount: int, subject: str, buyer_id: str, *, notify_url: str = "", **biz
    ) -> dict:
        content = {
            "out_trade_no": out_trade_no,
            "total_amount": yuan(amount),
            "subject": subject,
            "buyer_id": buyer_id,
            **biz,
        }
        return self.execute("alipay.trade.create", content, notify_url=notify_url)

    def barcode_pay(
        self,
        out_trade_no: str,
        amount: int,
        subject: str,
        auth_code: str,
        *,
        notify_url: str = "",
        scene: str = "bar_code",
    ) -> dict:
        content = {
            "out_trade_no": out_trade_no,
            "total_amount": yuan(amount),
            "subject": subject,
            "auth_code": auth_code,
            "scene": scene,
        }
        return self.execute("alipay.trade.pay", content, notify_url=notify_url)

    def query(self, out_trade_no: str = "", trade_no: str = "") -> dict:
        return self.execute("alipay.trade.query", _trade_ref(out_trade_no, trade_no))

    def refund(self, out_trade_no: str, amount: int, out_request_no: str, reason: str = "") -> dict:
        """A (partial) refund; the same out_request_no again is a safe repeat (fund_change "N")."""
        content = {"out_trade_no": out_trade_no, "refund_amount": yuan(amount), "out_request_no": out_request_no}
        if reason:
            content["refund_reason"] = reason
        return self.execute("alipay.trade.refund", content)

    def refund_query(self, out_trade_no: str, out_request_no: str) -> dict:
        content = {"out_trade_no": out_trade_no, "out_request_no": out_request_no}
        return self.execute("alipay.trade.fastpay.refund.query", content)

    def close(self, out_trade_no: str = "", trade_no: str = "") -> dict:
        return self.execute("alipay.trade.close", _trade_ref(out_trade_no, trade_no))

    def cancel(self, out_trade_no: str = "", trade_no: str = "") -> dict:
        return self.execute("alipay.trade.cancel", _trade_ref(out_trade_no, trade_no))

    def bill_download_url(self, bill_date: str, bill_type: str = "trade") -> str:
        content = {"bill_type": bill_type, "bill_date": bill_date}
        return self.execute("alipay.data.dataservice.bill.downloadurl.query", content)["bill_download_url"]

    def download_bill(self, url: str) -> bytes:
        reply = self._session.get(url, timeout=self.timeout)
        reply.raise_for_status()
        return reply.content

    # -- what Alipay sends to the merchant ---------------------------------------------------------

    def verify_notification(self, form: Mapping[str, str]) -> dict[str, str]:
        """Verify an async notification (or a return_url query); answer its fields, or raise.

        The signature covers every field but `sign` and `sign_type`. A message for another app_id is
        refused even if signed: it was not meant for this merchant.
        """
        fields = dict(form)
        signature = fields.pop("sign", "")
        sign_type = fields.pop("sign_type", self.sign_type)
        if not signature:
            raise AlipaySignatureError("the message carries no sign")
        if sign_type not in HASHES:
            raise AlipaySignatureError(f"unknown sign_type {sign_type!r}")
        content = sorted_query(fields, exclude=())
        if not crypto.verify(self._alipay_key, content.encode("utf-8"), signature, HASHES[sign_type]):
            raise AlipaySignatureError("the signature does not verify with the Alipay public key")
        if fields.get("app_id") != self.app_id:
            raise AlipaySignatureError(f"the message is for app {fields.get('app_id')}, not {self.app_id}")
        return fields

    verify_return = verify_notification


def _trade_ref(out_trade_no: str, trade_no: str) -> dict[str, str]:
    if not (out_trade_no or trade_no):
        raise ValueError("give out_trade_no or trade_no")
    return {"out_trade_no": out_trade_no} if out_trade_no else {"trade_no": trade_no}


def _raw_member(body: str, key: str) -> str:
    """The exact text of the object under `key`, as Alipay signed it (JSON-aware, braces in strings are safe)."""
    marker = f'"{key}"'
    start = body.index(marker) + len(marker)
    start = body.index("{", start)
    _, end = json.JSONDecoder().raw_decode(body, start)
    return body[start:end]
