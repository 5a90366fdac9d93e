"""`paysandbox clock [show | set | advance | reset]`: read, switch, move and reset the sandbox clock."""

from __future__ import annotations

import argparse
import math
import re

from sandbox.cli.common import call, control_options, fail
from sandbox.cli.notifications import attempted
from sandbox.cli.tables import fields, when
from sandbox.config import Config

MODES = ("real", "accelerated", "manual")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?[smhd]?)+")
PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd]?)")


def register(commands: argparse._SubParsersAction) -> None:
    clock = commands.add_parser("clock", help="show, set or advance the sandbox clock (bare `clock` shows it)")
    control_options(clock)  # `paysandbox clock --url X` shows the clock with no action
    actions = clock.add_subparsers(dest="action")
    show = actions.add_parser("show", help="the sandbox time and mode")
    setting = actions.add_parser(
        "set",
        help="switch mode: real, accelerated (with --factor) or manual; `set real` runs on at real speed from the"
        " sandbox time it has now (an offset gained stays: `clock reset` drops it)",
    )
    setting.add_argument("mode", choices=MODES)
    setting.add_argument("--factor", type=factor, help="with accelerated: sandbox seconds per real second")
    advance = actions.add_parser("advance", help="move the clock forward and run whatever became due")
    advance.add_argument("duration", type=duration, help="seconds, or 90s, 10m, 2h, 1d, 1h30m")
    reset = actions.add_parser(
        "reset", help="back on real time: mode real, factor 1, now the wall clock's time (any offset dropped)"
    )
    for action in (show, setting, advance, reset):
        control_options(action, inherited=True)
    clock.set_defaults(handler=_clock)


def _clock(args: argparse.Namespace, config: Config) -> int:
    if args.action == "set":
        if args.factor is not None and args.mode != "accelerated":
            return fail("--factor goes with `clock set accelerated`", 2)
        body = {"mode": args.mode, **({"factor": args.factor} if args.factor is not None else {})}
        return call(args, lambda c: c.call("POST", "/clock", body), render_clock)
    if args.action == "reset":
        return call(args, lambda c: c.call("POST", "/clock/reset"), render_clock)
    if args.action == "advance":
        seconds = int(args.duration) if args.duration.is_integer() else args.duration  # 600, not 600.0
        return call(args, lambda c: c.call("POST", "/clock/advance", {"seconds": seconds}), _render_advance, slow=True)
    return call(args, lambda c: c.call("GET", "/clock"), render_clock)


def render_clock(answer: dict) -> str:
    mode = answer["mode"] + (f" (x{answer['factor']:g})" if answer["mode"] == "accelerated" else "")
    return fields([("now", when(answer["now"])), ("mode", mode)])


def _render_advance(answer: dict) -> str:
    return f"{render_clock(answer)}\n\n{attempted(answer['attempted'])}"


def duration(value: str) -> float:
    """argparse type: seconds as a number, or with units (90s, 10m, 2h, 1d, 1h30m)."""
    text = value.strip().lower()
    if not DURATION.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration: give seconds, or 90s, 10m, 2h, 1d, 1h30m")
    return sum(float(number) * UNITS[unit] for number, unit in PART.findall(text))


def factor(value: str) -> float:
    """argparse type: a finite number above 0."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"{value!r} is not a number above 0")
    return number
