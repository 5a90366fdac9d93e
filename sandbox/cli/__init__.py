"""The `paysandbox` command: the parser, assembled from one module per command group, and `main`."""

from __future__ import annotations

import argparse
import os
import sys

from sandbox import __version__
from sandbox.cli import (
    ca,
    clock,
    doctor,
    keys,
    merchants,
    namespaces,
    notifications,
    orders,
    reset,
    scenarios,
    serve,
)
from sandbox.cli.common import ErrorFormat, Parser, fail
from sandbox.config import Config

# In `paysandbox --help` order: run things, then what a QA engineer does to a running sandbox.
GROUPS = (serve, keys, ca, namespaces, merchants, orders, notifications, scenarios, clock, doctor, reset)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paysandbox",
        description="A local sandbox for Alipay and friends.",
        epilog="Commands that talk to a running sandbox take --url (default $SANDBOX_URL or http://127.0.0.1:8008), "
        "--token (its access token, default $SANDBOX_TOKEN), --namespace (the namespace to act in, default "
        "$SANDBOX_NAMESPACE) and --json (the control API's answer, for scripts; a failure is then a JSON error object "
        '{"error": {"code", "message"}} on stdout, with a non-zero exit status). Lists show orders and notifications '
        "newest first, merchants by gateway then id, namespaces the default one first then by name, and scenario "
        "rules in the order they are tried.",
    )
    parser.add_argument("--version", action="version", version=f"paysandbox {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv:  # bare `paysandbox`: what it can do, as --help says it
        parser.print_help()
        return 0
    ErrorFormat.json = "--json" in argv  # before parsing, so a usage error is JSON too
    args = parser.parse_args(argv)
    ErrorFormat.json = bool(getattr(args, "json", False))
    try:
        config = Config.from_env()
    except (TypeError, ValueError) as exc:
        return fail(f"a SANDBOX_* environment variable is invalid: {exc}", 2)
    try:
        return args.handler(args, config)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `paysandbox orders list | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


__all__ = ["build_parser", "main"]
