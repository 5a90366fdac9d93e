"""An order's timeline: what happened to it and every notification attempt, oldest first, derived from stored state."""

from __future__ import annotations

from datetime import datetime

from sandbox.admin.serialize import iso, order_view
from sandbox.core.models import (
    CLOSED,
    FAILED,
    NOTIFY_PENDING,
    REFUND_SUCCESS,
    VIA_CONTROL_API,
    Notification,
    Order,
    Refund,
)
from sandbox.core.money import format_yuan

# At one instant (a manual clock) events keep their causal order: the order's own steps, each followed by the
# attempts of the notifications it caused (+ ATTEMPTS), then their next scheduled attempt (+ NEXT).
CREATED, OPENED, SETTLED = 0, 1, 2
REFUND_STEP, REFUND_SETTLED = 10, 5  # refund k is step 10 * (k + 1); its settlement 5 later
ATTEMPTS, NEXT = 0.3, 0.6
CLOSED_BY = {"expired": "expiry", "cancelled": "buyer"}  # any other reason: the merchant closed (or reversed) it
CLOSED_TITLE = {"expiry": "Expired unpaid", "buyer": "Cancelled by the buyer"}
FROM_CONTROL_API = " (from the control API)"  # a refund or close the control API made for the merchant


def timeline(space, order: Order) -> dict:
    """{"order": the order view, "events": [...]} for one order of `space`."""
    events: list[tuple] = [(event["at"], step, (), 0, event) for step, event in _order_events(order)]
    for record in space.outbox.list(order.gateway, order.merchant_id, order.out_trade_no):
        step = _cause(order, record)
        rank = (record.created_at, bool(record.resent_from), record.id)
        for number, attempt in enumerate(record.attempt_list, 1):
            events.append((attempt.at, step + ATTEMPTS, rank, number, _attempt(record, number, attempt)))
        if record.status == NOTIFY_PENDING and record.next_attempt_at is not None:
            events.append((record.next_attempt_at, step + NEXT, rank, 0, _scheduled(record)))
    events.sort(key=lambda entry: entry[:4])
    return {
        "order": order_view(space, order, with_notifications=True),
        "events": [{**event, "at": iso(event["at"])} for *_, event in events],
    }


def _order_events(order: Order) -> list[tuple[float, dict]]:
    yuan = f"{format_yuan(order.amount)} {order.currency}"
    created = _event(order.created_at, "created", f"Order created ({order.product}, {yuan})")
    events = [(CREATED, {**created, "product": order.product, "amount": order.amount})]
    if order.extra.get("opened_at"):
        opened = datetime.fromisoformat(order.extra["opened_at"])
        events.append((OPENED, _event(opened, "page_opened", "The buyer opened the hosted page")))
    if order.paid_at:
        events.append((SETTLED, {**_event(order.paid_at, "paid", f"Paid {yuan}"), "amount": order.amount}))
    if order.status in (FAILED, CLOSED) and order.closed_at:
        events.append((SETTLED, _ended(order)))
    for index, refund in enumerate(order.refund_list):
        step = REFUND_STEP * (index + 1)
        amount = f"{format_yuan(refund.amount)} {order.currency}"
        title = f"Refund {refund.out_refund_no} of {amount}" + ("" if _settled_at(refund) else f": {refund.status}")
        title += FROM_CONTROL_API if refund.extra.get("via") == VIA_CONTROL_API else ""
        events.append((step, {**_event(refund.created_at, "refund", title), **_refund_details(refund)}))
        settled = _settled_at(refund)
        if settled is not None:
            title = f"Refund {refund.out_refund_no} settled: {refund.status}"
            events.append(
                (step + REFUND_SETTLED, {**_event(settled, "refund_settled", title), **_refund_details(refund)})
            )
    return events


def _ended(order: Order) -> dict:
    """A failed payment (with its reason) or a closed order (by the merchant, the buyer or expiry)."""
    failure = order.failure or {}
    reason, message = failure.get("reason", ""), failure.get("message", "")
    if order.status == FAILED:
        title = f"Payment failed: {reason}" + (f" ({message})" if message else "")
        return {**_event(order.closed_at, "failed", title), "reason": reason, "message": message}
    by = CLOSED_BY.get(reason, "merchant")
    title = CLOSED_TITLE.get(by, f"Closed by the merchant ({reason or 'closed'})")
    title += FROM_CONTROL_API if failure.get("via") == VIA_CONTROL_API else ""
    return {**_event(order.closed_at, "closed", title), "reason": reason, "by": by}


def _refund_details(refund: Refund) -> dict:
    return {
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "amount": refund.amount,
        "status": refund.status,
        "reason": refund.reason,
    }


def _settled_at(refund: Refund) -> datetime | None:
    """When a refund that was pending ended; None for one that succeeded at once (or is still pending)."""
    if refund.settled_at is not None:
        return refund.settled_at
    # Stored before settled_at was kept: a success later than the refund itself was pending until then.
    if refund.status == REFUND_SUCCESS and refund.succeeded_at and refund.succeeded_at != refund.created_at:
        return refund.succeeded_at
    return None


def _cause(order: Order, record: Notification) -> int:
    """The step of the order event a notification follows: the payment's, or its refund's (made or settled)."""
    for index, refund in enumerate(order.refund_list):
        if refund.out_refund_no == record.refund_no:
            base = REFUND_STEP * (index + 1)
            return base + REFUND_SETTLED if _settled_at(refund) is not None else base
    return SETTLED


def _attempt(record: Notification, number: int, attempt) -> dict:
    sent = attempt.effect != "lost"
    request = {
        "method": "POST",
        "url": record.url,
        "headers": {**record.headers, **attempt.headers},
        "body": record.body,
    }
    outcome = f"HTTP {attempt.http_status}" if attempt.http_status is not None else (attempt.error or "no answer")
    if attempt.http_status is not None:
        outcome += ", acknowledged" if attempt.acked else ", not acknowledged"
    title = f"{record.event} notification, attempt {number} ({attempt.trigger}): " + (outcome if sent else "lost")
    return _event(
        attempt.at,
        "notification_attempt",
        title,
        notification_id=record.id,
        event=record.event,
        attempt=number,
        trigger=attempt.trigger,
        request=request if sent else None,
        http_status=attempt.http_status,
        response_body=attempt.response_body,
        acked=attempt.acked,
        error=attempt.error,
        effect=attempt.effect,
        rule=attempt.rule or None,
        resent_from=record.resent_from or None,
    )


def _scheduled(record: Notification) -> dict:
    number = len(record.attempts) + 1
    title = f"{record.event} notification, attempt {number} due"
    return _event(
        record.next_attempt_at,
        "notification_scheduled",
        title,
        notification_id=record.id,
        event=record.event,
        attempt=number,
        next_attempt_at=iso(record.next_attempt_at),
    )


def _event(at: datetime, kind: str, title: str, **details) -> dict:
    return {"at": at, "kind": kind, "title": title, **details}
