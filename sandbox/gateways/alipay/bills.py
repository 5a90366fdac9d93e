"""Alipay bills: a zip of GBK CSV files built from the sandbox's own trades of a day or a month."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sandbox.core.models import Order
from sandbox.core.money import format_yuan
from sandbox.errors import BillNotReady, InvalidParameter
from sandbox.gateways.alipay.notify import wire_time

BILL_TYPES = ("trade", "signcustomer")
BUYER = "sbx***@sandbox.example"
TRADE_COLUMNS = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
]
ACCOUNT_COLUMNS = [
    "账务流水号",
    "业务流水号",
    "商户订单号",
    "商品名称",
    "发生时间",
    "对方账号",
    "收入金额（+元）",
    "支出金额（-元）",
    "账户余额（元）",
    "交易渠道",
    "业务类型",
    "备注",
]


def parse_bill_date(bill_date: str) -> tuple[str, str]:
    """("day", "2024-05-01") or ("month", "2024-05"); InvalidParameter otherwise."""
    for kind, fmt in (("day", "%Y-%m-%d"), ("month", "%Y-%m")):
        try:
            datetime.strptime(bill_date, fmt)
            if len(bill_date) == (10 if kind == "day" else 7):
                return kind, bill_date
        except ValueError:
            continue
    raise InvalidParameter("bill_date", f"bill_date must be yyyy-MM-dd or yyyy-MM, got {bill_date!r}")


def check_request(bill_type: str, bill_date: str, now: datetime) -> None:
    if bill_type not in BILL_TYPES:
        raise InvalidParameter("bill_type", f"bill_type must be trade or signcustomer, got {bill_type!r}")
    kind, _ = parse_bill_date(bill_date)
    current = now.strftime("%Y-%m-%d" if kind == "day" else "%Y-%m")
    if bill_date >= current:
        raise BillNotReady(
            f"the bill of {bill_date} is not ready: Alipay issues a {kind}'s bill only after it has ended "
            f"(sandbox clock: {wire_time(now)}; advance the clock to fetch it)"
        )


def download_url(base_url: str, app_id: str, bill_type: str, bill_date: str) -> str:
    return f"{base_url}/bills/alipay/{app_id}/{bill_type}/{bill_date}.csv.zip"


def _in_period(moment: datetime | None, bill_date: str) -> bool:
    return moment is not None and moment.strftime("%Y-%m-%d").startswith(bill_date)


@dataclass
class Line:
    kind: str  # 交易 (payment) or 退款 (refund)
    order: Order
    at: datetime
    received: int  # what the merchant received in fen: negative for a refund
    request_no: str = ""
    note: str = ""

    def trade_row(self) -> list[str]:
        order = self.order
        return [
            order.trade_no,
            order.out_trade_no,
            self.kind,
            order.subject,
            wire_time(order.created_at),
            wire_time(self.at),
            "",
            "",
            "",
            "",
            BUYER,
            format_yuan(order.amount),
            format_yuan(self.received),
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "",
            "0.00",
            "0.00",
            self.request_no,
            "0.00",
            "0.00",
            self.note,
        ]


def lines(orders: list[Order], bill_date: str) -> list[Line]:
    """One line per payment and per refund that completed in the period, oldest first."""
    found: list[Line] = []
    for order in orders:
        if _in_period(order.paid_at, bill_date):
            found.append(Line("交易", order, order.paid_at, order.amount))
        for refund in order.refund_list:
            if _in_period(refund.created_at, bill_date):
                found.append(
                    Line("退款", order, refund.created_at, -refund.amount, refund.out_refund_no, refund.reason)
                )
    found.sort(key=lambda line: line.at)
    return found


def build_zip(orders: list[Order], seller_id: str, bill_type: str, bill_date: str, now: datetime) -> bytes:
    detail = lines(orders, bill_date)
    payments = [line for line in detail if line.received > 0]
    refunds = [line for line in detail if line.received < 0]
    period = f"#起始日期：[{bill_date}]   终止日期：[{bill_date}]"
    header = [f"#支付宝{'业务' if bill_type == 'trade' else '账务'}明细查询", f"#账号：[{seller_id}]", period]
    if bill_type == "trade":
        table = [TRADE_COLUMNS, *(line.trade_row() for line in detail)]
    else:
        table = [ACCOUNT_COLUMNS, *_account_rows(detail)]
    footer = [
        "#-----------------------------------------业务明细列表结束------------------------------------",
        f"#交易合计：{len(payments)}笔，商家实收共{_total(payments)}元",
        f"#退款合计：{len(refunds)}笔，商家实收退款共{_total(refunds)}元",
        f"#导出时间：[{wire_time(now)}]",
    ]
    summary = [
        "#支付宝业务汇总查询",
        f"#账号：[{seller_id}]",
        period,
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）",
        f"合计,,{len(payments)},{len(refunds)},{format_yuan(sum(p.order.amount for p in payments))},{_total(detail)}",
        f"#导出时间：[{wire_time(now)}]",
    ]
    compact = bill_date.replace("-", "")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"{seller_id}_{compact}_业务明细.csv", _csv(header, table, footer))
        bundle.writestr(f"{seller_id}_{compact}_业务明细(汇总).csv", ("\n".join(summary) + "\n").encode("gbk"))
    return archive.getvalue()


def _account_rows(detail: list[Line]) -> list[list[str]]:
    balance, rows = 0, []
    for index, line in enumerate(detail, start=1):
        balance += line.received
        income = format_yuan(max(line.received, 0))
        spend = format_yuan(max(-line.received, 0))
        rows.append(
            [
                str(20000000000 + index),
                line.order.trade_no,
                line.order.out_trade_no,
                line.order.subject,
                wire_time(line.at),
                BUYER,
                income,
                spend,
                format_yuan(balance),
                "支付宝",
                "在线支付" if line.received > 0 else "交易退款",
                line.note,
            ]
        )
    return rows


def _total(selected: list[Line]) -> str:
    return format_yuan(sum(line.received for line in selected))


def _csv(header: list[str], table: list[list[str]], footer: list[str]) -> bytes:
    text = io.StringIO()
    for line in header:
        text.write(line + "\n")
    csv.writer(text, lineterminator="\n").writerows(table)
    for line in footer:
        text.write(line + "\n")
    return text.getvalue().encode("gbk")
