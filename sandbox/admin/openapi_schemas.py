"""The reusable JSON Schemas (2020-12) of the control API's OpenAPI document: its `components/schemas`.

Limits and choices come from the code that enforces them (rules.py, clock.py, models.py), so the document
cannot drift from what the API accepts.
"""

from __future__ import annotations

from sandbox.core import rules
from sandbox.core.clock import MODES
from sandbox.core.models import (
    ORDER_STATUSES,
    PROBE_ACCEPTED,
    PROBE_NOT_SENT,
    PROBE_REFUSED,
    PROBE_UNANSWERED,
    REFUND_OUTCOMES,
    VIA_CONTROL_API,
    VIA_GATEWAY,
)
from sandbox.core.sandbox import MAX_ADVANCE
from sandbox.gateways.wechatpay.keys import DEFAULT_SHARE, KEY_MODES, MIGRATING_MODE

GATEWAYS = ("alipay", "wechatpay", "unionpay")
PEM = "PEM text"
TIME = {"type": "string", "format": "date-time", "examples": ["2025-01-15T10:30:00+08:00"]}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: tuple[str, ...] | str = (), closed: bool = False, **extra) -> dict:
    """An object schema; required "all" for answers that always carry every key; `closed` for bodies the API
    parses strictly (an unknown key is a 400)."""
    schema: dict = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(properties) if required == "all" else list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def text(description: str = "", **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def seconds(limit: float, description: str) -> dict:
    return {"type": "number", "minimum": 0, "maximum": limit, "description": description}


# -- errors, clock, merchants ----------------------------------------------------------------------------

ERROR = obj(
    {
        "error": obj(
            {
                "code": text("SNAKE_CASE code, e.g. INVALID_PARAMETER, ORDER_NOT_FOUND", pattern="^[A-Z][A-Z0-9_]*$"),
                "message": text("a human sentence naming what is wrong"),
                "field": text("bad input only: the field at fault, e.g. notify.delay or scenarios[2].api.status"),
            },
            ("code", "message"),
        )
    },
    ("error",),
    description="Every 4xx: 400 bad input, 404 unknown thing, 409 state conflict.",
    examples=[
        {
            "error": {
                "code": "INVALID_PARAMETER",
                "message": "notify.drop must be a whole number from 0 to 20",
                "field": "notify.drop",
            }
        }
    ],
)

CLOCK = obj(
    {
        "now": {**TIME, "description": "the sandbox's time (Beijing time)"},
        "mode": {"enum": list(MODES)},
        "factor": {"type": "number", "description": "speed in accelerated mode; 1 otherwise"},
    },
    "all",
    examples=[{"now": "2025-01-15T10:30:00+08:00", "mode": "manual", "factor": 1.0}],
)

CLOCK_SETTING = obj(
    {
        "mode": {"enum": list(MODES)},
        "factor": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 100_000,
            "description": "accelerated mode only (default 1); ignored by the other modes",
        },
    },
    ("mode",),
)


def _registration(gateway: str, properties: dict, required: tuple[str, ...], description: str, **extra) -> dict:
    merchant_id = properties.pop("merchant_id")
    return obj(
        {"gateway": {"const": gateway}, "merchant_id": merchant_id, "name": text("a label"), **properties},
        ("gateway", "merchant_id", *required),
        description=description,
        **extra,
    )


DIGITS_32 = {"type": "string", "pattern": "^[0-9]{1,32}$"}
KEY_32 = {"type": "string", "minLength": 32, "maxLength": 32, "pattern": "^[\\x00-\\x7f]{32}$"}

MERCHANT_REGISTRATIONS = {
    "AlipayMerchantRegistration": _registration(
        "alipay",
        {
            "merchant_id": {**DIGITS_32, "description": "the app_id"},
            "app_public_key": text(f"the app's RSA public key ({PEM}, or bare base64)"),
            "app_cert": text(f"the app's public key certificate ({PEM}), for cert mode; one is issued if absent"),
            "seller_id": text("the 2088... partner id (default: 2088 + the app_id's last 12 digits)"),
        },
        (),
        "app_public_key or app_cert (or both, holding the same key).",
        anyOf=[{"required": ["app_public_key"]}, {"required": ["app_cert"]}],
    ),
    "WechatpayMerchantRegistration": _registration(
        "wechatpay",
        {
            "merchant_id": {**DIGITS_32, "description": "the mchid"},
            "appid": text("the app id bound to the merchant, e.g. wx..."),
            "merchant_serial_no": text("the merchant certificate's serial, hex", pattern="^[0-9A-Fa-f]{1,64}$"),
            "merchant_public_key": text(f"{PEM}; needs merchant_serial_no"),
            "merchant_certificate": text(f"{PEM}; its serial is the merchant_serial_no"),
            "apiv3_key": {**KEY_32, "writeOnly": True, "description": "32 ASCII characters; never answered"},
            "api_key": {**KEY_32, "writeOnly": True, "description": "32 ASCII characters, for API v2; never answered"},
            "key_mode": {
                "enum": list(KEY_MODES),
                "description": "which key signs answers and notifications (docs/protocols/wechatpay-v3.md#key-modes); "
                "absent: the certificate, unless a request's Wechatpay-Serial asks for the public key",
            },
            "public_key_share": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": f"migrating only: the share signed by the public key (default {DEFAULT_SHARE})",
            },
        },
        ("appid", "apiv3_key"),
        "merchant_certificate, or merchant_public_key with merchant_serial_no.",
        anyOf=[{"required": ["merchant_certificate"]}, {"required": ["merchant_public_key", "merchant_serial_no"]}],
        dependentSchemas={
            "public_key_share": {"required": ["key_mode"], "properties": {"key_mode": {"const": MIGRATING_MODE}}}
        },
    ),
    "UnionpayMerchantRegistration": _registration(
        "unionpay",
        {
            "merchant_id": {"type": "string", "pattern": "^[0-9A-Za-z]{15}$", "description": "the merId"},
            "merchant_certificate": text(f"{PEM}; its decimal serial is the certId"),
        },
        ("merchant_certificate",),
        "The merchant's signing certificate.",
    ),
}


def _merchant(gateway: str, fields: str, description: str, **others: dict) -> dict:
    """A registered merchant: `fields` are strings, `others` have schemas of their own."""
    properties = {"gateway": {"const": gateway}, "merchant_id": text(), "name": text()}
    properties.update({f: text() for f in fields.split()})
    return obj({**properties, **others}, "all", description=description)


MERCHANTS = {
    "AlipayMerchant": _merchant(
        "alipay",
        "seller_id app_public_key app_cert app_cert_sn alipay_public_key alipay_public_key_cert alipay_root_cert"
        " alipay_cert_sn alipay_root_cert_sn",
        "The app's material as registered, and the sandbox's (public key mode and cert mode).",
    ),
    "WechatpayMerchant": _merchant(
        "wechatpay",
        "appid merchant_serial_no merchant_public_key merchant_certificate platform_serial_no"
        " platform_certificate public_key_id platform_public_key",
        "merchant_certificate is an empty string when not registered; public_key_id is PUB_KEY_ID_... The secrets"
        " (apiv3_key, api_key) are write-only: an answer says whether each is set, never its value.",
        apiv3_key_set={"type": "boolean", "description": "whether an apiv3_key is registered (it is required: true)"},
        api_key_set={"type": "boolean", "description": "whether an api_key (API v2) is registered"},
        key_mode={"enum": [*KEY_MODES, None], "description": "null: none was registered (the default)"},
        public_key_share={"type": ["number", "null"], "description": "migrating only; null otherwise"},
    ),
    "UnionpayMerchant": _merchant(
        "unionpay",
        "cert_id merchant_certificate root_certificate middle_certificate signing_certificate",
        "cert_id is the merchant certificate's decimal serial.",
    ),
}


def by_gateway(prefix: str) -> dict:
    """oneOf the three gateway variants, told apart by `gateway`."""
    names = {"alipay": f"Alipay{prefix}", "wechatpay": f"Wechatpay{prefix}", "unionpay": f"Unionpay{prefix}"}
    return {
        "oneOf": [ref(n) for n in names.values()],
        "discriminator": {"propertyName": "gateway", "mapping": {g: ref(n)["$ref"] for g, n in names.items()}},
    }


# -- orders and notifications ----------------------------------------------------------------------------

REFUND = obj(
    {
        "out_refund_no": text("the merchant's refund number"),
        "refund_id": text("the provider's refund id"),
        "amount": {"type": "integer", "description": "fen"},
        "status": {"enum": ["pending", *REFUND_OUTCOMES]},
        "reason": text(),
        "created_at": TIME,
        "succeeded_at": MAYBE_TIME,
        "settle_at": {**MAYBE_TIME, "description": "when a pending refund succeeds on its own"},
        "via": {
            "enum": [VIA_GATEWAY, VIA_CONTROL_API],
            "description": "who asked: the merchant's gateway call, or the control API acting for it (POST .../refund;"
            " the integration report leaves those out)",
        },
    },
    "all",
)

PROBE = {
    "enum": [PROBE_REFUSED, PROBE_ACCEPTED, PROBE_UNANSWERED, PROBE_NOT_SENT, None],
    "description": "null for a genuine notification. A probe (notify.probe: a copy signed as WeChat's probe "
    "traffic, sent once) was rightly_refused (any answer but an ack), wrongly_accepted, got no_answer, or is "
    "not_sent_yet",
}

NOTIFICATION_SUMMARY = obj(
    {
        "id": text(),
        "event": text("e.g. TRADE_SUCCESS, TRANSACTION.SUCCESS, REFUND.SUCCESS, consume"),
        "status": ref("NotificationStatus"),
        "attempts": {"type": "integer", "description": "how many attempts so far"},
        "last_http_status": {"type": ["integer", "null"]},
        "last_error": text(),
        "next_attempt_at": MAYBE_TIME,
        "rule": {"type": ["string", "null"], "description": "the scenario rule that shaped it"},
        "probe": PROBE,
    },
    "all",
)

ORDER = obj(
    {
        "gateway": ref("Gateway"),
        "merchant_id": text(),
        "out_trade_no": text(),
        "trade_no": text("the provider's id: Alipay trade_no, WeChat transaction_id, UnionPay queryId"),
        "amount": {"type": "integer", "description": "fen"},
        "currency": text(examples=["CNY"]),
        "subject": text(),
        "status": {"enum": list(ORDER_STATUSES), "description": "partial refunds keep paid"},
        "product": text("how it was created: page, wap, precreate, barcode, NATIVE, JSAPI ..."),
        "notify_url": text(),
        "return_url": text(),
        "created_at": TIME,
        "paid_at": MAYBE_TIME,
        "closed_at": MAYBE_TIME,
        "expires_at": MAYBE_TIME,
        "refunded_amount": {"type": "integer", "description": "fen refunded or on its way"},
        "refunds": {"type": "array", "items": ref("Refund")},
        "failure": {
            "type": ["object", "null"],
            "properties": {
                "reason": text(),
                "message": text(),
                "via": {"const": VIA_CONTROL_API, "description": "only on a close the control API made (.../close)"},
            },
            "description": "why it failed or closed",
        },
        "native": obj(
            {
                "trade_status": text("Alipay"),
                "trade_state": text("WeChat Pay"),
                "trade_state_desc": text("WeChat Pay"),
                "api": {
                    "type": ["string", "null"],
                    "description": "the API that created the order: WeChat Pay v2 or v3; Alipay gateway.do or v3",
                },
                "orderId": text("UnionPay"),
                "queryId": text("UnionPay"),
            },
            description="the order as its gateway names it",
        ),
        "notifications": {
            "type": "array",
            "items": ref("NotificationSummary"),
            "description": "only in answers about one order",
        },
    },
    "all",
)
ORDER["required"].remove("notifications")  # only answers about one order carry them

ATTEMPT = obj(
    {
        "at": TIME,
        "http_status": {"type": ["integer", "null"], "description": "null when nothing answered"},
        "response_body": text("the merchant's reply (first 2000 characters)"),
        "error": text("why there was no answer, or that a scenario lost it"),
        "acked": {"type": "boolean"},
        "trigger": {"enum": ["schedule", "replay", "duplicate", "resend"]},
        "rule": {"type": ["string", "null"]},
        "effect": text("what the rule did: lost, duplicate 1 of 2, a forged message ..."),
    },
    "all",
)

NOTIFICATION = obj(
    {
        "id": text(),
        "gateway": ref("Gateway"),
        "merchant_id": text(),
        "out_trade_no": text(),
        "event": text(),
        "url": text("the notify_url"),
        "status": ref("NotificationStatus"),
        "created_at": TIME,
        "next_attempt_at": MAYBE_TIME,
        "refund_no": text("the refund it is about, if any"),
        "attempts": {"type": "array", "items": ref("Attempt")},
        "scenario": {"type": ["object", "null"], "description": "the rule that shaped it and what it did"},
        "probe": PROBE,
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": text("exactly what is POSTed, every attempt"),
        "resent_from": {"type": ["string", "null"], "description": "the notification this one was edited from"},
        "edits": {"oneOf": [ref("ResendEdits"), {"type": "null"}], "description": "what the resend changed"},
    },
    "all",
)

# -- scenario rules ----------------------------------------------------------------------------------------

FEN = {"type": "integer", "minimum": 0}
NAME_128 = {"type": "string", "minLength": 1, "maxLength": 128}
CODE_64 = {"type": "string", "minLength": 1, "maxLength": 64}

MATCH = obj(
    {
        "gateway": ref("Gateway"),
        "merchant_id": NAME_128,
        "out_trade_no": {**NAME_128, "description": "a glob, e.g. QA-*"},
        "amount": {
            "description": "fen: exact, or a range",
            "oneOf": [FEN, obj({"min": FEN, "max": FEN}, closed=True, minProperties=1)],
        },
        "operation": {
            **NAME_128,
            "description": "create, pay, query, close, cancel, refund, bill, keys, notify, or a wire method/event of"
            " the gateway(s) the rule can match; any other name is a 400 that lists the known ones",
            "examples": ["query", "alipay.trade.query", "TRANSACTION.SUCCESS"],
        },
    },
    closed=True,
    description="Omitted keys match anything.",
)

PAYMENT_EFFECT = obj(
    {
        "outcome": {"enum": list(rules.PAYMENT_OUTCOMES)},
        "code": {**CODE_64, "description": "fail (or pending then fail): a neutral or native failure code"},
        "settle_after": seconds(rules.MAX_SECONDS, "pending (default 30), or with match.operation create"),
        "then": {"enum": list(rules.SETTLED_OUTCOMES), "description": "pending only (default success)"},
    },
    ("outcome",),
    closed=True,
    description="code goes with fail or pending, then with pending, settle_after with pending or operation create.",
)

NOTIFY_EFFECT = obj(
    {
        "delay": seconds(rules.MAX_SECONDS, "the first attempt is that many sandbox seconds late"),
        "drop": {"type": "integer", "minimum": 0, "maximum": rules.MAX_COPIES},
        "duplicate": {"type": "integer", "minimum": 0, "maximum": rules.MAX_COPIES},
        "probe": {
            "type": "integer",
            "minimum": 0,
            "maximum": rules.MAX_COPIES,
            "description": "WeChat Pay (match.gateway wechatpay) v3 only: copies signed as probe traffic, each sent "
            "once before the genuine notification; the merchant must refuse them",
        },
        "signature": {"enum": ["invalid", "missing"]},
        "timestamp": {"const": "stale"},
        "merchant": {"const": "wrong"},
        "tamper": obj(
            {"amount": FEN},
            minProperties=1,
            additionalProperties={"type": ["string", "number"]},
            description="fields changed after signing; amount is fen, other keys are wire fields",
        ),
    },
    closed=True,
    minProperties=1,
)

API_EFFECT = obj(
    {
        "status": {"enum": list(rules.API_STATUSES)},
        "delay": seconds(rules.MAX_API_DELAY, "REAL seconds before the answer (your HTTP timeout under test)"),
        "error": {**CODE_64, "description": "the gateway's business error, e.g. ACQ.SYSTEM_ERROR, SYSTEM_ERROR, 03"},
        "body": {"enum": list(rules.API_BODIES)},
        "disconnect": {"const": True},
        "processed": {"type": "boolean", "description": "whether the call takes effect before the fault"},
    },
    closed=True,
    anyOf=[{"required": [key]} for key in ("status", "delay", "error", "body", "disconnect")],
    description="At most one of status, error, body, disconnect; processed false needs status, error or disconnect.",
)


def _effect_present(name: str) -> dict:
    return {"required": [name], "properties": {name: {"type": "object"}}}


SCENARIO_RULE = obj(
    {
        "name": {"type": "string", "maxLength": 200},
        "match": ref("ScenarioMatch"),
        "times": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": 1_000_000,
            "description": "uses of each effect; absent or null: until deleted",
        },
        "payment": {"oneOf": [ref("PaymentEffect"), {"type": "null"}]},
        "notify": {"oneOf": [ref("NotifyEffect"), {"type": "null"}]},
        "api": {"oneOf": [ref("ApiEffect"), {"type": "null"}]},
        "id": {**text("set by the sandbox"), "readOnly": True},
        "remaining": {"type": ["integer", "null"], "readOnly": True, "description": "uses left; null: until deleted"},
        "remaining_by_effect": {"type": "object", "additionalProperties": {"type": "integer"}, "readOnly": True},
        "source": {**text("api, magic or file:NAME"), "readOnly": True},
    },
    closed=True,
    anyOf=[_effect_present(e) for e in rules.EFFECTS],
    description="At least one effect. Answer-only keys (id, remaining ...) are ignored when posted back.",
)

STORED_RULE = {
    "allOf": [ref("ScenarioRule")],
    "required": ["id", "match", "times", "remaining", "source"],
}

MAGIC_AMOUNT = obj(
    {"amount": FEN, "yuan": text(examples=["6.01"]), "effect": text()},
    "all",
)


def components() -> dict:
    return {
        "Error": ERROR,
        "Gateway": {"enum": list(GATEWAYS)},
        "Clock": CLOCK,
        "ClockSetting": CLOCK_SETTING,
        **MERCHANT_REGISTRATIONS,
        "MerchantRegistration": by_gateway("MerchantRegistration"),
        **MERCHANTS,
        "Merchant": by_gateway("Merchant"),
        "Order": ORDER,
        "OrderWithNotifications": {"allOf": [ref("Order")], "required": ["notifications"]},
        "Refund": REFUND,
        "NotificationStatus": {"enum": ["pending", "delivered", "failed"]},
        "NotificationSummary": NOTIFICATION_SUMMARY,
        "Notification": NOTIFICATION,
        "Attempt": ATTEMPT,
        "ScenarioMatch": MATCH,
        "PaymentEffect": PAYMENT_EFFECT,
        "NotifyEffect": NOTIFY_EFFECT,
        "ApiEffect": API_EFFECT,
        "ScenarioRule": SCENARIO_RULE,
        "StoredScenarioRule": STORED_RULE,
        "MagicAmount": MAGIC_AMOUNT,
        "AdvanceSeconds": obj(
            {"seconds": seconds(MAX_ADVANCE, "how far to move the clock (up to 400 days)")}, ("seconds",)
        ),
    }
