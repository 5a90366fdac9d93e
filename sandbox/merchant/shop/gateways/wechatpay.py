"""WeChat Pay (API v3) for the shop, through sandbox.merchant.wechatpay: Native (a QR code), H5 (a mobile browser)
and JSAPI (a page inside WeChat), verified and decrypted notifications, query, close and refund.

WeChat Pay's rules the shop follows: every answer and notification is verified (SHA256withRSA with the platform
public key) before it is read, and a notification's resource decrypted with the APIv3 key; a notification is
acknowledged with any 2xx, refused with a 4xx/5xx and `{"code": "FAIL", "message": ...}` (then WeChat retries);
the buyer's way back (H5's redirect_url, the JSAPI callback) is unsigned and says nothing about the payment;
out_refund_no makes a refund safe to repeat, and a refund answers PROCESSING: its outcome comes in a REFUND.*
notification, or from query_refund.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import ClassVar
from urllib.parse import quote, urlsplit

import requests

from sandbox.merchant.demo import wechatpay_client
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
from sandbox.merchant.wechatpay import WechatPayApiError, WechatPayClientError

TRADE_STATES = {
    "SUCCESS": PAID,
    "REFUND": PAID,  # paid, then (partly) refunded: it was paid all the same
    "NOTPAY": WAITING,
    "USERPAYING": WAITING,
    "CLOSED": CLOSED,
    "REVOKED": CLOSED,
    "PAYERROR": CLOSED,
}
REFUND_STATES = {
    "SUCCESS": REFUND_SUCCEEDED,
    "PROCESSING": REFUND_PROCESSING,
    "CLOSED": REFUND_FAILED,
    "ABNORMAL": REFUND_FAILED,  # the money could not reach the buyer (a closed card): settled by hand
}
REFUND_EVENTS = {"REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"}
NO_SUCH_ORDER = ("ORDER_NOT_EXIST", "ORDERNOTEXIST")
HANDED_OUT = {"native": "code_url", "h5": "h5_url", "jsapi": "prepay_id"}  # what each prepay answers for the buyer
BEIJING = timezone(timedelta(hours=8))
# A real shop learns the buyer's openid from WeChat's OAuth (snsapi_base) when its page opens inside WeChat; the
# demo has no WeChat around it, so every JSAPI buyer is this one.
DEMO_OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def fen(value: object) -> int:
    """An amount from a verified message: integer fen, or ValueError (a bad type must not crash the shop)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an amount in fen")
    return value


class WechatPayIntegration(Integration):
    name = "wechatpay"
    label = "WeChat Pay"
    methods: ClassVar[dict[str, str]] = {
        "native": "Native QR code (/v3/pay/transactions/native)",
        "h5": "H5, mobile browser (/v3/pay/transactions/h5)",
        "jsapi": "JSAPI, inside WeChat (/v3/pay/transactions/jsapi)",
    }

    def __init__(self, journal: Journal, credentials: dict, sandbox_url: str, pay_minutes: int) -> None:
        super().__init__(journal)
        self.merchant_id = credentials["mchid"]
        self.sandbox_url = sandbox_url
        # pay_minutes is already in order.expires_at, which start sends as time_expire. Public-key mode: answers and
        # notifications are verified with the platform public key, no downloads.
        self.client = wechatpay_client(credentials, sandbox_url, session=RecordingSession(self.describe))

    # -- checkout ----------------------------------------------------------------------------------------------

    def start(self, order: ShopOrder, method: str, urls: ShopUrls) -> Checkout:
        # The shop's deadline, so WeChat closes the order when the shop does (RFC 3339, Beijing time).
        deadline = datetime.fromisoformat(order.expires_at).astimezone(BEIJING).isoformat(timespec="seconds")
        common = {"notify_url": urls.notify, "time_expire": deadline}
        title = f"Created the order (/v3/pay/transactions/{method})"
        with self._calling(), self.journal.step(order.no, self.name, "request", title):
            if method == "native":
                answer = self.client.native_prepay(order.no, order.amount, order.subject, **common)
            elif method == "h5":
                answer = self.client.h5_prepay(order.no, order.amount, order.subject, urls.client_ip, **common)
            else:
                answer = self.client.jsapi_prepay(order.no, order.amount, order.subject, DEMO_OPENID, **common)
            handed_out = answer[HANDED_OUT[method]]  # in the step: an answer without it is trouble, not a crash
        if method == "native":
            scan_page = f"{self.sandbox_url}/cashier/wechatpay/native?code_url={quote(handed_out, safe='')}"
            return Checkout("qr", code_url=handed_out, open_url=scan_page)
        if method == "h5":
            # WeChat sends the buyer back to redirect_url whatever happened: the order page then waits and queries.
            return Checkout("redirect", url=handed_out + "&redirect_url=" + quote(urls.return_to, safe=""))
        params = self.client.jsapi_pay_params(handed_out)
        self.journal.add(
            order.no,
            self.name,
            "request",
            "Signed the parameters of getBrandWCPayRequest for the buyer's page",
            "ok",
            params=params,
            signed={
                "string": "".join(f"{params[k]}\n" for k in ("appId", "timeStamp", "nonceStr", "package")),
                "key": "the merchant private key (fixtures/wechatpay/demo/merchant_private_key.pem)",
                "algorithm": "SHA256withRSA, base64 (signType RSA)",
                "signature": params["paySign"],
            },
        )
        return Checkout("jsapi", params=params)

    # -- what WeChat Pay sends -----------------------------------------------------------------------------------

    def read_notification(self, inbound: Inbound) -> Notice:
        try:
            document = self.client.parse_notification(inbound.headers, inbound.body)
        except WechatPayClientError as exc:  # not signed by WeChat, not for this merchant, or not JSON
            raise Rejected(str(exc), self._claimed(inbound.body)) from None
        event, resource = document.get("event_type", ""), document["resource"]
        claimed = str(resource.get("out_trade_no", ""))
        try:
            if event == "TRANSACTION.SUCCESS":
                if resource["trade_state"] != "SUCCESS":
                    raise ValueError(f"trade_state {resource['trade_state']!r}")
                amount = fen(resource["amount"]["total"])
                payment = PaymentNews(claimed, PAID, amount, resource["transaction_id"], "SUCCESS")
                return Notice(event, resource["mchid"], claimed, payment=payment, fields={"verified": resource})
            if event in REFUND_EVENTS:
                state = REFUND_SUCCEEDED if event == "REFUND.SUCCESS" else REFUND_FAILED
                refund = RefundNews(
                    resource["out_refund_no"],
                    state,
                    fen(resource["amount"]["refund"]),
                    resource["refund_id"],
                    resource.get("refund_status", ""),
                )
                return Notice(event, resource["mchid"], claimed, refund=refund, fields={"verified": resource})
        except (KeyError, TypeError, ValueError) as exc:
            raise Rejected(f"{event} with a missing or malformed field: {exc}", claimed) from None
        raise Rejected(f"unknown event_type {event!r}", claimed)

    def ack(self, accepted: bool, reason: str = "") -> Ack:
        # Any 2xx stops WeChat; anything else is retried (15s, 15s, 30s, 3m, 10m, ... over about 24 hours).
        if accepted:
            return Ack(204, "")
        return Ack(400, json.dumps({"code": "FAIL", "message": reason}, ensure_ascii=False), "application/json")

    def read_return(self, inbound: Inbound, order_no: str) -> None:
        # Nothing to verify: WeChat signs nothing on the way back (H5's redirect_url is the shop's own return URL,
        # the JSAPI page's callback runs in the buyer's browser). It only says the buyer is back.
        return None

    # -- server-side calls -----------------------------------------------------------------------------------------

    def query(self, order: ShopOrder) -> PaymentNews:
        try:
            with self._calling(definitive=True):
                answer = self.client.query(out_trade_no=order.no)
                state = answer.get("trade_state", "")
                amount = fen(answer["amount"]["total"]) if TRADE_STATES.get(state) == PAID else None
        except WechatPayApiError as exc:
            if exc.code in NO_SUCH_ORDER:
                return PaymentNews(order.no, NOT_FOUND, detail=str(exc))
            raise GatewayTrouble(str(exc)) from exc
        if state not in TRADE_STATES:
            raise GatewayTrouble(f"unknown trade_state {state!r}")
        return PaymentNews(order.no, TRADE_STATES[state], amount, answer.get("transaction_id", ""), state)

    def close(self, order: ShopOrder) -> None:
        with self._calling():
            self.client.close(order.no)

    def refund(self, order: ShopOrder, refund: ShopRefund, urls: ShopUrls) -> RefundNews:
        try:
            with self._calling(definitive=True):
                answer = self.client.refund(
                    refund.refund_no, refund.amount, order.amount, out_trade_no=order.no, notify_url=urls.notify
                )
                return self._refund_news(refund, answer)
        except WechatPayApiError as exc:
            if exc.status >= 500 or exc.status == 429:  # SYSTEM_ERROR, FREQUENCY_LIMITED: try again, same number
                raise GatewayTrouble(str(exc)) from exc
            return RefundNews(refund.refund_no, REFUND_FAILED, detail=f"{exc.code} {exc.message}")

    def query_refund(self, order: ShopOrder, refund: ShopRefund) -> RefundNews:
        with self._calling():
            return self._refund_news(refund, self.client.query_refund(refund.refund_no))

    @staticmethod
    def _refund_news(refund: ShopRefund, answer: dict) -> RefundNews:
        status = answer["status"]
        if status not in REFUND_STATES:
            raise ValueError(f"unknown refund status {status!r}")
        amount = fen(answer["amount"]["refund"])
        return RefundNews(refund.refund_no, REFUND_STATES[status], amount, answer.get("refund_id", ""), status)

    @contextmanager
    def _calling(self, definitive: bool = False) -> Iterator[None]:
        """Client failures become GatewayTrouble (outcome unknown); with definitive=True WeChat's `{code, message}`
        answers pass, for the caller to decide."""
        try:
            yield
        except WechatPayApiError as exc:
            if definitive:
                raise
            raise GatewayTrouble(str(exc)) from exc
        except (WechatPayClientError, requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise GatewayTrouble(str(exc) or type(exc).__name__) from exc

    def _claimed(self, body: bytes) -> str:
        """The order a refused notification names, to file the refusal under; nothing else in it is believed."""
        try:
            resource = json.loads(body)["resource"]
            return str(json.loads(self.client.decrypt_resource(resource)).get("out_trade_no", ""))
        except (WechatPayClientError, ValueError, KeyError, TypeError, AttributeError):
            return ""

    # -- the journal -------------------------------------------------------------------------------------------

    @staticmethod
    def describe(request: requests.PreparedRequest) -> dict:
        header = request.headers.get("Authorization", "")
        signed = dict(re.findall(r'(\w+)="([^"]*)"', header))
        if not signed.get("signature"):
            return {}
        body = request.body or ""
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        parts = urlsplit(request.url)
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        return {
            "string": f"{request.method}\n{url}\n{signed.get('timestamp')}\n{signed.get('nonce_str')}\n{text}\n",
            "key": "the merchant private key (fixtures/wechatpay/demo/merchant_private_key.pem), "
            f"serial {signed.get('serial_no')}",
            "algorithm": "SHA256withRSA, base64",
            "signature": signed["signature"],
        }
