"""`paysandbox notifications list | show | replay | flush | resend`: what the sandbox sent to merchants, sending it
again, and sending an edited copy."""

from __future__ import annotations

import argparse

from sandbox.cli import resending
from sandbox.cli.common import GATEWAYS, call, control_options, plural, segment
from sandbox.cli.tables import Column, clip, fields, pairs, table, when
from sandbox.config import Config
from sandbox.core.models import NOTIFY_DELIVERED, NOTIFY_FAILED, NOTIFY_PENDING

STATUSES = (NOTIFY_PENDING, NOTIFY_DELIVERED, NOTIFY_FAILED)

# Columns of a notification summary: an order's notifications, and what flush and clock advance attempted.
SUMMARY = (
    Column("ID", "id"),
    Column("EVENT", "event", width=24),
    Column("STATUS", "status"),
    Column("ATTEMPTS", "attempts", right=True),
    Column("LAST HTTP", "last_http_status", right=True),
    Column("LAST ERROR", "last_error", width=30),
    Column("NEXT ATTEMPT", lambda n: when(n.get("next_attempt_at"))),
    Column("RULE", "rule"),
)


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser(
        "notifications", help="notifications sent to merchants: list, show, replay, flush, resend"
    )
    actions = group.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="notifications, newest first, with their last attempt")
    listing.add_argument("--gateway", choices=GATEWAYS)
    listing.add_argument("--merchant", metavar="MERCHANT_ID")
    listing.add_argument("--order", metavar="OUT_TRADE_NO")
    listing.add_argument("--status", choices=STATUSES)
    show = actions.add_parser("show", help="one notification and every delivery attempt")
    replay = actions.add_parser("replay", help="send a notification again now (a new attempt on the same record)")
    for action in (show, replay):
        action.add_argument("id", help="the notification id (ntf_...)")
    flush = actions.add_parser("flush", help="deliver every notification that is due now")
    resend = resending.register(actions)
    for action in (listing, show, replay, flush, resend):
        control_options(action)
    listing.set_defaults(handler=_list)
    show.set_defaults(handler=_show)
    replay.set_defaults(handler=_replay)
    flush.set_defaults(handler=_flush)
    resend.set_defaults(handler=lambda args, config: resending.resend(args, render_notification))


def _list(args: argparse.Namespace, config: Config) -> int:
    query = {"gateway": args.gateway, "merchant_id": args.merchant, "out_trade_no": args.order, "status": args.status}
    return call(args, lambda c: _newest_first(c.call("GET", "/notifications", params=query)), _render_list)


def _newest_first(answer: dict) -> dict:
    """The control API answers notifications oldest first; every list of the CLI shows the newest first."""
    return {**answer, "notifications": answer["notifications"][::-1]}


def _show(args: argparse.Namespace, config: Config) -> int:
    return call(args, lambda c: c.call("GET", f"/notifications/{segment(args.id)}"), render_notification)


def _replay(args: argparse.Namespace, config: Config) -> int:
    path = f"/notifications/{segment(args.id)}/replay"
    return call(args, lambda c: c.call("POST", path), _render_replay, slow=True)


def _flush(args: argparse.Namespace, config: Config) -> int:
    return call(args, lambda c: c.call("POST", "/notifications/flush"), lambda a: attempted(a["attempted"]), slow=True)


def _render_list(answer: dict) -> str:
    rows = answer["notifications"]
    if not rows:
        return "no notifications"
    columns = [
        Column("ID", "id"),
        Column("GATEWAY", "gateway"),
        Column("MERCHANT", "merchant_id"),
        Column("OUT_TRADE_NO", "out_trade_no", width=32),
        Column("EVENT", "event", width=24),
        Column("STATUS", "status"),
        Column("ATTEMPTS", lambda n: len(n["attempts"]), right=True),
        Column("LAST ATTEMPT", lambda n: outcome(n["attempts"][-1]) if n["attempts"] else "", width=30),
        Column("NEXT ATTEMPT", lambda n: when(n.get("next_attempt_at"))),
    ]
    return f"{plural(len(rows), 'notification')}\n{table(rows, columns)}"


def render_notification(record: dict) -> str:
    head = fields(
        [
            ("id", record["id"]),
            ("gateway", record["gateway"]),
            ("merchant_id", record["merchant_id"]),
            ("out_trade_no", record["out_trade_no"]),
            ("refund_no", record.get("refund_no")),
            ("event", record["event"]),
            ("url", record["url"]),
            ("status", record["status"]),
            ("probe", record.get("probe")),  # a probe's verdict: rightly_refused, wrongly_accepted ...
            ("created", when(record.get("created_at"))),
            ("next attempt", when(record.get("next_attempt_at"))),
            ("scenario", pairs(record.get("scenario"))),
            ("body", record.get("body")),
        ]
    )
    attempts = record["attempts"]
    if not attempts:
        return f"{head}\n\nno attempts yet"
    numbered = [{**a, "n": i} for i, a in enumerate(attempts, 1)]
    columns = [
        Column("#", "n", right=True),
        Column("AT", lambda a: when(a["at"])),
        Column("TRIGGER", "trigger"),
        Column("HTTP", "http_status", right=True),
        Column("ACKED", "acked"),
        Column("RESPONSE BODY", "response_body", width=30),
        Column("ERROR", "error", width=40),
        Column("RULE", "rule"),
        Column("EFFECT", "effect", width=40),
    ]
    return f"{head}\n\n{plural(len(attempts), 'attempt')}\n{table(numbered, columns)}"


def _render_replay(record: dict) -> str:
    last = record["attempts"][-1] if record["attempts"] else {}
    line = clip(f"replayed {record['id']}: attempt #{len(record['attempts'])}, {outcome(last)}", 120)
    return f"{line}\n\n{render_notification(record)}"


def attempted(summaries: list[dict]) -> str:
    """What a flush or a clock advance attempted, one notification summary a line."""
    if not summaries:
        return "no notification was due"
    return f"{plural(len(summaries), 'notification')} attempted\n{table(summaries, SUMMARY)}"


def outcome(attempt: dict) -> str:
    """One attempt in a few words: `HTTP 200, acked`, `HTTP 200, not acked`, `lost`, or the error."""
    parts = []
    if attempt.get("http_status"):
        parts += [f"HTTP {attempt['http_status']}", "acked" if attempt.get("acked") else "not acked"]
    parts += [attempt.get("error"), attempt.get("effect")]
    return ", ".join(p for p in parts if p) or "no answer"
