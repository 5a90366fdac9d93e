"""OpenAPI for an order's timeline and a notification's edit-and-resend: their paths, schemas and examples."""

from __future__ import annotations

from sandbox.admin import openapi_examples as ex
from sandbox.admin.openapi_schemas import MAYBE_TIME, TIME, obj, ref, text
from sandbox.core.resend import SIGNATURES

KINDS = (
    "created",
    "page_opened",
    "paid",
    "failed",
    "closed",
    "refund",
    "refund_settled",
    "notification_attempt",
    "notification_scheduled",
)
MAYBE_TEXT = {"type": ["string", "null"]}
FIELD_VALUE = {"type": ["string", "number", "null"]}

REQUEST = obj(
    {
        "method": {"const": "POST"},
        "url": text("the notify_url"),
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": text("the stored body: exactly what was POSTed"),
    },
    "all",
    description="the request as sent: the notification's body with this attempt's headers",
)

EVENT = obj(
    {
        "at": TIME,
        "kind": {"enum": list(KINDS)},
        "title": text("a short human sentence"),
        "product": text("created: how the order was made"),
        "amount": {"type": "integer", "description": "fen: created, paid, refund, refund_settled"},
        "reason": text("failed: the failure code; closed: closed by merchant, expired, cancelled ...; refund"),
        "message": text("failed: the decline message"),
        "by": {"enum": ["merchant", "buyer", "expiry"], "description": "closed: who closed it"},
        "out_refund_no": text("refund, refund_settled"),
        "refund_id": text("refund, refund_settled"),
        "status": text("refund, refund_settled: pending, success, abnormal, closed"),
        "notification_id": text("notification_attempt, notification_scheduled"),
        "event": text("the notification's event, e.g. TRADE_SUCCESS"),
        "attempt": {"type": "integer", "description": "the attempt's number on its notification"},
        "trigger": {"enum": ["schedule", "replay", "duplicate", "resend"]},
        "request": {"oneOf": [ref("SentRequest"), {"type": "null"}], "description": "null: a scenario lost it"},
        "http_status": {"type": ["integer", "null"]},
        "response_body": text(),
        "acked": {"type": "boolean"},
        "error": text(),
        "effect": text("what a scenario did to the attempt"),
        "rule": {**MAYBE_TEXT, "description": "the scenario rule that shaped it"},
        "resent_from": {**MAYBE_TEXT, "description": "the notification this resend was edited from"},
        "next_attempt_at": MAYBE_TIME,
    },
    ("at", "kind", "title"),
    description="The keys beyond at, kind and title depend on the kind.",
)

TIMELINE = obj(
    {"order": ref("OrderWithNotifications"), "events": {"type": "array", "items": ref("TimelineEvent")}}, "all"
)

RESEND = obj(
    {
        "fields": {
            "type": "object",
            "additionalProperties": FIELD_VALUE,
            "description": "changes over the original's fields: a value replaces, null removes. WeChat Pay v3: "
            "dotted paths into the resource (amount.total); v2 refunds: req_info.<name>",
        },
        "signature": {"enum": list(SIGNATURES), "default": "valid"},
    },
    closed=True,
)

EDITS = obj(
    {
        "fields": {"type": "object", "additionalProperties": FIELD_VALUE},
        "signature": {"enum": list(SIGNATURES)},
        "notes": {"type": "array", "items": text(), "description": "what the gateway did"},
    },
    "all",
)

DETAIL = {
    "allOf": [ref("Notification")],
    "properties": {
        "fields": {
            "type": ["object", "null"],
            "description": "the payload as the merchant reads it once verified and decrypted: Alipay's form fields "
            "(no sign, sign_type), WeChat v3's decrypted resource, v2's XML fields (no sign; a refund's req_info "
            "as req_info.<name>), UnionPay's fields (no signature, signPubKeyCert); null if the merchant's keys "
            "cannot open it",
        }
    },
    "required": ["fields"],
}


def schemas() -> dict:
    return {
        "TimelineEvent": EVENT,
        "SentRequest": REQUEST,
        "Timeline": TIMELINE,
        "ResendRequest": RESEND,
        "ResendEdits": EDITS,
        "NotificationDetail": DETAIL,
    }


def paths(operation, answer, json_body, order_path: str, order_params: tuple) -> dict:
    """The two operations, built with openapi.py's helpers."""
    return {
        order_path + "/timeline": {
            "get": operation(
                "orders",
                "orderTimeline",
                "What happened to an order",
                "Oldest first: created, page_opened (the buyer first opened a hosted page), paid, failed, closed,"
                " each refund and its settlement, every notification attempt with the exact request sent (body and"
                " headers) and the merchant's answer, and each pending notification's next attempt.",
                {"200": answer("The order and its events", ref("Timeline"), EXAMPLE_TIMELINE)},
                errors=(400, 404),
                params=order_params,
            )
        },
        "/_sandbox/notifications/{notification_id}/resend": {
            "post": operation(
                "notifications",
                "resendNotification",
                "Edit a notification and send it as a new one",
                "A new notification for the same order from the original's `fields` with the changes, signed"
                " properly (WeChat v3: encrypted with the APIv3 key, signed with the key and serial the original"
                " was) or deliberately not (`invalid`, `missing`). Sent once now (trigger `resend`), never retried;"
                " recorded like any notification. 409 NOTIFICATION_UNREADABLE if the merchant's keys cannot open"
                " the original.",
                {"201": answer("The new notification", ref("NotificationDetail"), EXAMPLE_RESENT)},
                errors=(400, 404, 409),
                params=("notification_id",),
                body=json_body(ref("ResendRequest"), EXAMPLE_REQUESTS),
            )
        },
    }


EXAMPLE_REQUESTS = {
    "amount": ex.example("Alipay: claim 0.02 paid, correctly signed", {"fields": {"total_amount": "0.02"}}),
    "wechat": ex.example(
        "WeChat Pay v3: another amount, badly signed", {"fields": {"amount.total": 2}, "signature": "invalid"}
    ),
    "remove": ex.example(
        "UnionPay: without settleAmt, no signature", {"fields": {"settleAmt": None}, "signature": "missing"}
    ),
}
_EDITS = {
    "fields": {"total_amount": "0.02"},
    "signature": "valid",
    "notes": ["edit: total_amount = 0.02 (fresh notify_id and notify_time), signed RSA2"],
}
_ATTEMPT = {**ex.NOTIFICATION["attempts"][0], "http_status": 200, "response_body": "success", "acked": True}
EXAMPLE_RESENT = {
    "resent": ex.example(
        "Sent once and acknowledged",
        {
            **ex.NOTIFICATION,
            "id": "ntf_3b0e41d7a9c25f6e8d14",
            "status": "delivered",
            "next_attempt_at": None,
            "attempts": [{**_ATTEMPT, "trigger": "resend"}],
            "resent_from": ex.NOTIFICATION["id"],
            "edits": _EDITS,
            "fields": {"out_trade_no": "QA-1001", "total_amount": "0.02", "trade_status": "TRADE_SUCCESS"},
        },
    )
}
_SENT = {
    "method": "POST",
    "url": ex.NOTIFICATION["url"],
    "headers": ex.NOTIFICATION["headers"],
    "body": ex.NOTIFICATION["body"],
}
EXAMPLE_TIMELINE = {
    "paid": ex.example(
        "Created, opened, paid; the first attempt answered 500, a retry is due",
        {
            "order": {**ex.ORDER_WITH_NOTIFICATIONS},
            "events": [
                {
                    "at": ex.NOW,
                    "kind": "created",
                    "title": "Order created (precreate, 12.34 CNY)",
                    "product": "precreate",
                    "amount": 1234,
                },
                {"at": ex.NOW, "kind": "page_opened", "title": "The buyer opened the hosted page"},
                {"at": ex.NOW, "kind": "paid", "title": "Paid 12.34 CNY", "amount": 1234},
                {
                    "at": ex.NOW,
                    "kind": "notification_attempt",
                    "title": "TRADE_SUCCESS notification, attempt 1 (schedule): HTTP 500, not acknowledged",
                    "notification_id": ex.NOTIFICATION["id"],
                    "event": "TRADE_SUCCESS",
                    "attempt": 1,
                    "trigger": "schedule",
                    "request": _SENT,
                    "http_status": 500,
                    "response_body": "oops",
                    "acked": False,
                    "error": "",
                    "effect": "",
                    "rule": None,
                    "resent_from": None,
                },
                {
                    "at": ex.LATER,
                    "kind": "notification_scheduled",
                    "title": "TRADE_SUCCESS notification, attempt 2 due",
                    "notification_id": ex.NOTIFICATION["id"],
                    "event": "TRADE_SUCCESS",
                    "attempt": 2,
                    "next_attempt_at": ex.LATER,
                },
            ],
        },
    )
}
