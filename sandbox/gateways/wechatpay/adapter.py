"""WeChat Pay as the core sees it: merchants and their keys, notifications for v3 and v2 orders."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from cryptography import x509

from sandbox.core import crypto
from sandbox.core.digits import ascii_digits
from sandbox.core.models import Notification, Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.errors import InvalidParameter, MissingParameter
from sandbox.gateways.created import ActsAsMerchant
from sandbox.gateways.wechatpay import codes
from sandbox.gateways.wechatpay import keys as key_modes
from sandbox.gateways.wechatpay.common import GATEWAY, TRADE_STATE_DESC, trade_state
from sandbox.gateways.wechatpay.keys import DEFAULT_SHARE, KEY_MODES, MIGRATING_MODE, WechatKeys

# 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h (docs/protocols/wechatpay-v3.md#notifications).
RETRY_SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600)

# POST /_sandbox/orders/.../refund and .../close run these wire methods (scenario rules match them)
ACTION_METHODS = {"refund": "refunds.create", "close": "transactions.close"}
# What a scenario rule's match.operation may name beside the neutral operations: the v3 wire methods and v2
# endpoints (faults.py) and the notifications' event types (tests/scenarios keep it complete).
RULE_METHODS = (
    *("transactions.native", "transactions.jsapi", "transactions.app", "transactions.h5", "transactions.codepay"),
    *("transactions.query", "transactions.query_by_id", "transactions.close", "transactions.reverse"),
    *("refunds.create", "refunds.query", "bill.tradebill", "bill.download", "certificates"),
    *("pay/unifiedorder", "pay/micropay", "pay/orderquery", "pay/refundquery", "pay/closeorder"),
    *("secapi/pay/reverse", "secapi/pay/refund", "pay/downloadbill", "pay/getsignkey"),
    *("TRANSACTION.SUCCESS", "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"),
)


class WechatPayGateway(ActsAsMerchant):
    name = GATEWAY
    retry_schedule = RETRY_SCHEDULE
    merchant_package = "sandbox.gateways.wechatpay.v3"  # its create and actions modules (ActsAsMerchant)
    create_methods = ("native", "jsapi", "h5")  # POST /_sandbox/orders, the default first
    action_methods = ACTION_METHODS
    rule_methods = RULE_METHODS
    payment_codes = codes.PAYMENT_FAILURES
    api_errors = codes.API_MESSAGES
    neutral_codes = codes.NEUTRAL_CODES
    probe_traffic = True  # API v3 probes merchants (签名探测): scenario rules may ask for it (rules.check_probes)

    def __init__(self, sandbox, keys: WechatKeys) -> None:
        self.sandbox = sandbox
        self.keys = keys
        # API version -> module with build(gateway, event, order, refund) and is_ack(status, body).
        self.notifiers: dict = {}

    # -- merchants -----------------------------------------------------------------------------

    def register_merchant(self, payload: dict) -> dict:
        mchid = str(payload.get("merchant_id") or "").strip()
        if not mchid:
            raise MissingParameter("merchant_id", "merchant_id (the WeChat Pay mchid) is required")
        if not ascii_digits(mchid) or len(mchid) > 32:
            raise InvalidParameter("merchant_id", "a mchid is up to 32 digits, e.g. 1900000109")
        appid = str(payload.get("appid") or "").strip()
        if not appid:
            raise MissingParameter("appid", "appid (the app id bound to the merchant, e.g. wx...) is required")
        public_pem, certificate, serial = self._merchant_key(payload)
        apiv3_key = _key_of_32(payload, "apiv3_key", required=True)
        key_mode, share = _key_mode(payload)
        record = {
            "gateway": GATEWAY,
            "merchant_id": mchid,
            "name": str(payload.get("name") or f"WeChat Pay merchant {mchid}"),
            "appid": appid,
            "merchant_serial_no": serial,
            "merchant_public_key": public_pem,
            "merchant_certificate": certificate,
            "apiv3_key": apiv3_key,
            "api_key": _key_of_32(payload, "api_key", required=False),
            "key_mode": key_mode,
            "public_key_share": share,
        }
        self.sandbox.merchants.put(record)
        return self.describe_merchant(record)

    @staticmethod
    def _merchant_key(payload: dict) -> tuple[str, str, str]:
        """(public key PEM, certificate PEM or "", serial in upper hex) from the key or the certificate."""
        cert_text, key_text = payload.get("merchant_certificate"), payload.get("merchant_public_key")
        serial = str(payload.get("merchant_serial_no") or "").strip().upper()
        if serial and not re.fullmatch(r"[0-9A-F]{1,64}", serial):
            raise InvalidParameter("merchant_serial_no", "merchant_serial_no is the certificate serial in hex")
        if cert_text:
            try:
                cert = x509.load_pem_x509_certificate(str(cert_text).encode())
                key = crypto.load_public_key(str(cert_text))
            except (ValueError, crypto.KeyFormatError) as exc:
                msg = f"merchant_certificate is not a PEM X.509 certificate: {exc}"
                raise InvalidParameter("merchant_certificate", msg) from None
            if serial and int(serial, 16) != cert.serial_number:
                raise InvalidParameter(
                    "merchant_serial_no",
                    f"merchant_serial_no {serial} is not the serial of merchant_certificate ({cert.serial_number:X})",
                )
            return crypto.public_pem(key), str(cert_text), f"{cert.serial_number:X}"
        if not key_text:
            raise MissingParameter("merchant_public_key", "merchant_public_key or merchant_certificate is required")
        if not serial:
            raise MissingParameter("merchant_serial_no", "merchant_serial_no is required with merchant_public_key")
        try:
            key = crypto.load_public_key(str(key_text))
        except crypto.KeyFormatError as exc:
            raise InvalidParameter("merchant_public_key", f"merchant_public_key is not an RSA key: {exc}") from None
        return crypto.public_pem(key), "", serial

    def describe_merchant(self, record: dict) -> dict:
        return {
            "gateway": GATEWAY,
            "merchant_id": record["merchant_id"],
            "name": record["name"],
            "appid": record["appid"],
            "merchant_serial_no": record["merchant_serial_no"],
            "merchant_public_key": record["merchant_public_key"],
            "merchant_certificate": record["merchant_certificate"],
            # Secrets are write-only: an answer says whether each is set, never its value.
            "apiv3_key_set": bool(record["apiv3_key"]),
            "api_key_set": bool(record["api_key"]),
            "key_mode": record.get("key_mode"),  # absent from records stored before key modes: the default
            "public_key_share": record.get("public_key_share"),
            "platform_serial_no": self.keys.platform_serial_no,
            "platform_certificate": self.keys.platform_cert_pem,
            "public_key_id": self.keys.public_key_id,
            "platform_public_key": self.keys.pub_key_pem,
        }

    def register_demo_merchants(self) -> None:
        base = Path(self.sandbox.config.fixtures_dir) / "wechatpay" / "demo"
        spec = json.loads((base / "merchant.json").read_text())
        self.register_merchant(
            {
                **{k: spec[k] for k in ("merchant_id", "appid", "name", "merchant_serial_no", "apiv3_key", "api_key")},
                "merchant_certificate": (base / spec["merchant_certificate_file"]).read_text(),
            }
        )

    def merchant(self, mchid: str) -> dict | None:
        return self.sandbox.merchants.get(GATEWAY, mchid)

    def answer_key(self, merchant: dict | None, asked: str) -> str:
        """Which key signs an answer for `merchant` (keys.answer_key), drawn from the seeded ids."""
        return key_modes.answer_key(merchant, asked, self.sandbox.ids.chance)

    def notification_key(self, merchant: dict | None, order_mode: str) -> str:
        """Which key signs a notification for `merchant` (keys.notification_key), drawn from the seeded ids."""
        return key_modes.notification_key(merchant, order_mode, self.sandbox.ids.chance)

    # -- notifications -------------------------------------------------------------------------

    def notification_for(self, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
        notifier = self.notifiers.get(order.extra.get("api", "v3"))
        return notifier.build(self, event, order, refund) if notifier else None

    def shape_notification(self, draft: NotificationDraft, order: Order, effects: dict) -> tuple:
        """Forged by the notifier of the order's API version (v3/notify.py, v2/notify.py)."""
        return self.notifiers[draft.meta.get("api", "v3")].shape(self, draft, order, effects)

    def notification_fields(self, notification: Notification) -> dict:
        """v3: the decrypted resource; v2: the XML fields, a refund's req_info opened (v3/notify.py, v2/notify.py)."""
        if notification.meta.get("api", "v3") == "v3":
            return self.notifiers["v3"].readable(self, notification)
        order = self.sandbox.payments.find(GATEWAY, notification.merchant_id, out_trade_no=notification.out_trade_no)
        return self.notifiers["v2"].readable(self, notification, order)

    def resend_notification(self, notification: Notification, order: Order, edits: dict, signature: str) -> tuple:
        if notification.meta.get("api", "v3") == "v3":
            return self.notifiers["v3"].resend(self, notification, edits, signature)
        return self.notifiers["v2"].resend(self, notification, order, edits, signature)

    def attempt_headers(self, notification: Notification) -> dict:
        return self.notifiers[notification.meta.get("api", "v3")].attempt_headers(self, notification)

    def is_ack(self, notification: Notification, http_status: int, body: str) -> bool:
        return self.notifiers[notification.meta.get("api", "v3")].is_ack(http_status, body)

    def describe_order(self, order: Order) -> dict:
        state = trade_state(order)
        return {"trade_state": state, "trade_state_desc": TRADE_STATE_DESC[state], "api": order.extra.get("api")}


def _key_of_32(payload: dict, name: str, required: bool) -> str:
    value = str(payload.get(name) or "")
    if not value:
        if required:
            raise MissingParameter(name, f"{name} (32 characters) is required")
        return ""
    if len(value.encode("utf-8")) != 32 or not value.isascii():
        raise InvalidParameter(name, f"{name} must be exactly 32 ASCII characters, got {len(value)}")
    return value


def _key_mode(payload: dict) -> tuple[str | None, float | None]:
    """(key_mode, public_key_share): None for an absent key_mode; a share only, and always, with migrating."""
    mode, share = payload.get("key_mode"), payload.get("public_key_share")
    if mode is not None and mode not in KEY_MODES:
        raise InvalidParameter(
            "key_mode",
            f"key_mode must be {', '.join(KEY_MODES[:-1])} or {KEY_MODES[-1]} (or left out: certificate, unless a "
            f"request's Wechatpay-Serial asks for the public key), got {json.dumps(mode, ensure_ascii=False)[:64]}",
        )
    if mode != MIGRATING_MODE:
        if share is not None:
            raise InvalidParameter("public_key_share", "public_key_share goes with key_mode migrating only")
        return mode, None
    if share is None:
        return mode, DEFAULT_SHARE
    if isinstance(share, bool) or not isinstance(share, int | float) or not (math.isfinite(share) and 0 <= share <= 1):
        raise InvalidParameter(
            "public_key_share",
            f"public_key_share is the share of answers and notifications signed by the public key: a number from 0 "
            f"to 1 (default {DEFAULT_SHARE}), got {json.dumps(share, ensure_ascii=False)[:64]}",
        )
    return mode, float(share)
