"""v3 notifications: an AES-GCM encrypted resource in a JSON body, signed headers, a 2xx ack (B.6)."""

from __future__ import annotations

import json
import time

from sandbox.core import ports
from sandbox.core.models import Notification, Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.gateways.wechatpay.keys import CERTIFICATE_MODE, aead_encrypt
from sandbox.gateways.wechatpay.v3 import codec
from sandbox.gateways.wechatpay.v3.resources import refund_notification_resource, rfc3339, transaction

EVENTS = {
    ports.PAID: ("TRANSACTION.SUCCESS", "支付成功"),
    ports.REFUNDED: ("REFUND.SUCCESS", "退款成功"),
    ports.REFUND_ABNORMAL: ("REFUND.ABNORMAL", "退款异常"),
    ports.REFUND_CLOSED: ("REFUND.CLOSED", "退款关闭"),
}


def build(gateway, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
    """WeChat notifies payments and refund outcomes; closes, expiries and failures are silent."""
    if event not in EVENTS:
        return None
    url = (refund.extra.get("notify_url") if refund else "") or order.notify_url
    merchant = gateway.merchant(order.merchant_id)
    if not url or merchant is None:
        return None
    event_type, summary = EVENTS[event]
    kind = "transaction" if event == ports.PAID else "refund"
    resource = transaction(order) if refund is None else refund_notification_resource(order, refund)
    nonce = gateway.sandbox.ids.alnum(12)
    body = {
        "id": f"EV-{gateway.sandbox.ids.hex(32)}",
        "create_time": rfc3339(gateway.sandbox.clock.now()),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": {
            "original_type": kind,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": aead_encrypt(merchant["apiv3_key"], nonce, json.dumps(resource, ensure_ascii=False), kind),
            "associated_data": kind,
            "nonce": nonce,
        },
    }
    return NotificationDraft(
        event=event_type,
        url=url,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        headers={"Content-Type": "application/json"},
        refund_no=refund.out_refund_no if refund else "",
        meta={"api": "v3", "signing_mode": order.extra.get("signing_mode") or CERTIFICATE_MODE},
    )


def attempt_headers(gateway, notification: Notification) -> dict:
    """Signed afresh for each attempt, stamped with real time: merchant SDKs check it against their own clock."""
    mode = notification.meta.get("signing_mode", CERTIFICATE_MODE)
    signed = codec.signed_headers(
        notification.body,
        gateway.keys,
        mode,
        int(time.time()),
        gateway.sandbox.ids.alnum(32),
        gateway.sandbox.ids.hex(32),
    )
    return {**notification.headers, **signed}


def is_ack(http_status: int, body: str) -> bool:
    """Any 2xx (200 or 204, the body does not matter) acknowledges a v3 notification."""
    return 200 <= http_status < 300
