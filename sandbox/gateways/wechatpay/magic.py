"""Payment codes (v3 codepay, v2 micropay) that shape the outcome with no set-up. Documented in the README."""

from __future__ import annotations

import re

from sandbox.core.outcomes import Decision

AUTH_CODE_FORMAT = re.compile(r"^1[0-5]\d{16}$")  # WeChat payment codes: 18 digits starting 10-15
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
    if outcome == "wait":
        return Decision("pending", settle_after=BUYER_CONFIRM_SECONDS, then=detail, source="auth_code")
    if outcome == "decline":
        return Decision("fail", detail, source="auth_code")
    return None


def explain(decided: Decision, auth_code: str) -> str:
    """Why a payment-code payment did not simply succeed, for the error message."""
    if decided.source == "auth_code":
        return f"auth_code {auth_code} is the sandbox's magic code for {decided.code or decided.then}"
    return f"decided by {decided.source} (a sandbox scenario rule or magic amount; GET /_sandbox/scenarios)"
