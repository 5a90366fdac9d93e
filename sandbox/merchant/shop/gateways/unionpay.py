"""UnionPay (ACP 5.1.0) for the shop, through sandbox.merchant.unionpay: the front consume (a signed form the buyer's
browser posts to frontTransReq.do, then the bank's card cashier), verified back notifications and front returns,
query and refund.

UnionPay's rules the shop follows: every message is verified (certificate chain, CN, signature over the sorted
fields) and must name the shop's merId; a transaction is known by orderId + txnTime, so both are rebuilt from what
the shop stores; a back notification is acknowledged by HTTP 200 only, anything else is retried; respCode 00 on a
refund means accepted, not refunded (the refund's own back notification, or a query, says when it is); 03, 04 and
05 mean "not known yet, query later"; a consume that failed is final (its orderId can never be paid again).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import ClassVar
from urllib.parse import parse_qsl

import requests

from sandbox.merchant.demo import unionpay_client
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
from sandbox.merchant.unionpay import BEIJING, UnionPayClientError, digest_hex, outcome, signing_string

CONSUME, REFUND, UNDO = "01", "04", "31"  # txnType
EVENTS = {CONSUME: "consume", REFUND: "refund", UNDO: "undo"}
PAYMENT_STATES = {"success": PAID, "pending": WAITING, "failure": CLOSED}  # by outcome(respCode)
REFUND_STATES = {"success": REFUND_SUCCEEDED, "pending": REFUND_PROCESSING, "failure": REFUND_FAILED}
NO_SUCH_TRANSACTION = "34"
KEY_FILE = "fixtures/unionpay/demo/acp_test_sign.pfx"


def acp_time(iso: str) -> str:
    """One of the shop's ISO timestamps as ACP's txnTime or payTimeout: YYYYMMDDhhmmss, Beijing time."""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


def fen(txn_amt: str) -> int:
    """txnAmt is integer fen as digits; ValueError for anything else (a forged field must not crash the shop)."""
    if not (txn_amt.isascii() and txn_amt.isdigit() and len(txn_amt) <= 12):
        raise ValueError(f"txnAmt {txn_amt!r} is not an amount in fen")
    return int(txn_amt)


class UnionPayIntegration(Integration):
    name = "unionpay"
    label = "UnionPay card"
    methods: ClassVar[dict[str, str]] = {"card": "Bank card on UnionPay's cashier (frontTransReq.do)"}

    def __init__(self, journal: Journal, credentials: dict, sandbox_url: str, pay_minutes: int) -> None:
        # pay_minutes is not needed here: payTimeout is the order's own expires_at, made from it.
        super().__init__(journal)
        self.merchant_id = credentials["mer_id"]
        self.client = unionpay_client(credentials, sandbox_url, session=RecordingSession(self.describe))

    # -- checkout ----------------------------------------------------------------------------------------------

    def start(self, order: ShopOrder, method: str, urls: ShopUrls) -> Checkout:
        # txnTime comes from created_at, not from "now": the query must send the same txnTime, and rebuilding it
        # from the order means there is nothing else to store (or lose). A refund's comes from its created_at.
        signed = self.client.consume_params(
            order.no,
            order.amount,
            front_url=urls.return_to,
            back_url=urls.notify,
            txn_time=acp_time(order.created_at),
            payTimeout=acp_time(order.expires_at),  # after this UnionPay refuses to take the payment
            orderDesc=order.subject,
        )
        self.journal.add(
            order.no,
            self.name,
            "request",
            "Signed the consume (txnType 01) for the buyer's browser to post to frontTransReq.do",
            "ok",
            action=self.client.url("frontTransReq.do"),
            fields=shortened(signed),
            signed=self._signed(signed),
        )
        return Checkout("form", html=self.client.front_form(signed))

    # -- what UnionPay sends -----------------------------------------------------------------------------------

    def read_notification(self, inbound: Inbound) -> Notice:
        form = inbound.form
        # A refund's orderId is the refund's own number; the shop's order number travels in reqReserved.
        claimed = form.get("orderId", "") if form.get("txnType") == CONSUME else form.get("reqReserved", "")
        try:
            fields = self.client.verify_notification(form)  # chain, CN, signature, then our merId
            txn_type, code = fields.get("txnType", ""), fields.get("respCode", "")
            if txn_type not in EVENTS or not code:
                raise ValueError(f"txnType {txn_type!r} with respCode {code!r} is no consume, refund or undo")
            amount = fen(fields.get("txnAmt", ""))
        except (UnionPayClientError, ValueError) as exc:
            raise Rejected(str(exc), claimed) from None
        event, detail = f"{EVENTS[txn_type]} {code}", f"respCode {code}: {fields.get('respMsg', '')}"
        verified = {"verified": shortened(fields)}
        if txn_type == CONSUME:
            # UnionPay notifies successful consumes; a verified failure is final too (the orderId is spent), and
            # 03/04/05 change nothing: the shop's query settles those.
            state = PAYMENT_STATES[outcome(code)]
            payment = PaymentNews(fields.get("orderId", ""), state, amount, fields.get("queryId", ""), detail)
            return Notice(event, fields["merId"], payment.out_trade_no, payment=payment, fields=verified)
        order_no = fields.get("reqReserved", "")
        if not order_no:
            raise Rejected(f"a {EVENTS[txn_type]} without reqReserved: the shop puts its order number there")
        state = REFUND_STATES[outcome(code)]
        refund = RefundNews(fields.get("orderId", ""), state, amount, fields.get("queryId", ""), detail)
        return Notice(event, fields["merId"], order_no, refund=refund, fields=verified)

    def ack(self, accepted: bool, reason: str = "") -> Ack:
        # Any HTTP 200 stops UnionPay's retries (about 1, 2, 4 and 5 minutes later); the body is not read.
        return Ack(200, "ok") if accepted else Ack(400, f"rejected: {reason}")

    def read_return(self, inbound: Inbound, order_no: str) -> None:
        # The cashier's "return to merchant" posts the front notification from the browser: signed like the back
        # one, but the browser could have held it back or replayed it, so it only says the buyer is back.
        try:
            fields = self.client.verify_notification(inbound.form)
        except UnionPayClientError as exc:
            raise Rejected(str(exc), order_no) from None
        if fields.get("orderId") != order_no:
            raise Rejected(f"the return is for order {fields.get('orderId')!r}", order_no)

    # -- server-side calls ---------------------------------------------------------------------------------------

    def query(self, order: ShopOrder) -> PaymentNews:
        with self._calling():
            answer = self.client.query(order.no, acp_time(order.created_at))
            code, orig = answer.get("respCode", ""), answer.get("origRespCode", "")
            if code == NO_SUCH_TRANSACTION:
                return PaymentNews(order.no, NOT_FOUND, detail="respCode 34: the consume never reached UnionPay")
            if code != "00" or not orig:
                raise GatewayTrouble(f"queryTrans answered respCode {code}: {answer.get('respMsg', '')}")
            # respCode is the query's own; origRespCode is the consume's.
            state = PAYMENT_STATES[outcome(orig)]
            amount = fen(answer.get("txnAmt", "")) if state == PAID else None
            detail = f"origRespCode {orig}: {answer.get('origRespMsg', '')}"
            return PaymentNews(order.no, state, amount, answer.get("queryId", ""), detail)

    def close(self, order: ShopOrder) -> None:
        # ACP has no "close" for an unpaid front consume: payTimeout (the order's expires_at) closes it, so past the
        # deadline UnionPay cannot take the payment. (An undo, txnType 31, is for a paid consume.)
        return None

    def refund(self, order: ShopOrder, refund: ShopRefund, urls: ShopUrls) -> RefundNews:
        with self._calling():
            answer = self.client.refund(
                orig_query_id=order.txn_id,
                order_id=refund.refund_no,  # a repeat with the same orderId and txnTime is the same refund
                amount=refund.amount,
                back_url=urls.notify,
                txn_time=acp_time(refund.created_at),
                reqReserved=order.no,  # echoed in the refund's notification, which names only the refund
            )
        code = answer.get("respCode", "")
        detail = f"respCode {code}: {answer.get('respMsg', '')}"
        if outcome(code) == "failure":
            return RefundNews(refund.refund_no, REFUND_FAILED, detail=detail)  # refused: nothing was refunded
        # 00 is "accepted", not "refunded"; 03/04/05 is "not known yet". The notification or a query tells.
        return RefundNews(refund.refund_no, REFUND_PROCESSING, gateway_ref=answer.get("queryId", ""), detail=detail)

    def query_refund(self, order: ShopOrder, refund: ShopRefund) -> RefundNews:
        with self._calling():
            answer = self.client.query(refund.refund_no, acp_time(refund.created_at))
        code, orig = answer.get("respCode", ""), answer.get("origRespCode", "")
        if code != "00" or not orig:
            # Even 34 (no such refund) stays unknown: a refund answered 03 may still turn up; never refund twice.
            raise GatewayTrouble(f"queryTrans answered respCode {code}: {answer.get('respMsg', '')}")
        detail = f"origRespCode {orig}: {answer.get('origRespMsg', '')}"
        return RefundNews(
            refund.refund_no, REFUND_STATES[outcome(orig)], gateway_ref=answer.get("queryId", ""), detail=detail
        )

    @contextmanager
    def _calling(self) -> Iterator[None]:
        """Client failures (unreachable, not HTTP 200, an answer that does not verify) become GatewayTrouble."""
        try:
            yield
        except (UnionPayClientError, requests.RequestException, ValueError, KeyError) as exc:
            raise GatewayTrouble(str(exc) or type(exc).__name__) from exc

    # -- the journal -------------------------------------------------------------------------------------------

    @staticmethod
    def _signed(fields: Mapping[str, str]) -> dict:
        return {
            "string": signing_string(fields),
            "digest": digest_hex(fields),
            "key": f"the merchant signing key in {KEY_FILE} (certId {fields.get('certId')})",
            "algorithm": "SHA-256 hex digest of the string, then SHA256withRSA (signMethod 01)",
            "signature": fields.get("signature", ""),
        }

    @classmethod
    def describe(cls, request: requests.PreparedRequest) -> dict:
        body = request.body or ""
        fields = dict(parse_qsl(body.decode("utf-8") if isinstance(body, bytes) else body, keep_blank_values=True))
        return cls._signed(fields) if "signature" in fields else {}


def shortened(fields: Mapping[str, str]) -> dict:
    """The fields for the journal, the base64 signature and the PEM certificate cut to their first characters."""
    return {
        k: v[:24] + f"… ({len(v)} characters)" if k in ("signature", "signPubKeyCert") else v for k, v in fields.items()
    }
