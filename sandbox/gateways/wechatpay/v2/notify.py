"""v2 notifications (PROTOCOLS.md C.5): an MD5-signed payment XML, a refund XML with AES-encrypted req_info.

Both are signed or encrypted with the key the order was made with: the API key, or the sandbox key for an
order made under /sandboxnew/ (order.extra["sign_key_kind"]). The merchant acknowledges with an XML body
whose return_code is SUCCESS; anything else is retried on WeChat's schedule.
"""

from __future__ import annotations

from sandbox.core import ports
from sandbox.core.models import Notification, Order, Refund
from sandbox.core.ports import NotificationDraft
from sandbox.gateways.wechatpay.v2 import codec
from sandbox.gateways.wechatpay.v2.errors import V2Error
from sandbox.gateways.wechatpay.v2.resources import paid_fields, refund_notification_fields

EVENTS = {
    ports.PAID: "TRANSACTION.SUCCESS",
    ports.REFUNDED: "REFUND.SUCCESS",
    ports.REFUND_ABNORMAL: "REFUND.ABNORMAL",
    ports.REFUND_CLOSED: "REFUND.CLOSED",
}
MAX_ACK = 64 * 1024  # bytes of a merchant's reply the ack check reads


def build(gateway, event: str, order: Order, refund: Refund | None) -> NotificationDraft | None:
    """Payments and refund outcomes are notified; closes, expiries and declines are silent, as on WeChat."""
    if event not in EVENTS:
        return None
    url = (refund.extra.get("notify_url") if refund else "") or order.notify_url
    merchant = gateway.merchant(order.merchant_id)
    if not url or merchant is None or not merchant.get("api_key"):
        return None
    key = codec.key_for(merchant, order.extra.get("sign_key_kind") or codec.API_KEY)
    envelope = {
        "return_code": "SUCCESS",
        "appid": order.extra.get("appid") or merchant["appid"],
        "mch_id": order.merchant_id,
        "nonce_str": gateway.sandbox.ids.alnum(32),
    }
    if refund is None:
        # Always MD5, whatever the order's sign_type: wechatpy's parse_payment_result checks MD5 only.
        body = codec.signed({**envelope, "return_msg": "OK", "result_code": "SUCCESS", **paid_fields(order)}, key)
    else:
        inner = {k: str(v) for k, v in refund_notification_fields(order, refund).items() if v is not None}
        body = codec.render({**envelope, "req_info": codec.encrypt_req_info(key, codec.render(inner, root="root"))})
    return NotificationDraft(
        event=EVENTS[event],
        url=url,
        body=body,
        headers={"Content-Type": "text/xml"},
        refund_no=refund.out_refund_no if refund else "",
        meta={"api": "v2"},
    )


def attempt_headers(gateway, notification: Notification) -> dict:
    """Every attempt is the same message: nothing is re-signed."""
    return dict(notification.headers)


def is_ack(http_status: int, body: str) -> bool:
    """Only a 2xx with XML whose return_code is SUCCESS acknowledges; the reply is parsed as safely as a request."""
    if not 200 <= http_status < 300:
        return False
    try:
        fields = codec.parse(body.encode("utf-8", errors="replace"), MAX_ACK)
    except V2Error:
        return False
    return fields.get("return_code", "").strip() == "SUCCESS"
