"""The Alipay gateway as the core sees it: merchants, notifications, and the native view of an order."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography import x509

from sandbox.core import crypto
from sandbox.core.digits import ascii_digits
from sandbox.core.models import Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.errors import InvalidParameter, MissingParameter
from sandbox.gateways.alipay import errors, notify
from sandbox.gateways.alipay.keys import AlipayKeys, cert_sn
from sandbox.gateways.created import ActsAsMerchant

NAME = "alipay"

# POST /_sandbox/orders/.../refund and .../close run these wire methods (scenario rules match them)
ACTION_METHODS = {"refund": "alipay.trade.refund", "close": "alipay.trade.close"}
# What a scenario rule's match.operation may name beside the neutral operations: the methods (gateway.do and
# OpenAPI v3 alike, handlers.METHODS) and the notifications' trade_status (tests/scenarios keep it complete).
RULE_METHODS = (
    "alipay.trade.page.pay",
    "alipay.trade.wap.pay",
    "alipay.trade.precreate",
    "alipay.trade.create",
    "alipay.trade.pay",
    "alipay.trade.query",
    "alipay.trade.refund",
    "alipay.trade.fastpay.refund.query",
    "alipay.trade.close",
    "alipay.trade.cancel",
    "alipay.data.dataservice.bill.downloadurl.query",
    "TRADE_SUCCESS",
    "TRADE_CLOSED",
)


class AlipayGateway(ActsAsMerchant):
    name = NAME
    retry_schedule = notify.RETRY_SCHEDULE
    merchant_package = "sandbox.gateways.alipay"  # its create and actions modules (ActsAsMerchant)
    create_methods = ("page", "wap", "precreate")  # POST /_sandbox/orders, the default first
    action_methods = ACTION_METHODS
    rule_methods = RULE_METHODS
    payment_codes = errors.PAYMENT_FAILURES
    api_errors = errors.API_ERRORS
    neutral_codes = errors.NEUTRAL_CODES

    def __init__(self, sandbox, keys: AlipayKeys) -> None:
        self.sandbox = sandbox
        self.keys = keys

    # -- merchants -----------------------------------------------------------------------------

    def register_merchant(self, payload: dict) -> dict:
        app_id = str(payload.get("merchant_id") or "").strip()
        if not app_id:
            raise MissingParameter("merchant_id", "merchant_id (the Alipay app_id) is required")
        if not ascii_digits(app_id) or len(app_id) > 32:
            raise InvalidParameter("merchant_id", "an Alipay app_id is up to 32 digits, e.g. 2021000000000001")
        public_pem, app_cert = self._app_key_material(payload)
        record = {
            "gateway": NAME,
            "merchant_id": app_id,
            "name": str(payload.get("name") or f"Alipay app {app_id}"),
            "seller_id": str(payload.get("seller_id") or "2088" + app_id[-12:].rjust(12, "0")),
            "app_public_key": public_pem,
            "app_cert": app_cert,
            "app_cert_sn": cert_sn(app_cert),
        }
        self.sandbox.merchants.put(record)
        return self.describe_merchant(record)

    def _app_key_material(self, payload: dict) -> tuple[str, str]:
        """The app public key (from app_public_key or the app cert) and an app cert, issued if none was given."""
        key_text, cert_text = payload.get("app_public_key"), payload.get("app_cert")
        if not key_text and not cert_text:
            raise MissingParameter("app_public_key", "app_public_key (PEM) or app_cert (PEM) is required")
        if cert_text:
            try:
                x509.load_pem_x509_certificate(str(cert_text).encode())
                cert_key = crypto.load_public_key(str(cert_text))
            except (ValueError, crypto.KeyFormatError) as exc:
                raise InvalidParameter("app_cert", f"app_cert is not a PEM X.509 certificate: {exc}") from None
        try:
            key = crypto.load_public_key(str(key_text)) if key_text else cert_key
        except crypto.KeyFormatError as exc:
            raise InvalidParameter("app_public_key", f"app_public_key is not an RSA public key: {exc}") from None
        if cert_text and key != cert_key:
            raise InvalidParameter("app_cert", "app_cert does not hold the same key as app_public_key")
        public_pem = crypto.public_pem(key)
        if not cert_text:
            serial = int.from_bytes(bytes.fromhex(crypto.fingerprint(key)), "big")
            cert_text = self.keys.issue_app_cert(str(payload["merchant_id"]), public_pem, serial)
        return public_pem, str(cert_text)

    def describe_merchant(self, record: dict) -> dict:
        return {
            "gateway": NAME,
            "merchant_id": record["merchant_id"],
            "name": record["name"],
            "seller_id": record["seller_id"],
            "app_public_key": record["app_public_key"],
            "app_cert": record["app_cert"],
            "app_cert_sn": record["app_cert_sn"],
            "alipay_public_key": self.keys.public_key_pem,
            "alipay_public_key_cert": self.keys.public_key_cert_pem,
            "alipay_root_cert": self.keys.root_cert_pem,
            "alipay_cert_sn": self.keys.alipay_cert_sn,
            "alipay_root_cert_sn": self.keys.root_cert_sn,
        }

    def register_demo_merchants(self) -> None:
        base = Path(self.sandbox.config.fixtures_dir) / "alipay" / "demo"
        spec = json.loads((base / "merchant.json").read_text())
        self.register_merchant(
            {
                "merchant_id": spec["merchant_id"],
                "name": spec["name"],
                "seller_id": spec["seller_id"],
                "app_public_key": (base / spec["app_public_key_file"]).read_text(),
                "app_cert": (base / spec["app_cert_file"]).read_text(),
            }
        )

    def seller_id(self, app_id: str) -> str:
        record = self.sandbox.merchants.get(NAME, app_id)
        return record["seller_id"] if record else ""

    # -- notifications -------------------------------------------------------------------------

    def notification_for(self, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
        return notify.build_notification(
            order,
            event,
            refund,
            self.sandbox.clock.now(),
            self.sandbox.ids,
            self.keys,
            self.seller_id(order.merchant_id),
        )

    def shape_notification(self, draft: NotificationDraft, order: Order, effects: dict) -> tuple:
        return notify.shape(draft, effects, self.keys, self.sandbox.clock.now())

    def notification_fields(self, notification) -> dict:
        return notify.readable(notification.body)

    def resend_notification(self, notification, order: Order, edits: dict, signature: str) -> tuple:
        clock, sign_type = self.sandbox.clock, order.extra.get("sign_type", "RSA2")
        return notify.resend(notification, edits, signature, self.keys, clock.now(), self.sandbox.ids, sign_type)

    def attempt_headers(self, notification) -> dict:
        return notification.headers

    def is_ack(self, notification, http_status: int, body: str) -> bool:
        return notify.is_ack(http_status, body)

    def describe_order(self, order: Order) -> dict:
        return {"trade_status": notify.TRADE_STATUS[order.status], "api": order.extra.get("protocol", "gateway.do")}
