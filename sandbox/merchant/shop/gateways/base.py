"""What the shop needs from a gateway, in the shop's words: start a checkout, read a notification or a return,
query, close and refund. Each gateway module translates these to its wire protocol through its merchant client.

Everything a gateway says is *verified* here before the shop sees it: a Notice exists only for a message whose
signature, encryption and merchant id checked out. Whether it matches the shop's own order (amount, order number)
is the shop's business, decided in sandbox.merchant.shop.service.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from sandbox.merchant.shop.journal import Journal
from sandbox.merchant.shop.orders import ShopOrder, ShopRefund

# What a gateway says about a payment, in the shop's words.
PAID, WAITING, CLOSED, NOT_FOUND = "paid", "waiting", "closed", "not_found"


class Rejected(Exception):
    """A notification or return that must not be believed; the message says why (it goes to the shop's log)."""

    def __init__(self, message: str, order_no: str = "") -> None:
        super().__init__(message)
        self.order_no = order_no  # the order it claims to be about, if it says: where the shop logs it


@dataclass(frozen=True)
class Inbound:
    """An HTTP request from the gateway or the browser, as the integration needs it (Flask-free, so testable)."""

    headers: Mapping[str, str]
    body: bytes
    form: Mapping[str, str]
    args: Mapping[str, str]


@dataclass(frozen=True)
class PaymentNews:
    """The state of a payment as the gateway reports it (a verified notification, or a query's answer)."""

    out_trade_no: str
    state: str  # PAID | WAITING | CLOSED | NOT_FOUND
    amount: int | None = None  # fen, as the gateway says it was paid
    txn_id: str = ""
    detail: str = ""  # the gateway's own words (trade_status, trade_state, origRespCode)


@dataclass(frozen=True)
class RefundNews:
    refund_no: str
    state: str  # one of orders.REFUND_PROCESSING / REFUND_SUCCEEDED / REFUND_FAILED
    amount: int | None = None
    gateway_ref: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Notice:
    """A verified notification: about a payment, a refund, or both (Alipay's refund notices carry the trade too)."""

    event: str  # the gateway's name for it: TRADE_SUCCESS, TRANSACTION.SUCCESS, REFUND.SUCCESS, consume ...
    merchant_id: str
    out_trade_no: str
    payment: PaymentNews | None = None
    refund: RefundNews | None = None
    fields: dict = field(default_factory=dict)  # what was verified, for the journal


@dataclass(frozen=True)
class Checkout:
    """What the shop hands the buyer's browser to pay: a redirect, a self-submitting form, a QR code, or a JSAPI
    page's parameters."""

    kind: str  # redirect | form | qr | jsapi
    url: str = ""
    html: str = ""
    code_url: str = ""
    open_url: str = ""  # for a QR code: where a desktop browser can open what the phone would scan
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Ack:
    """The shop's answer to a notification, in the gateway's format."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class ShopUrls:
    """Where the gateway and the buyer reach the shop for one order, and who the buyer is."""

    notify: str
    return_to: str  # the buyer comes back here (a signed Alipay return, UnionPay's front notify, WeChat's redirect)
    order_page: str
    client_ip: str = "127.0.0.1"  # the buyer's address (WeChat H5 needs it)


class Integration(ABC):
    """One gateway, as the shop uses it. `name` is the URL segment; `methods` the ways a buyer can pay."""

    name: ClassVar[str]
    label: ClassVar[str]
    methods: ClassVar[dict[str, str]]
    merchant_id: str

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    @abstractmethod
    def start(self, order: ShopOrder, method: str, urls: ShopUrls) -> Checkout:
        """Create the payment at the gateway (or sign it for the browser) and say where the buyer goes. What it
        needs later can go in order.gateway_data (saved with the order); GatewayTrouble if the gateway refused."""

    @abstractmethod
    def read_notification(self, inbound: Inbound) -> Notice:
        """Verify an asynchronous notification; raise Rejected when it must not be believed."""

    @abstractmethod
    def ack(self, accepted: bool, reason: str = "") -> Ack:
        """The answer that stops the gateway retrying (accepted) or makes it retry (not accepted)."""

    @abstractmethod
    def read_return(self, inbound: Inbound, order_no: str) -> None:
        """Check the browser's return to order `order_no` (from the return URL's path): raise Rejected if the gateway
        signs returns and this one does not verify, or is about another order. Never proof of payment."""

    @abstractmethod
    def query(self, order: ShopOrder) -> PaymentNews:
        """Ask the gateway how the payment stands (the fallback when a notification is late or lost)."""

    @abstractmethod
    def close(self, order: ShopOrder) -> None:
        """Close an unpaid order at the gateway so a late payment cannot land."""

    @abstractmethod
    def refund(self, order: ShopOrder, refund: ShopRefund, urls: ShopUrls) -> RefundNews:
        """Refund; calling it again with the same refund_no is a safe repeat at every gateway. Gateway refusals are
        a RefundNews in state REFUND_FAILED; GatewayTrouble when the outcome is unknown."""

    @abstractmethod
    def query_refund(self, order: ShopOrder, refund: ShopRefund) -> RefundNews:
        """Ask how a refund stands (when its notification is late)."""

    @staticmethod
    def describe(request) -> dict:
        """What the shop signed in this HTTP request, for the journal: {"string": ..., "key": ..., "algorithm": ...}."""
        return {}


class GatewayTrouble(Exception):
    """The gateway could not be reached, or its answer could not be trusted: the outcome is unknown, so the shop
    changes nothing and tries again later (with the same idempotency keys)."""
