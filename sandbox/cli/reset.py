"""`paysandbox reset [--merchants]`: drop orders, refunds, notifications and scenarios (and merchants, if asked), and
put the clock back on real time."""

from __future__ import annotations

import argparse

from sandbox.cli.common import call, control_options
from sandbox.cli.tables import when
from sandbox.config import Config


def register(commands: argparse._SubParsersAction) -> None:
    reset = commands.add_parser(
        "reset", help="drop orders, refunds, notifications and scenario rules; the clock goes back to real time"
    )
    reset.add_argument("--merchants", action="store_true", help="drop registered merchants too (the demo ones return)")
    control_options(reset)
    reset.set_defaults(handler=_reset)


def _reset(args: argparse.Namespace, config: Config) -> int:
    return call(args, lambda c: c.call("POST", "/reset", {"merchants": args.merchants}), _render)


def _render(answer: dict) -> str:
    merchants = "merchants back to the demo ones" if answer.get("merchants_reset") else "merchants kept"
    clock = f"; clock back on real time ({when(answer['clock']['now'])})" if answer.get("clock") else ""
    return f"reset: orders, refunds, notifications and scenario rules dropped; {merchants}{clock}"
