"""Notifications from the console: replay one now, or edit its fields and resend it (re-signed or mis-signed)."""

from __future__ import annotations

import json

from flask import request

from sandbox.console import api
from sandbox.console.views import back, bp, page

SIGNATURES = (
    ("valid", "re-signed: a merchant must accept it"),
    ("invalid", "mis-signed: a merchant must refuse it"),
    ("missing", "unsigned: a merchant must refuse it"),
)


def _to_order(record: dict, notice: str):
    return back(
        "console.order",
        notice,
        gateway=record["gateway"],
        merchant_id=record["merchant_id"],
        out_trade_no=record["out_trade_no"],
    )


@bp.post("/console/notifications/<notification_id>/replay")
def replay(notification_id: str):
    record = api.post(f"/notifications/{notification_id}/replay")
    last = (record.get("attempts") or [{}])[-1]
    outcome = f"HTTP {last['http_status']}" if last.get("http_status") else (last.get("error") or "no answer")
    return _to_order(record, f"Notification {notification_id} sent again: {outcome}.")


def _structured(fields: dict) -> bool:
    """WeChat Pay v3's resource is JSON with objects inside: edited as JSON, not as one input per field."""
    return any(isinstance(v, dict | list) for v in fields.values())


def _changes(original: dict, edited: dict, prefix: str = "") -> dict:
    """What the resend call takes: the fields that differ, new ones, and removed ones as null; inside WeChat Pay
    v3's resource, by dotted path (`amount.total`), since a change names a value, never a whole object."""
    changes: dict = {}
    for key in original.keys() | edited.keys():
        path, before, after = f"{prefix}{key}", original.get(key), edited.get(key)
        if key not in edited:
            changes[path] = None
        elif isinstance(before, dict) and isinstance(after, dict):
            changes.update(_changes(before, after, f"{path}."))
        elif before != after or key not in original:
            changes[path] = after
    return changes


def _edited_fields(original: dict, structured: bool) -> dict:
    if structured:
        try:
            edited = json.loads(request.form.get("resource", ""))
        except ValueError as bad:
            raise ValueError(f"resource is not JSON: {bad}") from None
        if not isinstance(edited, dict):
            raise ValueError("resource must be a JSON object")
        return edited
    edited = {}
    for key in original:
        if request.form.get(f"drop.{key}"):
            continue
        edited[key] = request.form.get(f"f.{key}", "")
    new_key = request.form.get("new_key", "").strip()
    if new_key:
        edited[new_key] = request.form.get("new_value", "")
    return edited


@bp.route("/console/notifications/<notification_id>/resend", methods=["GET", "POST"])
def resend(notification_id: str):
    record = api.get(f"/notifications/{notification_id}")
    original = record.get("fields") or {}
    structured = _structured(original)
    errors: dict[str, str] = {}
    if request.method == "POST":
        signature = request.form.get("signature", "valid")
        try:
            changes = _changes(original, _edited_fields(original, structured))
            sent = api.post(f"/notifications/{notification_id}/resend", {"fields": changes, "signature": signature})
        except ValueError as bad:
            errors["resource"] = str(bad)
        except api.ApiError as refused:
            errors[_form_field(refused.field, structured)] = refused.message
        else:
            last = (sent.get("attempts") or [{}])[-1]
            outcome = f"HTTP {last['http_status']}" if last.get("http_status") else (last.get("error") or "no answer")
            edits = ", ".join(sorted(changes)) or "no field"
            return _to_order(sent, f"Resent as {sent['id']} ({signature}; changed {edits}): {outcome}.")
    return page(
        "console/resend.html",
        status=400 if errors else 200,
        record=record,
        fields=original,
        structured=structured,
        resource=json.dumps(original, ensure_ascii=False, indent=2) if structured else "",
        signatures=SIGNATURES,
        errors=errors,
        form=request.form,
        active="console.orders",
    )


def _form_field(api_field: str, structured: bool) -> str:
    """Where the API's complaint goes: `fields.total_amount` next to that input, else above the form."""
    if api_field.startswith("fields.") and not structured:
        return "f." + api_field.removeprefix("fields.")
    if api_field.startswith("fields"):
        return "resource" if structured else "form"
    return api_field or "form"
