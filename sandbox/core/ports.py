"""What the core asks of a gateway package. The core holds adapters by name and never imports them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sandbox.core.models import Notification, Order, Refund

# Neutral events the core emits on state changes; each gateway decides what (if anything) it notifies.
CREATED, PAID, FAILED, CLOSED, REFUNDED = "created", "paid", "failed", "closed", "refunded"
REFUND_ABNORMAL, REFUND_CLOSED = "refund_abnormal", "refund_closed"


@dataclass
class NotificationDraft:
    """A notification as the gateway built it: the exact bytes and headers to send."""

    event: str
    url: str
    body: str
    headers: dict = field(default_factory=dict)
    refund_no: str = ""
    meta: dict = field(default_factory=dict)  # gateway-private details, e.g. which key signs each attempt
    probe: bool = False  # signed as the provider's probe traffic (Notification.probe)


@dataclass
class OrderRequest:
    """An order to create as if its merchant had called the gateway (POST /_sandbox/orders), in neutral words."""

    merchant_id: str
    amount: int  # fen
    out_trade_no: str
    subject: str
    method: str  # one of the adapter's create_methods
    notify_url: str = ""
    return_url: str = ""
    base_url: str = ""  # where the sandbox's pages are served: the start of pay_url


@dataclass
class CreatedOrder:
    """The order, the page a buyer opens to pay it (None when none opens without the merchant's signature), and the
    text its QR code encodes (None when the product has no QR code)."""

    order: Order
    pay_url: str | None
    qr_code: str | None = None


@dataclass
class RefundRequest:
    """A refund to make as if the order's merchant had asked the gateway (POST /_sandbox/orders/.../refund)."""

    merchant_id: str
    out_trade_no: str
    out_refund_no: str
    amount: int | None  # fen; None: what is left to refund (an identical repeat: its own amount)
    reason: str = ""
    base_url: str = ""


class GatewayAdapter(Protocol):
    name: str
    create_methods: tuple[str, ...]  # the products create_order makes, the default first
    action_methods: dict[str, str]  # refund, close -> the wire method refund_order, close_order run (absent: none)
    rule_methods: tuple[str, ...]  # wire methods and events a scenario rule's match.operation may name
    retry_schedule: tuple[int, ...]  # seconds from one attempt to the next retry
    payment_codes: dict[str, str]  # native payment failure code -> its message, for scenario rules
    api_errors: dict[str, str]  # native business error code an API call can answer -> its message
    neutral_codes: dict[str, str]  # neutral code (rules.NEUTRAL_CODES) -> the native one

    def notification_for(self, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
        """Build the signed notification for a state change, or None when none is due."""

    def attempt_headers(self, notification: Notification) -> dict:
        """The headers of one delivery attempt (a gateway may sign each attempt afresh)."""

    def is_ack(self, notification: Notification, http_status: int, body: str) -> bool:
        """Whether the merchant's answer acknowledges the notification."""

    def register_merchant(self, payload: dict) -> dict:
        """Validate a registration request, store the merchant, answer the sandbox's public material."""

    def describe_merchant(self, record: dict) -> dict:
        """The control API view of a stored merchant (the same fields as the registration answer)."""

    def register_demo_merchants(self) -> None:
        """Register the demo merchants shipped in fixtures/."""

    def create_order(self, request: OrderRequest) -> CreatedOrder:
        """Create (or find again, for an identical repeat) an order through the wire method's own handler, with
        what the merchant would have sent; refusals are neutral errors naming the request's fields."""

    def refund_order(self, request: RefundRequest) -> tuple[Order, Refund]:
        """Refund (or find again, for an identical repeat) through the wire method's own handler, as the merchant;
        the refund records `via` control_api. Refusals are neutral errors naming the request's fields."""

    def close_order(self, merchant_id: str, out_trade_no: str, base_url: str) -> Order:
        """Close a pending order through the wire method's own handler, as the merchant (recording `via`
        control_api); UnsupportedByGateway where the gateway has no close."""

    def pay_links(self, order: Order, base_url: str) -> tuple[str | None, str | None]:
        """The hosted page a buyer opens to pay the order (None when none opens without the merchant's signature)
        and the text its QR code encodes (None when the product has none)."""

    def describe_order(self, order: Order) -> dict:
        """Gateway-native extras for the control API view of an order (e.g. trade_status)."""

    def shape_notification(self, draft: NotificationDraft, order: Order, effects: dict) -> tuple:
        """Forge a notification as a scenario asks (signature, tamper, timestamp, merchant, probe).

        Answers the new draft and notes of what was done (or why an effect does not apply to this gateway). For
        `probe` (only asked of adapters with `probe_traffic = True`) the draft is a probe copy, `probe` set, or
        the draft as it was when this notification cannot be probed.
        """

    def notification_fields(self, notification: Notification) -> dict:
        """The payload as the merchant reads it once verified and decrypted (form or XML fields, WeChat v3's
        resource); raises NotificationUnreadable when the merchant's keys cannot open it."""

    def resend_notification(self, notification: Notification, order: Order, edits: dict, signature: str) -> tuple:
        """A new draft from `notification`'s fields with `edits` (null removes a field), signed properly, or
        deliberately not (`signature` invalid or missing), through shape_notification's machinery; and notes."""
