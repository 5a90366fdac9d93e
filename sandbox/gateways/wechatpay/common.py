"""What WeChat Pay's API v3 and v2 share: trade states, ids, order creation, the buyer."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sandbox.core.models import CLOSED, FAILED, PAID, PENDING, REFUNDED, Order
from sandbox.errors import OrderStateConflict

GATEWAY = "wechatpay"
OUT_TRADE_NO = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
DEFAULT_EXPIRY = timedelta(hours=2)
MAX_EXPIRY = timedelta(days=7)
REFUND_SECONDS = 5  # a WeChat refund is PROCESSING first; it succeeds this long after, on the sandbox clock
TRADE_TYPES = ("JSAPI", "NATIVE", "APP", "MWEB", "MICROPAY")
TRADE_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "未支付",
    "CLOSED": "已关闭",
    "REVOKED": "已撤销（付款码支付）",
    "USERPAYING": "用户支付中（付款码支付）",
    "PAYERROR": "支付失败",
}


def trade_state(order: Order) -> str:
    if order.status == PENDING:
        return "USERPAYING" if order.settle_at else "NOTPAY"
    if order.extra.get("reversed"):
        return "REVOKED"  # a reversed payment-code order, paid (then refunded in full) or not
    if order.status == PAID:
        return "REFUND" if order.refunds else "SUCCESS"
    if order.status == REFUNDED:
        return "REFUND"
    if order.status == CLOSED:
        return "CLOSED"
    if order.status == FAILED:
        return "PAYERROR"
    return "NOTPAY"


def transaction_id(now: datetime, digits: str) -> str:
    """28 digits, as WeChat's: 4200 + channel digits + the date + a sequence."""
    return "4200" + digits[:6] + now.strftime("%Y%m%d") + digits[6:16]


def openid(order: Order) -> str:
    """The payer's openid: the one the merchant sent (JSAPI), else one stable per trade."""
    return order.buyer.get("openid") or "oSbx" + order.trade_no[-24:]


def new_order(
    sandbox,
    merchant_id: str,
    out_trade_no: str,
    amount: int,
    description: str,
    notify_url: str,
    expires_at: datetime,
    extra: dict,
    buyer: dict | None = None,
    product: str = "",
) -> tuple[Order, bool]:
    """Create (or find again, for an identical repeat) a pending WeChat Pay order."""
    draft = Order(
        gateway=GATEWAY,
        merchant_id=merchant_id,
        out_trade_no=out_trade_no,
        trade_no="",
        amount=amount,
        created_at=sandbox.clock.now(),
        subject=description,
        product=product or extra.get("trade_type", ""),
        notify_url=notify_url,
        expires_at=expires_at,
        extra=extra,
        buyer=buyer or {},
    )
    return sandbox.payments.create(draft, lambda: transaction_id(sandbox.clock.now(), sandbox.ids.digits(16)))


def reverse(sandbox, order: Order) -> None:
    """Cancel a payment-code order (v3 reverse, v2 secapi/pay/reverse): unpaid, it is revoked; paid, it is
    refunded in full and revoked."""
    if order.extra.get("trade_type") != "MICROPAY":
        raise OrderStateConflict(f"order {order.out_trade_no} is not a payment-code order; only those reverse")
    if order.status not in (PENDING, PAID, CLOSED, FAILED, REFUNDED):
        raise OrderStateConflict(f"order {order.out_trade_no} cannot be reversed")
    sandbox.payments.annotate(order.key, reversed=True)
    if order.status == PENDING:
        sandbox.payments.close(order.key, reason="reversed")
    elif order.status == PAID:
        sandbox.payments.refund(
            order.key,
            f"{order.out_trade_no}-reverse",
            order.amount - order.refunded_amount,
            "reversed",
            refund_id=lambda: "5030" + sandbox.ids.digits(25),
        )
