"""WeChat Pay trade bills: the CSV both API versions serve, built from the sandbox's own trades of a day."""

from __future__ import annotations

from datetime import datetime

from sandbox.core.models import Order
from sandbox.core.money import format_yuan
from sandbox.errors import BillNotReady, InvalidParameter
from sandbox.gateways.wechatpay.common import openid

BILL_TYPES = ("ALL", "SUCCESS", "REFUND")
COLUMNS = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def check_date(bill_date: datetime, now: datetime) -> None:
    if bill_date.date() >= now.date():
        raise BillNotReady(
            f"the bill of {bill_date:%Y-%m-%d} is not ready: WeChat Pay issues a day's bill after the day has "
            f"ended (sandbox clock: {now:%Y-%m-%d %H:%M:%S}; advance the clock to fetch it)"
        )


def parse_bill_type(value: str) -> str:
    bill_type = (value or "ALL").upper()
    if bill_type not in BILL_TYPES:
        raise InvalidParameter("bill_type", f"bill_type must be one of {', '.join(BILL_TYPES)}, got {value!r}")
    return bill_type


def csv_text(orders: list[Order], bill_date: datetime, bill_type: str) -> str:
    """WeChat's CSV: every value behind a backtick, a detail block, then a summary line."""
    day = bill_date.strftime("%Y-%m-%d")
    rows: list[tuple[datetime, list[str]]] = []
    for order in orders:
        common = [
            order.extra.get("appid", ""),
            order.merchant_id,
            "0",
            "",
            order.trade_no,
            order.out_trade_no,
            openid(order),
            order.extra.get("trade_type", ""),
        ]
        if bill_type != "REFUND" and order.paid_at and order.paid_at.strftime("%Y-%m-%d") == day:
            rows.append(
                (
                    order.paid_at,
                    [
                        order.paid_at.strftime("%Y-%m-%d %H:%M:%S"),
                        *common,
                        "SUCCESS",
                        "OTHERS",
                        "CNY",
                        format_yuan(order.amount),
                        "0.00",
                        "0",
                        "0",
                        "0.00",
                        "0.00",
                        "",
                        "",
                        order.subject,
                        order.extra.get("attach", ""),
                        "0.00000",
                        "0.60%",
                        format_yuan(order.amount),
                        "0.00",
                        "",
                    ],
                )
            )
        for refund in order.refund_list:
            if bill_type == "SUCCESS" or refund.status != "success" or refund.succeeded_at.strftime("%Y-%m-%d") != day:
                continue
            rows.append(
                (
                    refund.succeeded_at,
                    [
                        refund.succeeded_at.strftime("%Y-%m-%d %H:%M:%S"),
                        *common,
                        "REFUND",
                        "OTHERS",
                        "CNY",
                        "0.00",
                        "0.00",
                        refund.refund_id,
                        refund.out_refund_no,
                        format_yuan(refund.amount),
                        "0.00",
                        "ORIGINAL",
                        "SUCCESS",
                        order.subject,
                        order.extra.get("attach", ""),
                        "0.00000",
                        "0.60%",
                        "0.00",
                        format_yuan(refund.amount),
                        "",
                    ],
                )
            )
    rows.sort(key=lambda r: r[0])
    lines = [COLUMNS, *("`" + ",`".join(row) for _, row in rows), SUMMARY]
    settled = sum(o.amount for o in orders if o.paid_at and o.paid_at.strftime("%Y-%m-%d") == day)
    refunded = sum(
        r.amount
        for o in orders
        for r in o.refund_list
        if r.status == "success" and r.succeeded_at.strftime("%Y-%m-%d") == day
    )
    if bill_type == "SUCCESS":
        refunded = 0
    if bill_type == "REFUND":
        settled = 0
    totals = [
        str(len(rows)),
        format_yuan(settled),
        format_yuan(refunded),
        "0.00",
        "0.00000",
        format_yuan(settled),
        format_yuan(refunded),
    ]
    lines.append("`" + ",`".join(totals))
    return "\r\n".join(lines) + "\r\n"
