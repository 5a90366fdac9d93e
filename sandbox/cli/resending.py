"""`paysandbox notifications resend ID [--set k=v] [--unset k] [--signature ...]`: an edited copy, sent once now."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sandbox.cli.common import call, fail, segment
from sandbox.cli.tables import clip
from sandbox.control import Control


def register(actions: argparse._SubParsersAction) -> argparse.ArgumentParser:
    resend = actions.add_parser(
        "resend",
        help="send an edited copy of a notification now, as a new notification (signed, or deliberately not)",
        description="Changes apply over the notification's fields (`notifications show ID --json` lists them). "
        "WeChat Pay v3 fields are dotted paths into the resource (amount.total); a v2 refund's are req_info.<name>. "
        "A value replaces a field that holds a number as a number.",
    )
    resend.add_argument("id", help="the notification id (ntf_...)")
    resend.add_argument(
        "--set",
        action="append",
        default=[],
        type=assignment,
        metavar="KEY=VALUE",
        dest="changes",
        help="change a field",
    )
    resend.add_argument("--unset", action="append", default=[], metavar="KEY", help="remove the field")
    resend.add_argument("--signature", choices=("valid", "invalid", "missing"), default="valid")
    return resend


def assignment(text: str) -> tuple[str, str]:
    """argparse type: KEY=VALUE (the value may hold '=')."""
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def resend(args: argparse.Namespace, render: Callable[[dict], str]) -> int:
    twice = sorted({key for key, _ in args.changes} & set(args.unset))
    if twice:
        return fail(f"{twice[0]} is both set and unset", 2)

    def request(control: Control) -> dict:
        path = f"/notifications/{segment(args.id)}"
        original = control.call("GET", path).get("fields") or {}
        fields = {key: typed(original, key, value) for key, value in args.changes}
        fields.update({key: None for key in args.unset})
        return control.call("POST", f"{path}/resend", {"fields": fields, "signature": args.signature})

    return call(args, request, lambda record: _rendered(record, render), slow=True)


def typed(original: dict, key: str, value: str) -> str | int | float:
    """The text as a number where the original field (a dotted path in a JSON resource) holds one, else as is."""
    current: object = original.get(key) if key in original else _at_path(original, key.split("."))
    if isinstance(current, bool) or not isinstance(current, int | float):
        return value
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _at_path(node: object, names: list[str]) -> object:
    for name in names:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node


def _rendered(record: dict, render: Callable[[dict], str]) -> str:
    last = record["attempts"][-1] if record["attempts"] else {}
    answered = f"HTTP {last['http_status']}" if last.get("http_status") else last.get("error") or "no answer"
    if last.get("http_status"):
        answered += ", acked" if last.get("acked") else ", not acked"
    notes = "; ".join((record.get("edits") or {}).get("notes", []))
    line = clip(f"resent {record['resent_from']} as {record['id']}: {answered}", 160)
    return f"{line}\n{notes}\n\n{render(record)}"
