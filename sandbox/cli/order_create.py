"""`paysandbox orders create`: an order made as its merchant would make it, the amount in yuan as typed, and where
the buyer pays it (with the QR code in the terminal for a QR product)."""

from __future__ import annotations

import argparse
import io
import sys

from sandbox.cli.common import GATEWAYS, call, control_options
from sandbox.config import Config
from sandbox.core.money import parse_yuan
from sandbox.errors import InvalidParameter

METHODS = "alipay: page, wap, precreate; wechatpay: native, jsapi, h5; unionpay: frontTrans, appTrans"


def register(actions: argparse._SubParsersAction) -> None:
    create = actions.add_parser(
        "create", help="create an order as its merchant would (same checks, rules and notifications); prints pay_url"
    )
    create.add_argument("--gateway", choices=GATEWAYS, required=True)
    create.add_argument("--amount", type=fen, required=True, help="yuan as typed: 9.90, 1, 0.01 (at most two decimals)")
    create.add_argument("--merchant-id", help="app_id, mchid or merId (default: the gateway's demo merchant)")
    create.add_argument("--out-trade-no", help="the merchant's order number (default: a new SBX<time><digits>)")
    create.add_argument("--subject", help="what is bought (default: paysandbox test order)")
    create.add_argument("--notify-url", help="where notifications go (WeChat Pay and UnionPay need one)")
    create.add_argument("--return-url", help="where the buyer goes back (UnionPay frontTrans needs one)")
    create.add_argument("--method", help=f"the product ({METHODS}; default: the first)")
    control_options(create)
    create.set_defaults(handler=_create)


def fen(value: str) -> int:
    """argparse type: yuan as typed (9.90, 1, 0.01) in fen, read as decimal text: no float ever rounds it."""
    try:
        amount = parse_yuan(value.strip(), "--amount")
    except InvalidParameter:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an amount in yuan: give 9.90, 1 or 0.01 (at most two decimals, up to 100000000)"
        ) from None
    if amount == 0:
        raise argparse.ArgumentTypeError(f"{value!r} is no amount: the least is 0.01")
    return amount


def _create(args: argparse.Namespace, config: Config) -> int:
    given = {
        "merchant_id": args.merchant_id,
        "out_trade_no": args.out_trade_no,
        "subject": args.subject,
        "notify_url": args.notify_url,
        "return_url": args.return_url,
        "method": args.method,
    }
    body = {"gateway": args.gateway, "amount": args.amount, **{k: v for k, v in given.items() if v}}
    return call(args, lambda c: c.call("POST", "/orders", body), lambda answer: render(answer, sys.stdout.isatty()))


def render(answer: dict, with_qr: bool) -> str:
    """The order as `orders show` prints it, then where to pay (and the QR code, drawn for a terminal)."""
    from sandbox.cli.orders import render_order  # orders imports this module to register the command

    lines = [render_order(answer), "", f"pay_url  {answer.get('pay_url') or '(none: pay it with `orders pay`)'}"]
    if answer.get("qr_code"):
        lines.append(f"qr_code  {answer['qr_code']}")
        if with_qr:
            import segno  # here: other commands start without it

            drawn = io.StringIO()
            segno.make(answer["qr_code"], error="m").terminal(out=drawn, compact=True)
            lines.append(drawn.getvalue().rstrip("\n"))
    return "\n".join(lines)
