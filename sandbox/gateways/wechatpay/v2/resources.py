"""The v2 field sets of an order and its refunds, for answers and notifications alike.

docs/protocols/wechatpay-v2.md#endpoints and docs/protocols/wechatpay-v2.md#notifications list them."""

from __future__ import annotations

from datetime import datetime

from sandbox.core.clock import BEIJING
from sandbox.core.models import REFUND_PENDING, Order, Refund
from sandbox.gateways.wechatpay.common import TRADE_STATE_DESC, openid, trade_state

# refund.status -> v2 refund_status (REFUND.ABNORMAL is CHANGE in v2, REFUND.CLOSED is REFUNDCLOSE)
REFUND_STATUS = {REFUND_PENDING: "PROCESSING", "success": "SUCCESS", "abnormal": "CHANGE", "closed": "REFUNDCLOSE"}
RECEIVED_ACCOUNT = "支付用户的零钱"
DEFAULT_REFUND_ACCOUNT = "REFUND_SOURCE_UNSETTLED_FUNDS"


def compact_time(moment: datetime | None) -> str | None:
    """yyyyMMddHHmmss in Beijing time, as time_end and time_expire are written."""
    return moment.astimezone(BEIJING).strftime("%Y%m%d%H%M%S") if moment else None


def readable_time(moment: datetime | None) -> str | None:
    """yyyy-MM-dd HH:mm:ss in Beijing time, as refund success times are written."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def paid_fields(order: Order) -> dict:
    """What a paid order tells about its payment: the micropay answer and the payment notification."""
    return {
        "openid": openid(order),
        "is_subscribe": "N",
        "trade_type": order.extra.get("trade_type", ""),
        "bank_type": "OTHERS",
        "total_fee": order.amount,
        "fee_type": order.currency,
        "cash_fee": order.amount,
        "transaction_id": order.trade_no,
        "out_trade_no": order.out_trade_no,
        "attach": order.extra.get("attach") or None,
        "time_end": compact_time(order.paid_at),
    }


def order_fields(order: Order) -> dict:
    """pay/orderquery: the trade state always, the payment details once paid."""
    state = trade_state(order)
    fields = {
        "out_trade_no": order.out_trade_no,
        "trade_state": state,
        "trade_state_desc": TRADE_STATE_DESC[state],
        "trade_type": order.extra.get("trade_type", ""),
        "total_fee": order.amount,
        "fee_type": order.currency,
        "attach": order.extra.get("attach") or None,
    }
    if order.paid_at is not None:
        fields.update(paid_fields(order))
    return fields


def refund_account(refund: Refund) -> str:
    return refund.extra.get("refund_account") or DEFAULT_REFUND_ACCOUNT


def refund_query_fields(order: Order, refunds: list[Refund]) -> dict:
    """pay/refundquery: the order's amounts, then each refund as field_$n (n counts from 0)."""
    fields = {
        "transaction_id": order.trade_no,
        "out_trade_no": order.out_trade_no,
        "total_fee": order.amount,
        "fee_type": order.currency,
        "cash_fee": order.amount,
        "refund_count": len(refunds),
    }
    for n, refund in enumerate(refunds):
        fields.update(
            {
                f"out_refund_no_{n}": refund.out_refund_no,
                f"refund_id_{n}": refund.refund_id,
                f"refund_channel_{n}": "ORIGINAL",
                f"refund_fee_{n}": refund.amount,
                f"settlement_refund_fee_{n}": refund.amount,
                f"refund_status_{n}": REFUND_STATUS[refund.status],
                f"refund_account_{n}": refund_account(refund),
                f"refund_recv_accout_{n}": RECEIVED_ACCOUNT,
                f"refund_success_time_{n}": readable_time(refund.succeeded_at),
            }
        )
    return fields


def refund_notification_fields(order: Order, refund: Refund) -> dict:
    """The <root> a refund notification encrypts into req_info."""
    return {
        "transaction_id": order.trade_no,
        "out_trade_no": order.out_trade_no,
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "total_fee": order.amount,
        "settlement_total_fee": order.amount,
        "refund_fee": refund.amount,
        "settlement_refund_fee": refund.amount,
        "refund_status": REFUND_STATUS[refund.status],
        "success_time": readable_time(refund.succeeded_at),
        "refund_recv_accout": RECEIVED_ACCOUNT,
        "refund_account": refund_account(refund),
        "refund_request_source": "API",
    }
