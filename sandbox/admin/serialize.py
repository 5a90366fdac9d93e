"""The JSON shapes of the control API: orders, refunds and notifications."""

from __future__ import annotations

from datetime import datetime

from sandbox.core.models import VIA_GATEWAY, Notification, Order, Refund
from sandbox.errors import NotificationUnreadable


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def order_view(sandbox, order: Order, with_notifications: bool = False) -> dict:
    view = {
        "gateway": order.gateway,
        "merchant_id": order.merchant_id,
        "out_trade_no": order.out_trade_no,
        "trade_no": order.trade_no,
        "amount": order.amount,
        "currency": order.currency,
        "subject": order.subject,
        "status": order.status,
        "product": order.product,
        "notify_url": order.notify_url,
        "return_url": order.return_url,
        "created_at": iso(order.created_at),
        "paid_at": iso(order.paid_at),
        "closed_at": iso(order.closed_at),
        "expires_at": iso(order.expires_at),
        "refunded_amount": order.refunded_amount,
        "refunds": [refund_view(r) for r in order.refund_list],
        "failure": order.failure or None,
        "native": sandbox.gateways[order.gateway].describe_order(order),
    }
    if with_notifications:
        records = sandbox.outbox.list(order.gateway, order.merchant_id, order.out_trade_no)
        view["notifications"] = [notification_summary(r) for r in records]
    return view


def refund_view(refund: Refund) -> dict:
    return {
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "amount": refund.amount,
        "status": refund.status,
        "reason": refund.reason,
        "created_at": iso(refund.created_at),
        "succeeded_at": iso(refund.succeeded_at),
        "settle_at": iso(refund.settle_at),
        "via": refund.extra.get("via") or VIA_GATEWAY,
    }


def notification_summary(record: Notification) -> dict:
    last = record.attempt_list[-1] if record.attempts else None
    return {
        "id": record.id,
        "event": record.event,
        "status": record.status,
        "attempts": len(record.attempts),
        "last_http_status": last.http_status if last else None,
        "last_error": last.error if last else "",
        "next_attempt_at": iso(record.next_attempt_at),
        "rule": record.scenario.get("rule"),
        "probe": record.probe_verdict,
    }


def notification_view(record: Notification) -> dict:
    return {
        "id": record.id,
        "gateway": record.gateway,
        "merchant_id": record.merchant_id,
        "out_trade_no": record.out_trade_no,
        "event": record.event,
        "url": record.url,
        "status": record.status,
        "created_at": iso(record.created_at),
        "next_attempt_at": iso(record.next_attempt_at),
        "refund_no": record.refund_no,
        "attempts": [
            {
                "at": iso(a.at),
                "http_status": a.http_status,
                "response_body": a.response_body,
                "error": a.error,
                "acked": a.acked,
                "trigger": a.trigger,
                "rule": a.rule or None,
                "effect": a.effect,
            }
            for a in record.attempt_list
        ],
        "scenario": record.scenario or None,
        "probe": record.probe_verdict,
        "headers": record.headers,
        "body": record.body,
        "resent_from": record.resent_from or None,
        "edits": record.edits or None,
    }


def notification_detail(sandbox, record: Notification) -> dict:
    """One notification with `fields`: its payload as the merchant reads it once verified (and decrypted), by its
    gateway; null when the merchant's keys cannot open it (a forgery, or keys registered since)."""
    try:
        fields = sandbox.gateways[record.gateway].notification_fields(record)
    except NotificationUnreadable:
        fields = None
    return {**notification_view(record), "fields": fields}
