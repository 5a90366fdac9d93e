"""Alipay's asynchronous notifications and return_url parameters: fields, signature, ack, retry schedule."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from sandbox.core import crypto, ports
from sandbox.core.canonical import sorted_query
from sandbox.core.ids import Ids
from sandbox.core.models import CLOSED, FAILED, PAID, PENDING, REFUNDED, Notification, Order, Refund
from sandbox.core.money import format_yuan
from sandbox.core.ports import NotificationDraft
from sandbox.core.resend import describe_edits, draft_of, edit_flat
from sandbox.gateways.alipay.keys import AlipayKeys

# 4m, 10m, 10m, 1h, 2h, 6h, 15h: eight attempts over about 25 hours (docs/protocols/alipay.md#notifications).
RETRY_SCHEDULE = (240, 600, 600, 3600, 7200, 21600, 54000)
OTHER_APP_ID = "2021000000009999"  # the app a `merchant: wrong` notification claims to be for
STALE_BY = timedelta(days=1)
SIGNATURE_FIELDS = ("sign", "sign_type")
TRADE_STATUS = {
    PENDING: "WAIT_BUYER_PAY",
    PAID: "TRADE_SUCCESS",
    REFUNDED: "TRADE_CLOSED",
    CLOSED: "TRADE_CLOSED",
    FAILED: "TRADE_CLOSED",
}


def exists_at_alipay(order: Order) -> bool:
    """Alipay creates a page/wap/QR trade only when the buyer opens the cashier or scans the code."""
    return order.extra.get("visible", True) or order.status in (PAID, REFUNDED, FAILED)


def buyer(order: Order) -> dict[str, str]:
    """The buyer Alipay reports; stable per trade so queries, replies and notifications all agree."""
    return {
        "buyer_user_id": order.buyer.get("buyer_id") or "2088" + order.trade_no[-12:],
        "buyer_logon_id": order.buyer.get("buyer_logon_id") or "sbx***@sandbox.example",
    }


def wire_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def is_ack(http_status: int, body: str) -> bool:
    """Alipay stops retrying only on the exact plain body `success`."""
    return 200 <= http_status < 300 and body == "success"


def signed(fields: dict[str, str], keys: AlipayKeys, sign_type: str) -> dict[str, str]:
    """Notifications and returns are signed over every field but `sign` and `sign_type`."""
    fields = {k: v for k, v in fields.items() if v not in (None, "")}
    fields["sign_type"] = sign_type
    fields["sign"] = keys.sign(sorted_query(fields, exclude=("sign", "sign_type")), sign_type)
    return fields


def notification_fields(
    order: Order, event: str, refund: Refund | None, now: datetime, ids: Ids, seller_id: str
) -> dict[str, str]:
    paid = order.status in (PAID, REFUNDED) or order.paid_at is not None
    amount = format_yuan(order.amount)
    fields = {
        "notify_time": wire_time(now),
        "notify_type": "trade_status_sync",
        "notify_id": "2024" + ids.alnum(30),
        "app_id": order.merchant_id,
        "auth_app_id": order.merchant_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": order.trade_no,
        "out_trade_no": order.out_trade_no,
        # Alipay always names the buyer; an empty field here would disagree with trade.query's buyer_user_id.
        "buyer_id": buyer(order)["buyer_user_id"],
        "buyer_logon_id": buyer(order)["buyer_logon_id"],
        "seller_id": seller_id,
        "trade_status": TRADE_STATUS[order.status],
        "total_amount": amount,
        "receipt_amount": amount if paid else "",
        "invoice_amount": amount if paid else "",
        "buyer_pay_amount": amount if paid else "",
        "point_amount": "0.00" if paid else "",
        "subject": order.subject,
        "body": order.body,
        "gmt_create": wire_time(order.created_at),
        "gmt_payment": wire_time(order.paid_at),
        "gmt_close": wire_time(order.closed_at) if order.status in (CLOSED, FAILED, REFUNDED) else "",
        "fund_bill_list": f'[{{"amount":"{amount}","fundChannel":"ALIPAYACCOUNT"}}]' if paid else "",
        "passback_params": order.extra.get("passback_params", ""),
    }
    if event == ports.REFUNDED and refund is not None:
        fields["out_biz_no"] = refund.out_refund_no
        fields["refund_fee"] = format_yuan(order.refunded_amount)
        fields["gmt_refund"] = (
            refund.created_at.strftime("%Y-%m-%d %H:%M:%S.") + f"{refund.created_at.microsecond // 1000:03d}"
        )
        if order.status == REFUNDED:
            fields["gmt_close"] = wire_time(refund.created_at)
    return fields


def build_notification(
    order: Order, event: str, refund: Refund | None, now: datetime, ids: Ids, keys: AlipayKeys, seller_id: str
) -> NotificationDraft | None:
    if not order.notify_url or event not in (ports.PAID, ports.FAILED, ports.CLOSED, ports.REFUNDED):
        return None
    # A trade the buyer never reached does not exist at Alipay, so its expiry notifies nobody.
    if not exists_at_alipay(order):
        return None
    fields = notification_fields(order, event, refund, now, ids, seller_id)
    body = urlencode(signed(fields, keys, order.extra.get("sign_type", "RSA2")))
    return NotificationDraft(
        event=fields["trade_status"],
        url=order.notify_url,
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        refund_no=refund.out_refund_no if refund else "",
    )


def return_params(order: Order, method: str, now: datetime, keys: AlipayKeys, seller_id: str) -> dict[str, str]:
    """The signed query the cashier appends to return_url after a payment (docs/protocols/alipay.md#return-url)."""
    fields = {
        "charset": "utf-8",
        "out_trade_no": order.out_trade_no,
        "method": f"{method}.return",
        "total_amount": format_yuan(order.amount),
        "trade_no": order.trade_no,
        "auth_app_id": order.merchant_id,
        "version": "1.0",
        "app_id": order.merchant_id,
        "seller_id": seller_id,
        "timestamp": wire_time(now),
    }
    return signed(fields, keys, order.extra.get("sign_type", "RSA2"))


def resend(
    record: Notification, edits: dict, signature: str, keys: AlipayKeys, now: datetime, ids: Ids, sign_type: str
) -> tuple[NotificationDraft, list]:
    """A new message from `record`'s fields: fresh notify_id and notify_time (unless edited), the edits, then the
    signature asked for."""
    fresh = {"notify_time": wire_time(now), "notify_id": "2024" + ids.alnum(30)}
    effects = {"edit": {**fresh, **edits}, **({} if signature == "valid" else {"signature": signature})}
    draft, notes = shape(draft_of(record), effects, keys, now, sign_type)
    sign_type = dict(parse_qsl(record.body)).get("sign_type") or sign_type
    notes[0] = f"edit: {describe_edits(edits)} (fresh notify_id and notify_time), signed {sign_type}"
    return draft, notes


def readable(body: str) -> dict[str, str]:
    """The form fields a merchant reads once the signature checks out: all but sign and sign_type."""
    return {k: v for k, v in parse_qsl(body, keep_blank_values=True) if k not in SIGNATURE_FIELDS}


def shape(
    draft: NotificationDraft, effects: dict, keys: AlipayKeys, now: datetime, sign_type: str = "RSA2"
) -> tuple[NotificationDraft, list]:
    """A notification forged as a scenario asks; an honest merchant must reject every one of them.

    `edit` (a resend's changes, null removing a field) applies before signing, so the message is signed as edited
    (with `sign_type` when the original carried none).
    """
    fields = dict(parse_qsl(draft.body, keep_blank_values=True))
    sign_type = fields.get("sign_type") or sign_type
    notes = []
    if "edit" in effects:
        fields = edit_flat(fields, effects["edit"], SIGNATURE_FIELDS)
        notes.append(f"edit: {describe_edits(effects['edit'])}, signed {sign_type}")
    if effects.get("merchant") == "wrong":
        fields["app_id"] = fields["auth_app_id"] = OTHER_APP_ID
        notes.append(f"merchant: signed correctly for another app_id, {OTHER_APP_ID}")
    if effects.get("timestamp") == "stale":
        fields["notify_time"] = wire_time(now - STALE_BY)
        notes.append(f"timestamp: notify_time {fields['notify_time']}, a day old, signed correctly")
    fields = signed({k: v for k, v in fields.items() if k not in ("sign", "sign_type")}, keys, sign_type)
    for name, value in effects.get("tamper", {}).items():
        wire = ("total_amount", "receipt_amount", "buyer_pay_amount", "invoice_amount") if name == "amount" else (name,)
        for field_name in wire:
            fields[field_name] = format_yuan(int(value)) if name == "amount" else str(value)
        notes.append(f"tamper: {', '.join(wire)} = {fields[wire[0]]} after signing")
    if effects.get("signature") == "invalid":
        fields["sign"] = crypto.spoil(fields["sign"])
        notes.append("signature: invalid (the sign of another message)")
    elif effects.get("signature") == "missing":
        fields.pop("sign")
        fields.pop("sign_type")
        notes.append("signature: missing (no sign, no sign_type)")
    return replace(draft, body=urlencode(fields)), notes
