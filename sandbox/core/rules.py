"""Scenario rules: parse and validate them (naming the bad key), and decide which call they match.

A rule is data (docs/protocols/control-api-contract.md#scenario-rules): a `match`, an optional `times`, and at least
one effect among `payment`, `notify` and `api`. Parsing is strict so a typo never silently turns a rule into a no-op.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from sandbox.errors import InvalidParameter

EFFECTS = ("payment", "notify", "api")
PAYMENT_OUTCOMES = ("success", "fail", "pending", "close")
SETTLED_OUTCOMES = ("success", "fail")
API_STATUSES = (500, 502, 503, 504)
API_BODIES = ("malformed", "unsigned", "invalid_signature", "probe")
MAX_SECONDS = 400 * 24 * 3600
MAX_API_DELAY = 300  # real seconds: long enough to outlast any client timeout
MAX_COPIES = 20
# The neutral names a rule's match.operation may use on every gateway; each adapter's `rule_methods` adds its own.
NEUTRAL_OPERATIONS = ("create", "pay", "query", "close", "cancel", "refund", "bill", "keys", "notify")
# How a buyer pays where no wire call says it: on a hosted page, or through POST /_sandbox/orders/.../pay.
BUYER_CHANNELS = ("cashier", "control_api")

# Failure codes a rule may give in neutral words; each gateway maps them to its own code.
NEUTRAL_CODES = (
    "declined",  # a payment refused, no reason given
    "balance_not_enough",  # the buyer's balance (payment)
    "merchant_balance_not_enough",  # the merchant's balance (refund)
    "system_error",
    "risk_rejected",
    "card_expired",
)


@dataclass(frozen=True)
class Context:
    """What a rule is matched against: one call, one payment, or one notification."""

    gateway: str
    # Neutral: create, pay, query, close, cancel, refund, bill, keys or notify
    # (docs/protocols/control-api-contract.md#scenario-rules).
    operation: str
    method: str = ""  # the wire method or event, e.g. alipay.trade.query, TRANSACTION.SUCCESS
    merchant_id: str = ""
    out_trade_no: str = ""
    amount: int | None = None


@dataclass
class Rule:
    id: str
    match: dict = field(default_factory=dict)
    times: int | None = None
    payment: dict | None = None
    notify: dict | None = None
    api: dict | None = None
    name: str = ""
    source: str = "api"
    seq: int = 0
    remaining: dict = field(default_factory=dict)  # effect -> uses left (absent when `times` is None)

    def has(self, effect: str) -> bool:
        return getattr(self, effect) is not None and (self.times is None or self.remaining.get(effect, 0) > 0)

    def matches(self, effect: str, ctx: Context) -> bool:
        return self.matches_whatever_amount(effect, ctx) and _amount_matches(self.match.get("amount"), ctx.amount)

    def matches_whatever_amount(self, effect: str, ctx: Context) -> bool:
        if not self.has(effect):
            return False
        match = self.match
        operation = match.get("operation")
        if operation and operation not in (ctx.operation, ctx.method):
            return False
        if effect == "payment" and ctx.operation == "create" and not operation:
            return False  # payment rules act when the buyer pays, unless they name the creation explicitly
        if match.get("gateway") and match["gateway"] != ctx.gateway:
            return False
        if match.get("merchant_id") and match["merchant_id"] != ctx.merchant_id:
            return False
        return not (match.get("out_trade_no") and not fnmatchcase(ctx.out_trade_no, match["out_trade_no"]))

    @property
    def left(self) -> int | None:
        """The contract's single `remaining`: uses left of the effect that has the most (None: until deleted)."""
        return None if self.times is None else max(self.remaining.values(), default=0)

    def view(self) -> dict:
        body = {"id": self.id}
        if self.name:
            body["name"] = self.name
        body["match"] = self.match
        body["times"] = self.times
        for effect in EFFECTS:
            if getattr(self, effect) is not None:
                body[effect] = getattr(self, effect)
        body["remaining"] = self.left
        if self.times is not None:
            body["remaining_by_effect"] = dict(self.remaining)
        body["source"] = self.source
        return body

    def to_doc(self) -> dict:
        return {**self.view(), "seq": self.seq, "remaining_by_effect": dict(self.remaining)}

    @classmethod
    def from_doc(cls, doc: dict) -> Rule:
        return cls(
            id=doc["id"],
            match=doc.get("match", {}),
            times=doc.get("times"),
            payment=doc.get("payment"),
            notify=doc.get("notify"),
            api=doc.get("api"),
            name=doc.get("name", ""),
            source=doc.get("source", "api"),
            seq=doc.get("seq", 0),
            remaining=doc.get("remaining_by_effect", {}),
        )


def _amount_matches(wanted, amount: int | None) -> bool:
    if wanted is None:
        return True
    if amount is None:
        return False
    if isinstance(wanted, int):
        return amount == wanted
    return wanted.get("min", 0) <= amount <= wanted.get("max", amount)


# -- parsing ------------------------------------------------------------------------------------------


def parse_rule(payload, gateways: tuple[str, ...], rule_id: str = "", source: str = "api") -> Rule:
    """A Rule from its JSON form; InvalidParameter (a 400) names the first key that cannot be understood."""
    if not isinstance(payload, dict):
        raise InvalidParameter("rule", "a scenario rule must be a JSON object")
    _known_keys(payload, ("name", "match", "times", *EFFECTS, "id", "remaining", "remaining_by_effect", "source"), "")
    if not any(payload.get(e) is not None for e in EFFECTS):
        raise InvalidParameter("rule", "a rule needs at least one effect: payment, notify or api")
    name = payload.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise InvalidParameter("name", "name must be a string of at most 200 characters")
    times = payload.get("times")
    if times is not None and (not _is_int(times) or not 1 <= times <= 1_000_000):
        raise InvalidParameter("times", "times must be a whole number from 1 to 1000000, or absent (until deleted)")
    match = _parse_match(payload.get("match", {}), gateways)
    rule = Rule(
        id=rule_id,
        match=match,
        times=times,
        payment=_parse_payment(payload["payment"], match) if payload.get("payment") is not None else None,
        notify=_parse_notify(payload["notify"]) if payload.get("notify") is not None else None,
        api=_parse_api(payload["api"]) if payload.get("api") is not None else None,
        name=name,
        source=source,
    )
    if times is not None:
        rule.remaining = {e: times for e in EFFECTS if getattr(rule, e) is not None}
    return rule


def _parse_match(match, gateways: tuple[str, ...]) -> dict:
    if not isinstance(match, dict):
        raise InvalidParameter("match", "match must be a JSON object")
    _known_keys(match, ("gateway", "merchant_id", "out_trade_no", "amount", "operation"), "match.")
    parsed: dict = {}
    if "gateway" in match:
        if match["gateway"] not in gateways:
            raise InvalidParameter("match.gateway", f"match.gateway must be one of {', '.join(gateways)}")
        parsed["gateway"] = match["gateway"]
    for key in ("merchant_id", "out_trade_no", "operation"):
        if key in match:
            value = match[key]
            if not isinstance(value, str) or not value or len(value) > 128:
                raise InvalidParameter(f"match.{key}", f"match.{key} must be a non-empty string")
            parsed[key] = value
    if "amount" in match:
        parsed["amount"] = _parse_amount(match["amount"])
    return parsed


def _parse_amount(value) -> int | dict:
    if _is_int(value) and value >= 0:
        return value
    if isinstance(value, dict):
        _known_keys(value, ("min", "max"), "match.amount.")
        if not value or not all(_is_int(v) and v >= 0 for v in value.values()):
            raise InvalidParameter("match.amount", "match.amount range needs min and/or max in fen (integers)")
        if value.get("min", 0) > value.get("max", value.get("min", 0)):
            raise InvalidParameter("match.amount", "match.amount.min is above match.amount.max")
        return dict(value)
    raise InvalidParameter(
        "match.amount", 'match.amount is an integer in fen (1234 for 12.34) or {"min": ..., "max": ...}'
    )


def _parse_payment(payment, match: dict) -> dict:
    if not isinstance(payment, dict):
        raise InvalidParameter("payment", "payment must be a JSON object")
    _known_keys(payment, ("outcome", "code", "settle_after", "then"), "payment.")
    outcome = payment.get("outcome")
    if outcome not in PAYMENT_OUTCOMES:
        raise InvalidParameter("payment.outcome", f"payment.outcome must be one of {', '.join(PAYMENT_OUTCOMES)}")
    parsed: dict = {"outcome": outcome}
    if "code" in payment:
        code = payment["code"]
        if not isinstance(code, str) or not code or len(code) > 64:
            raise InvalidParameter("payment.code", "payment.code must be a gateway failure code such as NOTENOUGH")
        if outcome not in ("fail", "pending"):
            raise InvalidParameter("payment.code", "payment.code goes with outcome fail (or pending, then fail)")
        parsed["code"] = code
    if "then" in payment:
        if outcome != "pending":
            raise InvalidParameter("payment.then", "payment.then goes with outcome pending")
        if payment["then"] not in SETTLED_OUTCOMES:
            raise InvalidParameter("payment.then", "payment.then must be success or fail")
        parsed["then"] = payment["then"]
    if "settle_after" in payment:
        parsed["settle_after"] = _seconds(payment["settle_after"], "payment.settle_after", MAX_SECONDS)
    elif outcome == "pending":
        parsed["settle_after"] = 30
    if outcome == "pending":
        parsed.setdefault("then", "success")
    if "settle_after" in parsed and outcome not in ("pending",) and not match.get("operation"):
        raise InvalidParameter(
            "payment.settle_after",
            "settle_after goes with outcome pending, or with match.operation create (paid without a buyer)",
        )
    if match.get("operation") == "create" and outcome == "pending":
        raise InvalidParameter("payment.outcome", "an order paid without a buyer settles: success, fail or close")
    return parsed


def _parse_notify(notify) -> dict:
    if not isinstance(notify, dict) or not notify:
        raise InvalidParameter("notify", "notify must be a non-empty JSON object")
    known = ("delay", "drop", "duplicate", "probe", "signature", "tamper", "timestamp", "merchant")
    _known_keys(notify, known, "notify.")
    parsed: dict = {}
    if "delay" in notify:
        parsed["delay"] = _seconds(notify["delay"], "notify.delay", MAX_SECONDS)
    for key in ("drop", "duplicate", "probe"):
        if key in notify:
            if not _is_int(notify[key]) or not 0 <= notify[key] <= MAX_COPIES:
                raise InvalidParameter(f"notify.{key}", f"notify.{key} must be a whole number from 0 to {MAX_COPIES}")
            parsed[key] = notify[key]
    choices = {"signature": ("invalid", "missing"), "timestamp": ("stale",), "merchant": ("wrong",)}
    for key, allowed in choices.items():
        if key in notify:
            if notify[key] not in allowed:
                raise InvalidParameter(f"notify.{key}", f"notify.{key} must be {' or '.join(allowed)}")
            parsed[key] = notify[key]
    if "tamper" in notify:
        tamper = notify["tamper"]
        if not isinstance(tamper, dict) or not tamper:
            raise InvalidParameter("notify.tamper", 'notify.tamper maps fields to new values, e.g. {"amount": 99900}')
        for key, value in tamper.items():
            # NaN and Infinity parse from JSON but cannot be answered as JSON: refuse them like any non-number.
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (isinstance(value, str) or (number and math.isfinite(value))):
                raise InvalidParameter(f"notify.tamper.{key}", f"notify.tamper.{key} must be a string or a number")
        if "amount" in tamper and (not _is_int(tamper["amount"]) or tamper["amount"] < 0):
            raise InvalidParameter("notify.tamper.amount", "notify.tamper.amount is in fen: a whole number, e.g. 1")
        parsed["tamper"] = dict(tamper)
    return parsed


def _parse_api(api) -> dict:
    if not isinstance(api, dict) or not api:
        raise InvalidParameter("api", "api must be a non-empty JSON object")
    _known_keys(api, ("status", "delay", "error", "body", "disconnect", "processed"), "api.")
    parsed: dict = {}
    if "status" in api:
        if api["status"] not in API_STATUSES:
            raise InvalidParameter("api.status", f"api.status must be one of {', '.join(map(str, API_STATUSES))}")
        parsed["status"] = api["status"]
    if "delay" in api:
        parsed["delay"] = _seconds(api["delay"], "api.delay", MAX_API_DELAY)
    if "error" in api:
        if not isinstance(api["error"], str) or not api["error"] or len(api["error"]) > 64:
            raise InvalidParameter("api.error", "api.error is a gateway error code such as ACQ.SYSTEM_ERROR")
        parsed["error"] = api["error"]
    if "body" in api:
        if api["body"] not in API_BODIES:
            raise InvalidParameter("api.body", f"api.body must be one of {', '.join(API_BODIES)}")
        parsed["body"] = api["body"]
    if "disconnect" in api:
        if api["disconnect"] is not True:
            raise InvalidParameter("api.disconnect", "api.disconnect must be true (or left out)")
        parsed["disconnect"] = True
    answers = [k for k in ("status", "error", "body", "disconnect") if k in parsed]
    if len(answers) > 1:
        raise InvalidParameter(f"api.{answers[1]}", f"api takes one of status, error, body, disconnect, not {answers}")
    if "processed" in api:
        if not isinstance(api["processed"], bool):
            raise InvalidParameter("api.processed", "api.processed must be true or false")
        parsed["processed"] = api["processed"]
    if parsed.get("processed") is False and not any(k in parsed for k in ("status", "error", "disconnect")):
        raise InvalidParameter(
            "api.processed", "processed false goes with status, error or disconnect: a body is spoiled once it exists"
        )
    if not answers and "delay" not in parsed:
        raise InvalidParameter("api", "api needs one of status, delay, error, body, disconnect")
    return parsed


def check_probes(rule: Rule, gateways: dict) -> None:
    """Refuse probe traffic (notify.probe, api.body probe) unless the rule names a gateway that sends it.

    Only some providers probe merchants (WeChat Pay API v3, 签名探测); their adapters say so with
    `probe_traffic = True`. For any other gateway the rule would silently do nothing.
    """
    asked = []
    if (rule.notify or {}).get("probe"):
        asked.append("notify.probe")
    if (rule.api or {}).get("body") == "probe":
        asked.append("api.body")
    senders = sorted(name for name, adapter in gateways.items() if getattr(adapter, "probe_traffic", False))
    if asked and rule.match.get("gateway") not in senders:
        only = " and ".join(senders) or "no gateway here"
        message = f"{asked[0]} is probe traffic, which only {only} sends: name it in match.gateway"
        raise InvalidParameter(asked[0], message)


def check_operation(rule: Rule, gateways: dict) -> None:
    """Refuse a match.operation no gateway the rule can match knows: a typo would make the rule never match."""
    operation = rule.match.get("operation")
    if operation is None or operation in NEUTRAL_OPERATIONS or operation in BUYER_CHANNELS:
        return
    wanted = [rule.match["gateway"]] if rule.match.get("gateway") else list(gateways)
    if any(operation in gateways[name].rule_methods for name in wanted):
        return
    known = [f"every gateway: {', '.join(NEUTRAL_OPERATIONS + BUYER_CHANNELS)}"]
    known += [f"{name}: {', '.join(gateways[name].rule_methods)}" for name in wanted]
    raise InvalidParameter(
        "match.operation",
        f"match.operation {operation!r} is not an operation of {' or '.join(wanted)}; known operations: "
        + "; ".join(known),
    )


def processed(api: dict) -> bool:
    """Whether the call takes effect before the fault: a proxy error or a system error stop it first."""
    if "processed" in api:
        return api["processed"]
    return not ("error" in api or api.get("status") in (500, 502, 503))


def _known_keys(value: dict, known: tuple[str, ...], prefix: str) -> None:
    for key in value:
        if key not in known:
            raise InvalidParameter(f"{prefix}{key}", f"unknown key {prefix}{key}; known keys: {', '.join(known)}")


def _seconds(value, name: str, limit: float) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= limit:
        raise InvalidParameter(name, f"{name} must be a number of seconds from 0 to {limit}")
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
