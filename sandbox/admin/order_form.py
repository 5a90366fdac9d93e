"""The body of POST /_sandbox/orders checked field by field: each refusal names its field and what it takes."""

from __future__ import annotations

import json

from sandbox import errors
from sandbox.core.money import MAX_AMOUNT

FIELDS = ("gateway", "merchant_id", "amount", "out_trade_no", "subject", "notify_url", "return_url", "method")
REFUND_FIELDS = ("amount", "out_refund_no", "reason")  # the body of POST /_sandbox/orders/.../refund
TEXT_LIMIT = 512  # no gateway takes a longer value; each refuses its own limits with its reason
DEFAULT_SUBJECT = "paysandbox test order"


def check_fields(body: dict) -> None:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise errors.InvalidParameter(unknown[0], f"unknown field {unknown[0]!r}: an order takes {', '.join(FIELDS)}")


def text(body: dict, name: str, required: bool = False) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise errors.MissingParameter(name, f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise errors.InvalidParameter(name, f"{name} must be a string, got {json.dumps(value)}")
    if len(value) > TEXT_LIMIT:
        raise errors.InvalidParameter(name, f"{name} is longer than {TEXT_LIMIT} characters")
    return value


def amount(value: object) -> int:
    if value is None:
        raise errors.MissingParameter("amount", "amount is required: integer fen, e.g. 990 for 9.90 yuan")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise errors.InvalidParameter(
            "amount", f"amount must be integer fen from 1 to {MAX_AMOUNT} (990 is 9.90 yuan), got {json.dumps(value)}"
        )
    return value


def url(body: dict, name: str) -> str:
    value = text(body, name)
    if value and not value.startswith(("http://", "https://")):
        raise errors.InvalidParameter(name, f"{name} must be an http(s) URL, got {value!r}")
    return value
