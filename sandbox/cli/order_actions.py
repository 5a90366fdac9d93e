"""`paysandbox orders refund | close`: the merchant's actions on an order, run by the gateway's own refund and close
(POST /_sandbox/orders/.../refund and .../close), the amount in yuan as typed."""

from __future__ import annotations

import argparse

from sandbox.cli.common import GATEWAYS, call, control_options, segment
from sandbox.cli.order_create import fen
from sandbox.cli.tables import yuan
from sandbox.config import Config


def register(actions: argparse._SubParsersAction) -> None:
    refund = actions.add_parser(
        "refund", help="refund a paid order as its merchant would (the gateway's own refund, checks, notifications)"
    )
    close = actions.add_parser("close", help="close a pending order as its merchant would (Alipay, WeChat Pay)")
    for action in (refund, close):
        action.add_argument("gateway", choices=GATEWAYS)
        action.add_argument("merchant_id", help="Alipay's app_id, WeChat Pay's mchid, UnionPay's merId")
        action.add_argument("out_trade_no")
    refund.add_argument("--amount", type=fen, help="yuan as typed: 9.90, 1, 0.01 (default: what is left to refund)")
    refund.add_argument(
        "--out-refund-no", help="the merchant's refund number (default: a new SBXR<time><digits>); again, same refund"
    )
    refund.add_argument("--reason", help="Alipay's refund_reason, WeChat Pay's reason (UnionPay has none)")
    for action in (refund, close):
        control_options(action)
    refund.set_defaults(handler=_refund)
    close.set_defaults(handler=_close)


def _path(args: argparse.Namespace) -> str:
    return "/orders/" + "/".join(segment(v) for v in (args.gateway, args.merchant_id, args.out_trade_no))


def _refund(args: argparse.Namespace, config: Config) -> int:
    given = {"amount": args.amount, "out_refund_no": args.out_refund_no, "reason": args.reason}
    body = {k: v for k, v in given.items() if v is not None}
    return call(args, lambda c: c.call("POST", _path(args) + "/refund", body), _render_refund)


def _close(args: argparse.Namespace, config: Config) -> int:
    from sandbox.cli.orders import render_order  # orders imports this module to register the commands

    return call(args, lambda c: c.call("POST", _path(args) + "/close"), render_order)


def _render_refund(answer: dict) -> str:
    """The order as `orders show` prints it, then the refund this call made (or found again)."""
    from sandbox.cli.orders import render_order

    made = answer["refund"]
    return f"{render_order(answer)}\n\nrefund  {made['out_refund_no']}  {yuan(made['amount'])}  {made['status']}"
