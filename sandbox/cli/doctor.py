"""`paysandbox doctor PROTOCOL`: why a signature fails, from a pasted request or a string to sign and its signature."""

from __future__ import annotations

import argparse
import sys

from sandbox.cli.common import call, control_options, fail
from sandbox.cli.tables import fields
from sandbox.config import Config

PROTOCOLS = ("alipay", "alipay_v3", "wechatpay_v3", "wechatpay_v2", "unionpay")
LINE_PROTOCOLS = ("alipay_v3", "wechatpay_v3")  # their strings end with a newline of their own
INDENT = "    "


def register(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="why a signature fails: the string the sandbox verifies, where yours differs, the usual mistakes",
        description="Exit status: 0 when the signature is valid, 1 for any other verdict or a refused call.",
    )
    doctor.add_argument("protocol", choices=PROTOCOLS)
    doctor.add_argument("--merchant-id", help="app_id, mchid or merId, when the paste does not name it")
    source = doctor.add_mutually_exclusive_group(required=True)
    source.add_argument("--request-file", metavar="FILE", help="the raw HTTP request as captured ('-': stdin)")
    source.add_argument(
        "--string-file",
        metavar="FILE",
        help="the string your code signed ('-': stdin); its final newline is dropped except for the v3 protocols",
    )
    doctor.add_argument("--signature", help="the signature of the string (with --string-file)")
    control_options(doctor)
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace, config: Config) -> int:
    if args.signature is not None and args.request_file is not None:
        return fail("--signature goes with --string-file: a request carries its own", 2)
    path = args.request_file if args.request_file is not None else args.string_file
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8", newline="").read()  # noqa: SIM115
    except (OSError, UnicodeDecodeError) as exc:
        return fail(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", 2)
    body: dict = {"protocol": args.protocol}
    if args.request_file is not None:
        body["request"] = text
    else:
        is_line_protocol = args.protocol in LINE_PROTOCOLS
        body["string_to_sign"] = text if is_line_protocol else text.removesuffix("\n").removesuffix("\r")
        if args.signature is not None:
            body["signature"] = args.signature
    if args.merchant_id:
        body["merchant_id"] = args.merchant_id
    return call(
        args,
        lambda c: c.call("POST", "/signature/doctor", body),
        render,
        status=lambda answer: 0 if answer["verdict"] == "valid" else 1,
    )


def render(answer: dict) -> str:
    head = [("verdict", answer["verdict"]), ("merchant", answer["merchant_id"] or "-"), ("key", answer["key"] or "-")]
    parts = [fields(head, limit=200), answer["message"]]
    parts.append("expected string to sign (\\n marks each newline):\n" + visible(answer["expected_string_to_sign"]))
    if "received_string_to_sign" in answer:
        parts.append("received string to sign:\n" + visible(answer["received_string_to_sign"]))
    if answer["differences"]:
        lines = ["differences:"]
        for difference in answer["differences"]:
            where = f"line {difference['line']}, " if "line" in difference else ""
            lines.append(f"{INDENT}at {where}offset {difference['at']}: {difference['hint']}")
            lines.append(f"{INDENT * 2}expected {shown(difference['expected'])}")
            lines.append(f"{INDENT * 2}received {shown(difference['received'])}")
        parts.append("\n".join(lines))
    if answer["hints"]:
        parts.append("hints:\n" + "\n".join(f"{INDENT}- {hint}" for hint in answer["hints"]))
    return "\n\n".join(parts)


def shown(text: str) -> str:
    return repr(text) if text else "(nothing)"


def visible(text: str | None) -> str:
    """The string with each newline shown as \\n (and each \\r as \\r) at the end of its line."""
    if text is None:
        return f"{INDENT}(none)"
    marked = text.replace("\r", "\\r").replace("\n", "\\n\n")
    return "\n".join(INDENT + line for line in marked.split("\n") if line) or f"{INDENT}(empty)"
