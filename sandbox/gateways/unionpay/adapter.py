"""UnionPay as the core sees it: merchants (merId and the certificate whose decimal serial is the certId)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cryptography import x509

from sandbox.core import crypto
from sandbox.core.models import Notification, Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.errors import InvalidParameter, MissingParameter
from sandbox.gateways.created import ActsAsMerchant
from sandbox.gateways.unionpay import errors
from sandbox.gateways.unionpay.keys import UnionPayKeys

GATEWAY = "unionpay"
MER_ID = re.compile(r"^[0-9A-Za-z]{15}$")
# Up to 5 sends, about 0, 1, 2, 4 and 5 minutes apart (docs/protocols/unionpay.md#notifications).
RETRY_SCHEDULE = (60, 120, 240, 300)

# POST /_sandbox/orders/.../refund runs backTransReq 04 (scenario rules match it); ACP closes no consume
ACTION_METHODS = {"refund": "refund"}
# What a scenario rule's match.operation may name beside the neutral operations: the ACP transactions (faults.py),
# which are also the notifications' names (tests/scenarios keep it complete).
RULE_METHODS = ("consume", "queryTrans", "refund", "undo")


class UnionPayGateway(ActsAsMerchant):
    name = GATEWAY
    retry_schedule = RETRY_SCHEDULE
    merchant_package = "sandbox.gateways.unionpay"  # its create and actions modules (ActsAsMerchant)
    create_methods = ("frontTrans", "appTrans")  # POST /_sandbox/orders, the default first
    action_methods = ACTION_METHODS
    rule_methods = RULE_METHODS
    payment_codes = errors.PAYMENT_FAILURES
    api_errors = errors.API_ERRORS
    neutral_codes = errors.NEUTRAL_CODES

    def __init__(self, sandbox, keys: UnionPayKeys) -> None:
        self.sandbox = sandbox
        self.keys = keys
        self.notifier = None  # the notify module (build, shape), set by create_app: it imports the handlers

    def register_merchant(self, payload: dict) -> dict:
        mer_id = str(payload.get("merchant_id") or "").strip()
        if not mer_id:
            raise MissingParameter("merchant_id", "merchant_id (the 15-character merId) is required")
        if not MER_ID.match(mer_id):
            raise InvalidParameter(
                "merchant_id", f"merchant_id (the merId) is 15 letters or digits, e.g. 777290058110097, got {mer_id!r}"
            )
        cert_text = str(payload.get("merchant_certificate") or "")
        if not cert_text:
            raise MissingParameter(
                "merchant_certificate", "merchant_certificate (PEM) is required; its serial is the certId"
            )
        try:
            cert = x509.load_pem_x509_certificate(cert_text.encode())
            key = crypto.load_public_key(cert_text)
        except (ValueError, crypto.KeyFormatError) as exc:
            raise InvalidParameter(
                "merchant_certificate", f"merchant_certificate is not a PEM X.509 certificate: {exc}"
            ) from None
        record = {
            "gateway": GATEWAY,
            "merchant_id": mer_id,
            "name": str(payload.get("name") or f"UnionPay merchant {mer_id}"),
            "cert_id": str(cert.serial_number),
            "merchant_certificate": cert_text,
            "merchant_public_key": crypto.public_pem(key),
        }
        self.sandbox.merchants.put(record)
        return self.describe_merchant(record)

    def describe_merchant(self, record: dict) -> dict:
        return {
            "gateway": GATEWAY,
            "merchant_id": record["merchant_id"],
            "name": record["name"],
            "cert_id": record["cert_id"],
            "merchant_certificate": record["merchant_certificate"],
            "root_certificate": self.keys.root_pem,
            "middle_certificate": self.keys.middle_pem,
            "signing_certificate": self.keys.sign_cert_pem,
        }

    def register_demo_merchants(self) -> None:
        base = Path(self.sandbox.config.fixtures_dir) / "unionpay" / "demo"
        spec = json.loads((base / "merchant.json").read_text())
        certificate = (base / spec["merchant_certificate_file"]).read_text()
        self.register_merchant(
            {"merchant_id": spec["merchant_id"], "name": spec["name"], "merchant_certificate": certificate}
        )

    def merchant(self, mer_id: str) -> dict | None:
        return self.sandbox.merchants.get(GATEWAY, mer_id)

    def notification_for(self, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
        return self.notifier.build(self, event, order, refund) if self.notifier else None

    def shape_notification(self, draft: NotificationDraft, order: Order, effects: dict) -> tuple:
        """Forge a back notification as a scenario asks (notify.shape): tamper, signature, merchant; no timestamp."""
        if self.notifier is None:
            return draft, [f"{', '.join(effects)}: no notifier wired, sent unchanged"]
        return self.notifier.shape(draft, effects, self.keys)

    def notification_fields(self, notification: Notification) -> dict:
        return self.notifier.readable(notification.body)

    def resend_notification(self, notification: Notification, order: Order, edits: dict, signature: str) -> tuple:
        return self.notifier.resend(notification, edits, signature, self.keys)

    def attempt_headers(self, notification: Notification) -> dict:
        return notification.headers

    def is_ack(self, notification: Notification, http_status: int, body: str) -> bool:
        return http_status == 200  # any HTTP 200 acknowledges a back notification; the body is irrelevant

    def describe_order(self, order: Order) -> dict:
        return {"orderId": order.out_trade_no, "queryId": order.trade_no}
