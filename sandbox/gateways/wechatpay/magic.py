"""Payment codes (v3 codepay, v2 micropay) that shape the outcome with no set-up. Listed in docs/scenarios.md."""

from __future__ import annotations

import re

from sandbox.core.outcomes import Decision, explain_auth_code, from_auth_code

AUTH_CODE_FORMAT = re.compile(r"^1[0-5][0-9]{16}$")  # WeChat payment codes: 18 digits starting 10-15
BUYER_CONFIRM_SECONDS = 10

# auth_code -> (outcome, detail); every other well-formed code pays at once.
AUTH_CODES = {
    "130000000000000010": ("wait", "success"),  # USERPAYING, the buyer enters the password within 10 s
    "130000000000000011": ("wait", "fail"),  # USERPAYING, then the payment fails (PAYERROR)
    "130000000000000020": ("decline", "NOTENOUGH"),  # the buyer's balance is not enough
    "130000000000000021": ("decline", "AUTHCODEEXPIRE"),  # the code expired
}


def codepay_outcome(auth_code: str) -> tuple[str, str]:
    """("pay", ""), ("wait", then), ("decline", err_code) or ("invalid", "")."""
    if not AUTH_CODE_FORMAT.match(auth_code):
        return "invalid", ""
    return AUTH_CODES.get(auth_code, ("pay", ""))


def decision(outcome: str, detail: str) -> Decision | None:
    """What an auth code says about the payment, for Sandbox.decide_payment; None for an ordinary code."""
    return from_auth_code(outcome, detail, BUYER_CONFIRM_SECONDS)


explain = explain_auth_code
