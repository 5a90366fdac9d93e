"""What a buyer does on any hosted page: pay, fail with a reason, or leave."""

from __future__ import annotations

from flask import abort

from sandbox import errors
from sandbox.core.models import Order

ACTIONS = ("pay", "fail", "leave")


def act(payments, order: Order, action: str, reason: str, reasons: dict[str, str]) -> Order:
    """Apply the buyer's action and answer the order as it now stands.

    An order paid or closed meanwhile (another tab, the control API, the merchant) is not an error for the
    buyer: the page then shows where the order stands.
    """
    if action not in ACTIONS:
        abort(400, description="action must be pay, fail or leave")
    if action == "fail" and reason not in reasons:
        abort(400, description=f"unknown failure reason {reason!r}")
    try:
        if action == "pay":
            return payments.pay(order.key)
        if action == "fail":
            return payments.pay(order.key, "fail", reason=reason, message=reasons[reason])
    except errors.BusinessError:
        return payments.find(order.gateway, order.merchant_id, out_trade_no=order.out_trade_no)
    return order
