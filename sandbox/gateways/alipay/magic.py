"""Barcode (trade.pay) auth codes that shape the outcome with no set-up. Listed in docs/scenarios.md."""

from __future__ import annotations

import re

from sandbox.core.outcomes import Decision, explain_auth_code, from_auth_code

# What a real Alipay payment code looks like: 16-24 digits starting 25-30.
AUTH_CODE_FORMAT = re.compile(r"^(2[5-9]|30)[0-9]{14,22}$")
BUYER_CONFIRM_SECONDS = 10  # how long (sandbox time) the buyer takes to confirm a waiting payment

# auth_code -> (outcome, detail). Every other well-formed code pays at once.
AUTH_CODES = {
    "280000000000000010": ("wait", "success"),  # 10003, the buyer confirms after 10 s
    "280000000000000011": ("wait", "fail"),  # 10003, the buyer cancels after 10 s: TRADE_CLOSED
    "280000000000000020": ("decline", "ACQ.BUYER_BALANCE_NOT_ENOUGH"),
    "280000000000000021": ("decline", "ACQ.PAYMENT_AUTH_CODE_INVALID"),  # the code expired
    "280000000000000022": ("decline", "ACQ.BUYER_ENABLE_STATUS_FORBID"),
}


def barcode_outcome(auth_code: str) -> tuple[str, str]:
    """("pay", ""), ("wait", then), ("decline", sub_code) or ("invalid", sub_code)."""
    if not AUTH_CODE_FORMAT.match(auth_code):
        return "invalid", "ACQ.PAYMENT_AUTH_CODE_INVALID"
    return AUTH_CODES.get(auth_code, ("pay", ""))


def decision(outcome: str, detail: str) -> Decision | None:
    """What an auth code says about the payment, for Sandbox.decide_payment; None for an ordinary code."""
    return from_auth_code(outcome, detail, BUYER_CONFIRM_SECONDS)


explain = explain_auth_code
