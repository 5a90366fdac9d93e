"""Edit-and-resend: a new notification for the same order, built from an old one's fields with changes, sent once."""

from __future__ import annotations

import math

from sandbox.core.models import Notification
from sandbox.core.ports import NotificationDraft
from sandbox.errors import InvalidParameter

SIGNATURES = ("valid", "invalid", "missing")


def check_request(body: dict) -> tuple[dict, str]:
    """The edits (field -> string, number or null) and the signature asked for; a 400 names what is wrong."""
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise InvalidParameter("fields", "fields must be an object of field -> new value (null removes the field)")
    for name, value in fields.items():
        if not name or not _utf8(name):
            raise InvalidParameter("fields", f"fields: a field name must be non-empty text, not {name!r}")
        if value is None or (isinstance(value, str) and _utf8(value)):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidParameter(
                f"fields.{name}",
                f"fields.{name} must be a string (UTF-8 text), a number or null (to remove it), not {value!r}",
            )
    signature = body.get("signature", "valid")
    if signature not in SIGNATURES:
        raise InvalidParameter("signature", f"signature must be one of {', '.join(SIGNATURES)}, not {signature!r}")
    unknown = sorted(set(body) - {"fields", "signature"})
    if unknown:
        raise InvalidParameter(unknown[0], f"unknown key {unknown[0]!r}: a resend takes fields and signature")
    return fields, signature


def _utf8(text: str) -> bool:
    """Whether the text can be sent: JSON may carry a lone surrogate (\\ud800), which no message can."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def edit_flat(fields: dict[str, str], edits: dict, reserved: tuple[str, ...]) -> dict[str, str]:
    """`fields` (a form or flat XML, values strings) with `edits` applied: a value replaces (numbers as text), null
    removes. The `reserved` fields are the signature's, which the resend's `signature` decides."""
    edited = dict(fields)
    for name, value in edits.items():
        if name in reserved:
            raise InvalidParameter(
                f"fields.{name}", f"fields.{name} is the signature's: say signature valid, invalid or missing instead"
            )
        if value is None:
            edited.pop(name, None)
        else:
            edited[name] = value if isinstance(value, str) else _number_text(value)
    return edited


def describe_edits(edits: dict) -> str:
    """`total_amount = 0.02, body removed`: the changes in a few words."""
    parts = [f"{name} removed" if value is None else f"{name} = {value}" for name, value in edits.items()]
    return ", ".join(parts) or "no field changed"


def draft_of(record: Notification) -> NotificationDraft:
    """The stored notification as the draft it was built from, to shape again. A forgery's flags (a probe's, a
    tamper's) are the gateway's to drop."""
    return NotificationDraft(
        event=record.event,
        url=record.url,
        body=record.body,
        headers=dict(record.headers),
        refund_no=record.refund_no,
        meta=dict(record.meta),
    )


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def resend(space, notification_id: str, edits: dict, signature: str) -> Notification:
    """Build, store and send (one attempt, trigger resend, never retried) an edited copy of a notification."""
    original = space.outbox.get(notification_id)
    order = space.payments.find(original.gateway, original.merchant_id, out_trade_no=original.out_trade_no)
    adapter = space.gateways[original.gateway]
    draft, notes = adapter.resend_notification(original, order, edits, signature)
    made = {"fields": dict(edits), "signature": signature, "notes": notes}
    record = space.outbox.add(
        original.gateway, original.merchant_id, original.out_trade_no, draft, resent=(original.id, made)
    )
    return space.dispatcher.deliver(record.id, trigger="resend")
