"""Alipay for the shop, through sandbox.merchant.alipay: the desktop and mobile cashiers (a signed redirect), the QR
code (alipay.trade.precreate), verified notifications and returns, query, close and refund.

Alipay's rules the shop follows: the notification is verified over every field but sign and sign_type and answered
with the 7 characters `success` only when it was believed; TRADE_SUCCESS and TRADE_FINISHED mean paid,
TRADE_CLOSED means closed (or fully refunded when it carries out_biz_no); out_request_no makes a refund safe to
repeat; a cashier order the buyer never opened does not exist at Alipay (ACQ.TRADE_NOT_EXIST) until they do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

import requests

from sandbox.core.canonical import sorted_query
from sandbox.merchant.alipay import AlipayApiError, AlipayClientError, AlipaySignatureError
from sandbox.merchant.demo import alipay_client
from sandbox.merchant.shop.gateways.base import (
    CLOSED,
    NOT_FOUND,
    PAID,
    WAITING,
    Ack,
    Checkout,
    GatewayTrouble,
    Inbound,
    Integration,
    Notice,
    PaymentNews,
    RefundNews,
    Rejected,
    ShopUrls,
)
from sandbox.merchant.shop.journal import Journal, RecordingSession
from sandbox.merchant.shop.orders import REFUND_FAILED, REFUND_PROCESSING, REFUND_SUCCEEDED, ShopOrder, ShopRefund

TRADE_STATES = {
    "WAIT_BUYER_PAY": WAITING,
    "TRADE_SUCCESS": PAID,
    "TRADE_FINISHED": PAID,
    "TRADE_CLOSED": CLOSED,
}


def fen(yuan: str) -> int:
    """'9.90' -> 990; Rejected for anything that is not an amount (a forged field must not crash the shop)."""
    try:
        value = Decimal(yuan)
    except (InvalidOperation, TypeError):
        raise Rejected(f"{yuan!r} is not an amount") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise Rejected(f"{yuan!r} is not an amount in yuan")
    return int(value * 100)


class AlipayIntegration(Integration):
    name = "alipay"
    label = "Alipay"
    methods: ClassVar[dict[str, str]] = {
        "page": "Desktop cashier (alipay.trade.page.pay)",
        "wap": "Mobile cashier (alipay.trade.wap.pay)",
        "qr": "QR code (alipay.trade.precreate)",
    }

    def __init__(self, journal: Journal, credentials: dict, sandbox_url: str, pay_minutes: int) -> None:
        super().__init__(journal)
        self.merchant_id = credentials["app_id"]
        self.pay_minutes = pay_minutes
        self.client = alipay_client(credentials, sandbox_url, session=RecordingSession(self.describe))

    # -- checkout ----------------------------------------------------------------------------------------------

    def start(self, order: ShopOrder, method: str, urls: ShopUrls) -> Checkout:
        # A relative expiry, so the shop's clock and Alipay's need not agree to the second.
        expiry = {"timeout_express": f"{self.pay_minutes}m"}
        if method == "qr":
            with (
                self._calling(),
                self.journal.step(order.no, self.name, "request", "Created a QR-code order (alipay.trade.precreate)"),
            ):
                answer = self.client.precreate(order.no, order.amount, order.subject, notify_url=urls.notify, **expiry)
            return Checkout("qr", code_url=answer["qr_code"], open_url=answer["qr_code"])
        url = self.client.page_pay_url(
            order.no,
            order.amount,
            order.subject,
            return_url=urls.return_to,
            notify_url=urls.notify,
            wap=method == "wap",
            **expiry,
        )
        signed = dict(parse_qsl(urlsplit(url).query))
        self.journal.add(
            order.no,
            self.name,
            "request",
            f"Signed the cashier request ({signed['method']}) and sent the buyer's browser to it",
            "ok",
            url=url,
            signed=self._signed(signed),
        )
        return Checkout("redirect", url=url)

    # -- what Alipay sends ---------------------------------------------------------------------------------------

    def read_notification(self, inbound: Inbound) -> Notice:
        claimed = inbound.form.get("out_trade_no", "")
        try:
            fields = self.client.verify_notification(inbound.form)
        except AlipaySignatureError as exc:
            raise Rejected(f"{exc} (string verified: {_preview(inbound.form)})", claimed) from None
        event = fields.get("trade_status", "")
        if event not in TRADE_STATES:
            raise Rejected(f"unknown trade_status {event!r}", claimed)
        if fields.get("out_biz_no"):
            # A refund's notice: trade_status is TRADE_SUCCESS (partial) or TRADE_CLOSED (full), not news of payment.
            refund = RefundNews(fields["out_biz_no"], REFUND_SUCCEEDED, detail=f"refund_fee {fields.get('refund_fee')}")
            return Notice(event, fields["app_id"], claimed, refund=refund, fields=self._verified(inbound.form, fields))
        amount = fen(fields.get("total_amount", "")) if TRADE_STATES[event] == PAID else None
        payment = PaymentNews(claimed, TRADE_STATES[event], amount, fields.get("trade_no", ""), event)
        return Notice(event, fields["app_id"], claimed, payment=payment, fields=self._verified(inbound.form, fields))

    def ack(self, accepted: bool, reason: str = "") -> Ack:
        # Anything but `success` makes Alipay retry (4m, 10m, 10m, 1h, 2h, 6h, 15h).
        return Ack(200, "success" if accepted else "fail")

    def read_return(self, inbound: Inbound, order_no: str) -> None:
        try:
            fields = self.client.verify_return(inbound.args)
        except AlipaySignatureError as exc:
            raise Rejected(str(exc), order_no) from None
        if fields.get("out_trade_no") != order_no:
            raise Rejected(f"the return is for order {fields.get('out_trade_no')!r}", order_no)

    # -- server-side calls -----------------------------------------------------------------------------------------

    def query(self, order: ShopOrder) -> PaymentNews:
        try:
            with self._calling():
                answer = self.client.query(out_trade_no=order.no)
                status = answer.get("trade_status", "")
                amount = fen(answer["total_amount"]) if TRADE_STATES.get(status) == PAID else None
        except GatewayTrouble as exc:
            if "ACQ.TRADE_NOT_EXIST" in str(exc):
                return PaymentNews(order.no, NOT_FOUND, detail="ACQ.TRADE_NOT_EXIST: the cashier was never opened")
            raise
        return PaymentNews(order.no, TRADE_STATES.get(status, WAITING), amount, answer.get("trade_no", ""), status)

    def close(self, order: ShopOrder) -> None:
        try:
            with self._calling():
                self.client.close(out_trade_no=order.no)
        except GatewayTrouble as exc:
            if "ACQ.TRADE_NOT_EXIST" not in str(exc):
                raise

    def refund(self, order: ShopOrder, refund: ShopRefund, urls: ShopUrls) -> RefundNews:
        try:
            with self._calling(definitive=True):
                answer = self.client.refund(order.no, refund.amount, refund.refund_no, reason="refund from the shop")
        except AlipayApiError as exc:
            return RefundNews(refund.refund_no, REFUND_FAILED, detail=f"{exc.sub_code} {exc.sub_msg}")
        # Alipay refunds synchronously: code 10000 means the money went back (fund_change N: it already had).
        return RefundNews(refund.refund_no, REFUND_SUCCEEDED, detail=f"fund_change {answer.get('fund_change')}")

    def query_refund(self, order: ShopOrder, refund: ShopRefund) -> RefundNews:
        with self._calling():
            answer = self.client.refund_query(order.no, refund.refund_no)
        if answer.get("refund_status") == "REFUND_SUCCESS" or answer.get("refund_amount"):
            return RefundNews(refund.refund_no, REFUND_SUCCEEDED, detail="REFUND_SUCCESS")
        return RefundNews(refund.refund_no, REFUND_PROCESSING, detail="not found yet")

    @contextmanager
    def _calling(self, definitive: bool = False) -> Iterator[None]:
        """Client failures become GatewayTrouble (outcome unknown); with definitive=True Alipay's refusals pass."""
        try:
            yield
        except AlipayApiError as exc:
            if definitive:
                raise
            raise GatewayTrouble(f"{exc.code} {exc.msg}: {exc.sub_code} {exc.sub_msg}") from exc
        except (AlipayClientError, Rejected, requests.RequestException, ValueError, KeyError) as exc:
            raise GatewayTrouble(str(exc) or type(exc).__name__) from exc

    # -- the journal -------------------------------------------------------------------------------------------

    @staticmethod
    def _signed(params: dict) -> dict:
        return {
            "string": sorted_query({k: v for k, v in params.items() if k != "sign"}, exclude=()),
            "key": "the app private key (fixtures/alipay/demo/app_private_key.pem)",
            "algorithm": "SHA256withRSA (RSA2), base64" if params.get("sign_type") == "RSA2" else "SHA1withRSA",
            "signature": params.get("sign", ""),
        }

    @staticmethod
    def _verified(form, fields: dict) -> dict:
        signature = {
            "string": sorted_query(fields, exclude=()),
            "key": "the Alipay public key (fixtures/alipay/sandbox/alipay_public_key.pem)",
            "algorithm": f"{form.get('sign_type', 'RSA2')}: every field but sign and sign_type, sorted",
        }
        return {"signature": signature, "verified": fields}

    @classmethod
    def describe(cls, request: requests.PreparedRequest) -> dict:
        body = request.body or ""
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        params = dict(parse_qsl(text or urlsplit(request.url).query, keep_blank_values=True))
        return cls._signed(params) if "sign" in params else {}


def _preview(form) -> str:
    return sorted_query({k: v for k, v in form.items() if k not in ("sign", "sign_type")}, exclude=())[:300]
