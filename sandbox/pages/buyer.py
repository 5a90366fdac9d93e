"""What a buyer does on any hosted page: pay, fail with a reason, or leave; and where the order lives."""

from __future__ import annotations

from flask import abort, current_app

from sandbox import errors
from sandbox.core.models import Order
from sandbox.core.namespace import Namespace
from sandbox.core.outcomes import Decision

ACTIONS = ("pay", "fail", "leave")


def namespace_of(order: Order) -> Namespace:
    """The namespace of the order a page shows (pages find orders by trade_no or handle, in any namespace): its
    merchants, clock and scenario rules are the page's."""
    return current_app.extensions["paysandbox"].namespaces.get(order.namespace)


def opened(order: Order) -> Order:
    """The buyer has the page in front of them: the order's timeline keeps the first moment (one write, once)."""
    return namespace_of(order).payments.mark_opened(order)


def processing(order: Order) -> bool:
    """The buyer paid but a scenario or magic amount left the payment pending: it settles on its own."""
    return order.status == "pending" and order.settle_at is not None and not order.extra.get("buyerless")


def act(order: Order, action: str, reason: str, reasons: dict[str, str]) -> Order:
    """Apply the buyer's action and answer the order as it now stands.

    The buyer's choice comes after scenario rules and magic amounts (Sandbox.decide_payment). An order
    paid or closed meanwhile (another tab, the control API, the merchant) is not an error for the buyer:
    the page then shows where the order stands.
    """
    if action not in ACTIONS:
        abort(400, description="action must be pay, fail or leave")
    if action == "fail" and reason not in reasons:
        abort(400, description=f"unknown failure reason {reason!r}")
    if action == "leave":
        return order
    sandbox = namespace_of(order)
    choice = Decision("success", source="buyer")
    if action == "fail":
        choice = Decision("fail", reason, source="buyer", message=reasons[reason])
    try:
        return sandbox.apply_payment(order, sandbox.decide_payment(order, "cashier", buyer=choice))
    except errors.BusinessError:
        return sandbox.payments.find(order.gateway, order.merchant_id, out_trade_no=order.out_trade_no)
