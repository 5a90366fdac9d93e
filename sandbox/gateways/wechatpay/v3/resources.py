"""The v3 transaction and refund objects, used by answers and notifications alike.

docs/protocols/wechatpay-v3.md#endpoints lists their fields."""

from __future__ import annotations

from datetime import datetime

from sandbox.core.models import REFUND_PENDING, Order, Refund
from sandbox.gateways.wechatpay.common import TRADE_STATE_DESC, openid, trade_state

REFUND_STATUS = {REFUND_PENDING: "PROCESSING", "success": "SUCCESS", "abnormal": "ABNORMAL", "closed": "CLOSED"}


def rfc3339(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def transaction(order: Order) -> dict:
    state = trade_state(order)
    paid = order.paid_at is not None
    view = {
        "appid": order.extra.get("appid", ""),
        "mchid": order.merchant_id,
        "out_trade_no": order.out_trade_no,
        "trade_type": order.extra.get("trade_type", ""),
        "trade_state": state,
        "trade_state_desc": TRADE_STATE_DESC[state],
        "attach": order.extra.get("attach", ""),
        "payer": {"openid": openid(order)},
        "amount": {"total": order.amount, "currency": order.currency},
    }
    if paid:
        view["transaction_id"] = order.trade_no
        view["bank_type"] = "OTHERS"
        view["success_time"] = rfc3339(order.paid_at)
        view["amount"].update(payer_total=order.amount, payer_currency=order.currency)
    view["promotion_detail"] = []
    return view


def refund_resource(order: Order, refund: Refund) -> dict:
    view = {
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": order.trade_no,
        "out_trade_no": order.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": rfc3339(refund.created_at),
        "status": REFUND_STATUS[refund.status],
        "funds_account": refund.extra.get("funds_account", "AVAILABLE"),
        "amount": {
            "total": order.amount,
            "refund": refund.amount,
            "payer_total": order.amount,
            "payer_refund": refund.amount,
            "settlement_total": order.amount,
            "settlement_refund": refund.amount,
            "discount_refund": 0,
            "currency": order.currency,
            "refund_fee": 0,
        },
        "promotion_detail": [],
    }
    if refund.succeeded_at:
        view["success_time"] = rfc3339(refund.succeeded_at)
    return view


def refund_notification_resource(order: Order, refund: Refund) -> dict:
    """The smaller refund object a REFUND.* notification carries."""
    view = {
        "mchid": order.merchant_id,
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.trade_no,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_status": REFUND_STATUS[refund.status],
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": order.amount,
            "refund": refund.amount,
            "payer_total": order.amount,
            "payer_refund": refund.amount,
        },
    }
    if refund.succeeded_at:
        view["success_time"] = rfc3339(refund.succeeded_at)
    return view
