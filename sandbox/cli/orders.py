"""`paysandbox orders list | show | pay | create | refund | close | timeline`: the orders on a running sandbox,
paying one as the buyer, making, refunding or closing one as its merchant would, and what happened to one."""

from __future__ import annotations

import argparse

from sandbox.cli import order_actions, order_create
from sandbox.cli.common import GATEWAYS, call, control_options, fail, plural, segment
from sandbox.cli.notifications import SUMMARY
from sandbox.cli.tables import Column, fields, pairs, table, when, yuan
from sandbox.config import Config
from sandbox.core.models import ORDER_STATUSES

LIST = (
    Column("GATEWAY", "gateway"),
    Column("MERCHANT", "merchant_id"),
    Column("OUT_TRADE_NO", "out_trade_no", width=32),
    Column("TRADE_NO", "trade_no", width=32),
    Column("AMOUNT", lambda o: yuan(o["amount"]), right=True),
    Column("STATUS", "status"),
    Column("SUBJECT", "subject", width=24),
    Column("CREATED", lambda o: when(o["created_at"])),
)
TIMELINE = (
    Column("AT", lambda e: when(e["at"])),
    Column("KIND", "kind"),
    Column("TITLE", "title", width=100),
)
REFUNDS = (
    Column("OUT_REFUND_NO", "out_refund_no", width=32),
    Column("REFUND_ID", "refund_id", width=32),
    Column("AMOUNT", lambda r: yuan(r["amount"]), right=True),
    Column("STATUS", "status"),
    Column("REASON", "reason", width=24),
    Column("CREATED", lambda r: when(r["created_at"])),
    Column("SUCCEEDED", lambda r: when(r["succeeded_at"])),
)


def register(commands: argparse._SubParsersAction) -> None:
    orders = commands.add_parser(
        "orders", help="orders on a running sandbox; pay one as the buyer; create, refund or close one as its merchant"
    )
    actions = orders.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="orders, newest first")
    listing.add_argument("--gateway", choices=GATEWAYS)
    listing.add_argument("--merchant", metavar="MERCHANT_ID")
    listing.add_argument("--status", choices=ORDER_STATUSES)
    show = actions.add_parser("show", help="one order, its refunds and its notifications")
    pay = actions.add_parser("pay", help="pay a pending order as the buyer, with no browser; notifications follow")
    for action in (show, pay):
        action.add_argument("gateway", choices=GATEWAYS)
        action.add_argument("merchant_id", help="Alipay's app_id, WeChat Pay's mchid, UnionPay's merId")
        action.add_argument("out_trade_no")
    timeline = actions.add_parser("timeline", help="what happened to an order and every notification attempt")
    timeline.add_argument("gateway", choices=GATEWAYS)
    timeline.add_argument("merchant_id", help="Alipay's app_id, WeChat Pay's mchid, UnionPay's merId")
    timeline.add_argument("out_trade_no")
    pay.add_argument("--fail", action="store_true", help="the payment fails instead of succeeding")
    pay.add_argument("--reason", help="with --fail: the failure code (e.g. balance_not_enough)")
    for action in (listing, show, pay, timeline):
        control_options(action)
    order_create.register(actions)
    order_actions.register(actions)
    listing.set_defaults(handler=_list)
    show.set_defaults(handler=_show)
    pay.set_defaults(handler=_pay)
    timeline.set_defaults(handler=_timeline)


def _list(args: argparse.Namespace, config: Config) -> int:
    query = {"gateway": args.gateway, "merchant_id": args.merchant, "status": args.status}
    return call(args, lambda c: c.call("GET", "/orders", params=query), _render_list)


def _show(args: argparse.Namespace, config: Config) -> int:
    return call(args, lambda c: c.call("GET", _path(args)), render_order)


def _pay(args: argparse.Namespace, config: Config) -> int:
    if args.reason is not None and not args.fail:
        return fail("--reason goes with --fail", 2)
    body = {"outcome": "fail", "reason": args.reason or ""} if args.fail else {"outcome": "success"}
    return call(args, lambda c: c.call("POST", _path(args) + "/pay", body), render_order)


def _timeline(args: argparse.Namespace, config: Config) -> int:
    return call(args, lambda c: c.call("GET", _path(args) + "/timeline"), _render_timeline)


def _render_timeline(answer: dict) -> str:
    order, events = answer["order"], answer["events"]
    head = f"{order['gateway']} {order['merchant_id']} {order['out_trade_no']}: {order['status']}"
    return f"{head}\n{plural(len(events), 'event')}\n{table(events, TIMELINE)}"


def _path(args: argparse.Namespace) -> str:
    return "/orders/" + "/".join(segment(v) for v in (args.gateway, args.merchant_id, args.out_trade_no))


def _render_list(answer: dict) -> str:
    rows = answer["orders"]
    if not rows:
        return "no orders"
    return f"{plural(len(rows), 'order')}\n{table(rows, LIST)}"


def render_order(order: dict) -> str:
    native = pairs(order.get("native"))
    refunded = order.get("refunded_amount") or 0
    head = fields(
        [
            ("gateway", order["gateway"]),
            ("merchant_id", order["merchant_id"]),
            ("out_trade_no", order["out_trade_no"]),
            ("trade_no", order.get("trade_no")),
            ("amount", f"{yuan(order['amount'])} {order.get('currency') or ''}".strip()),
            ("refunded", yuan(refunded) if refunded else ""),
            ("subject", order.get("subject")),
            ("status", order["status"] + (f" ({native})" if native else "")),
            ("failure", pairs(order.get("failure"))),
            ("product", order.get("product")),
            ("created", when(order.get("created_at"))),
            ("paid", when(order.get("paid_at"))),
            ("closed", when(order.get("closed_at"))),
            ("expires", when(order.get("expires_at"))),
            ("notify_url", order.get("notify_url")),
            ("return_url", order.get("return_url")),
        ]
    )
    refunds = order.get("refunds") or []
    parts = [head, f"{plural(len(refunds), 'refund')}" + (f"\n{table(refunds, REFUNDS)}" if refunds else "")]
    notifications = order.get("notifications")
    if notifications is not None:
        listed = f"\n{table(notifications, SUMMARY)}" if notifications else ""
        parts.append(f"{plural(len(notifications), 'notification')}{listed}")
    return "\n\n".join(parts)
