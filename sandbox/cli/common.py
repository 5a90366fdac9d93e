"""What every control-API command shares: --url, --token, --namespace and --json, one way to call the sandbox and
report its errors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from sandbox.control import DEFAULT_URL, Control, ControlError
from sandbox.core.models import NAMESPACE_NAME

GATEWAYS = ("alipay", "wechatpay", "unionpay")
SLOW = 600.0  # seconds: calls that deliver notifications wait on merchants (SANDBOX_NOTIFY_TIMEOUT each)


def default_url() -> str:
    return os.environ.get("SANDBOX_URL") or DEFAULT_URL


def url(value: str) -> str:
    """argparse type: an http(s) base URL, so a typo is a usage error (exit 2) rather than a failed call."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http:// or https:// URL (from --url or SANDBOX_URL)")
    return value.rstrip("/")


def connection_options(parser: argparse.ArgumentParser, inherited: bool = False) -> None:
    """--url and --token: where the sandbox is and its access token."""
    url_default = argparse.SUPPRESS if inherited else default_url()
    token_default = argparse.SUPPRESS if inherited else os.environ.get("SANDBOX_TOKEN") or None
    parser.add_argument(
        "--url", type=url, default=url_default, help=f"the sandbox base URL (default $SANDBOX_URL or {DEFAULT_URL})"
    )
    parser.add_argument(
        "--token", default=token_default, help="the sandbox's access token, if it has one (default $SANDBOX_TOKEN)"
    )


def control_options(parser: argparse.ArgumentParser, inherited: bool = False, namespaced: bool = True) -> None:
    """--url, --token, --namespace (unless the command acts on no namespace) and --json. `inherited`: a sub-command
    of a group that has them, so an unset option keeps the group's."""
    connection_options(parser, inherited)
    if namespaced:
        parser.add_argument(
            "--namespace",
            type=namespace,
            default=argparse.SUPPRESS if inherited else os.environ.get("SANDBOX_NAMESPACE") or None,
            help="the namespace to act in (default $SANDBOX_NAMESPACE, else the default namespace)",
        )
    json_default = argparse.SUPPRESS if inherited else False
    parser.add_argument("--json", action="store_true", default=json_default, help="the control API's JSON answer")


def namespace(value: str) -> str:
    """argparse type: a namespace name, so a typo is a usage error (exit 2) rather than a refused call."""
    if not NAMESPACE_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a namespace name: 1 to 63 of a-z, 0-9, '_' and '-', starting with a letter or a digit"
        )
    return value


def control(args: argparse.Namespace, timeout: float = 10.0) -> Control:
    """The control API client the command's --url, --token and --namespace name."""
    return Control(args.url, timeout=timeout, token=args.token, namespace=getattr(args, "namespace", None))


def segment(value: str) -> str:
    """One path segment of a control-API URL: an out_trade_no may hold '/', '?' or '#'."""
    return quote(value, safe="")


def call(
    args: argparse.Namespace,
    request: Callable[[Control], dict],
    render: Callable[[dict], str],
    slow: bool = False,
    status: Callable[[dict], int] = lambda answer: 0,
) -> int:
    """Make the call(s), then print the answer as JSON (--json) or as text; a refusal is one line on stderr, exit 1.
    Otherwise the exit status is `status(answer)` (0 unless a command's answer says otherwise, e.g. a failed check)."""
    try:
        answer = request(control(args, timeout=SLOW if slow else 10.0))
    except ControlError as exc:
        return refused(exc)
    if args.json:
        print_json(answer)
    else:
        print(render(answer))
    return status(answer)


class ErrorFormat:
    """How failures are reported: a `paysandbox: ...` line on stderr, or, when the command line has --json, the
    control API's envelope `{"error": {"code", "message"}}` on stdout, where a script reads the answer."""

    json = False


class Parser(argparse.ArgumentParser):
    """The parser of `paysandbox` and of its sub-commands: with --json, a usage error is a JSON error too."""

    def error(self, message: str):
        if not ErrorFormat.json:
            super().error(message)
        fail(f"{self.prog}: {message} (see {self.prog} --help)", 2)
        self.exit(2)


def fail(message: str, code: int = 1, error: str = "") -> int:
    """Report a failure (`error`: its code in JSON; by default USAGE_ERROR for exit status 2, else FAILED)."""
    if ErrorFormat.json:
        print_json({"error": {"code": error or ("USAGE_ERROR" if code == 2 else "FAILED"), "message": message}})
    else:
        print(f"paysandbox: {message}", file=sys.stderr)
    return code


def refused(exc: ControlError) -> int:
    """A call that failed: the API's error code when the sandbox answered one, else why it did not."""
    error = exc.code or ("SANDBOX_UNREACHABLE" if exc.status is None else f"HTTP_{exc.status}")
    message = str(exc)
    if ErrorFormat.json:  # the code has a key of its own there
        message = message.removeprefix(f"{exc.code}: ")
    return fail(message, 1, error)


def print_json(answer: object) -> None:
    print(json.dumps(answer, indent=2, ensure_ascii=False))


def plural(count: int, noun: str) -> str:
    """`no refunds`, `1 refund`, `2 refunds`."""
    return f"{count or 'no'} {noun}" + ("" if count == 1 else "s")
