"""Magic amounts: order amounts that shape the outcome with no call at all, the same on every gateway.

They are built-in rules, tried after the scenarios a user added (one-shot rules, standing rules, magic values, the
buyer's choice, the default: docs/protocols/control-api-contract.md#scenario-rules). Codes are neutral; each gateway
maps them to its own (docs/scenarios.md). Ordinary test amounts such as 0.01, 1.00 and 100.00 are never magic.
"""

from __future__ import annotations

from sandbox.core.rules import Rule, parse_rule

# fen -> (what happens, the rule). Kept in one band, 6.01-6.09, so no everyday test amount collides.
AMOUNTS: dict[int, tuple[str, dict]] = {
    601: (
        "the payment is declined: the buyer's balance is not enough",
        {"payment": {"outcome": "fail", "code": "balance_not_enough"}},
    ),
    602: (
        "the payment is pending, then succeeds 60 s later",
        {"payment": {"outcome": "pending", "settle_after": 60, "then": "success"}},
    ),
    603: (
        "the payment is pending, then fails 60 s later",
        {"payment": {"outcome": "pending", "settle_after": 60, "then": "fail", "code": "balance_not_enough"}},
    ),
    604: (
        "the order is paid without a buyer 30 s after it was created",
        {"match": {"operation": "create"}, "payment": {"outcome": "success", "settle_after": 30}},
    ),
    605: ("the first notification attempt is lost; the retry follows the schedule", {"notify": {"drop": 1}}),
    606: ("each notification arrives twice", {"notify": {"duplicate": 1}}),
    607: ("notifications carry an invalid signature", {"notify": {"signature": "invalid"}}),
    608: ("notifications claim 0.01 paid (tampered after signing)", {"notify": {"tamper": {"amount": 1}}}),
    609: (
        "refunds are refused: the merchant's balance is not enough",
        {"match": {"operation": "refund"}, "api": {"error": "merchant_balance_not_enough"}},
    ),
}


def rules(gateways: tuple[str, ...]) -> list[Rule]:
    built = []
    for fen, (label, spec) in AMOUNTS.items():
        match = {**spec.get("match", {}), "amount": fen}
        built.append(parse_rule({**spec, "match": match, "name": label}, gateways, f"magic_{fen}", source="magic"))
    return built


def table() -> list[dict]:
    """The control API's view: GET /_sandbox/magic."""
    return [
        {"amount": fen, "yuan": f"{fen // 100}.{fen % 100:02d}", "effect": label} for fen, (label, _) in AMOUNTS.items()
    ]
