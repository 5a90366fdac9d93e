"""How a payment ends, decided in one place, and how failure codes travel between gateways.

A payment's outcome comes from, in order: a scenario rule, a magic amount, a gateway's own magic value
(a barcode auth code, a test card), the buyer's choice on a hosted page, and the default (success).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.core.rules import NEUTRAL_CODES, Rule
from sandbox.errors import InvalidParameter


@dataclass(frozen=True)
class Decision:
    outcome: str  # success | fail | pending | close
    code: str = ""  # the failure code (native or neutral) of fail, or of pending that then fails
    settle_after: float = 0
    then: str = "success"  # how a pending payment ends
    source: str = "default"  # a scenario id, magic_601, the gateway magic value, buyer, default
    message: str = ""  # what the buyer saw, when it differs from the code's standard text

    @classmethod
    def from_rule(cls, rule: Rule) -> Decision:
        payment = rule.payment or {}
        return cls(
            outcome=payment["outcome"],
            code=payment.get("code", ""),
            settle_after=payment.get("settle_after", 0),
            then=payment.get("then", "success"),
            source=rule.id,
        )


def from_auth_code(outcome: str, detail: str, confirm_seconds: float) -> Decision | None:
    """What a barcode magic code says ("wait" then success/fail, or "decline" with a code); None: no opinion."""
    if outcome == "wait":
        return Decision("pending", settle_after=confirm_seconds, then=detail, source="auth_code")
    if outcome == "decline":
        return Decision("fail", detail, source="auth_code")
    return None


def explain_auth_code(decided: Decision, auth_code: str) -> str:
    """Why a barcode payment did not simply succeed, for the gateway's error message."""
    if decided.source == "auth_code":
        return f"auth_code {auth_code} is the sandbox's magic code for {decided.code or decided.then}"
    return f"decided by {decided.source} (a sandbox scenario rule or magic amount; GET /_sandbox/scenarios)"


def native_code(code: str, adapter, gateways: dict, kind: str = "payment") -> str:
    """`code` in the words of `adapter`'s gateway: its own, mapped from neutral, or from another gateway's."""
    known = adapter.payment_codes if kind == "payment" else adapter.api_errors
    if code in known:
        return code
    neutral = code if code in NEUTRAL_CODES else _neutral_of(code, gateways)
    fallback = "declined" if kind == "payment" else "system_error"
    return adapter.neutral_codes.get(neutral or fallback) or adapter.neutral_codes[fallback]


def _neutral_of(code: str, gateways: dict) -> str:
    for other in gateways.values():
        for neutral, native in other.neutral_codes.items():
            if native == code:
                return neutral
    return ""


def check_codes(rule: Rule, gateways: dict) -> None:
    """Refuse a code no gateway the rule can match knows (a typo would otherwise fall back silently)."""
    wanted = [rule.match["gateway"]] if rule.match.get("gateway") else list(gateways)
    checks = [("payment.code", (rule.payment or {}).get("code"), "payment_codes")]
    checks.append(("api.error", (rule.api or {}).get("error"), "api_errors"))
    for key, code, table in checks:
        if not code or code in NEUTRAL_CODES:
            continue
        if not any(code in getattr(gateways[name], table) for name in wanted):
            examples = ", ".join(sorted(getattr(gateways[wanted[0]], table))[:8])
            raise InvalidParameter(
                key,
                f"{key} {code!r} is not a code of {' or '.join(wanted)}; use a neutral code "
                f"({', '.join(NEUTRAL_CODES)}) or a native one such as {examples} "
                "(the docs' Scenarios page, docs/scenarios.md)",
            )
