"""`paysandbox scenarios load | list | clear`: scenario rules on a running sandbox."""

from __future__ import annotations

import argparse
import json

from sandbox.cli.common import control, control_options, fail, print_json, refused
from sandbox.config import Config
from sandbox.control import ControlError
from sandbox.errors import SandboxError


def register(commands: argparse._SubParsersAction) -> None:
    scenarios = commands.add_parser("scenarios", help="load, list or clear scenario rules on a running sandbox")
    actions = scenarios.add_subparsers(dest="action", required=True)
    load = actions.add_parser("load", help="add the rules of a JSON or YAML file (all or none)")
    load.add_argument("file")
    load.add_argument("--replace", action="store_true", help="delete every rule first")
    listing = actions.add_parser("list", help="the rules in the order they are tried")
    clear = actions.add_parser("clear", help="delete every rule")
    for action in (load, listing, clear):
        control_options(action)
    scenarios.set_defaults(handler=_scenarios)


def _scenarios(args: argparse.Namespace, config: Config) -> int:
    from sandbox.core.scenarios import read_file

    rules = None
    if args.action == "load":
        try:  # the file first: a file that cannot be read is bad input (exit 2), whether or not a sandbox runs
            rules = read_file(args.file)
        except OSError as exc:
            return fail(f"cannot read {args.file}: {exc.strerror or exc}", 2)
        except SandboxError as exc:
            return fail(f"{args.file}: {exc.message}", 2)
    sandbox = control(args)
    try:
        if args.action == "load":
            if args.replace:
                sandbox.call("DELETE", "/scenarios")
            answer = sandbox.call("POST", "/scenarios", {"scenarios": rules})
        elif args.action == "clear":
            answer = sandbox.call("DELETE", "/scenarios")
        else:
            answer = sandbox.call("GET", "/scenarios")
    except ControlError as exc:
        return refused(exc)
    if args.json:
        print_json(answer)
    elif args.action == "clear":
        print(f"deleted {len(answer['deleted'])} rule(s)")
    else:
        _print_rules(answer["scenarios"], "loaded" if args.action == "load" else "")
    return 0


def _print_rules(rules: list[dict], verb: str) -> None:
    if verb:
        print(f"{verb} {len(rules)} rule(s)")
    if not rules:
        print("no scenario rules: every payment follows magic values, the buyer, or succeeds")
        return
    print(f"{'id':<17} {'left':>5}  {'match':<40} effects")
    for rule in rules:
        match = " ".join(f"{k}={v}" for k, v in rule["match"].items()) or "*"
        effects = "; ".join(
            f"{e} {json.dumps(rule[e], ensure_ascii=False)}" for e in ("payment", "notify", "api") if e in rule
        )
        left = "∞" if rule["remaining"] is None else str(rule["remaining"])
        label = f"  # {rule['name']}" if rule.get("name") else ""
        print(f"{rule['id']:<17} {left:>5}  {match:<40} {effects}{label}")
