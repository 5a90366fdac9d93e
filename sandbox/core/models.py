"""The neutral domain records: orders, refunds and notifications, and their stored form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cache

PENDING, PAID, FAILED, CLOSED, REFUNDED = "pending", "paid", "failed", "closed", "refunded"
ORDER_STATUSES = (PENDING, PAID, FAILED, CLOSED, REFUNDED)

REFUND_PENDING, REFUND_SUCCESS, REFUND_ABNORMAL, REFUND_CLOSED = "pending", "success", "abnormal", "closed"
REFUND_OUTCOMES = (REFUND_SUCCESS, REFUND_ABNORMAL, REFUND_CLOSED)
# Who asked for a refund or a close: the merchant's own gateway call, or the control API acting for it (recorded as
# `via` in the refund's extra and the closed order's failure, so the integration report leaves it out).
VIA_GATEWAY, VIA_CONTROL_API = "gateway", "control_api"

# Notification delivery states (docs/protocols/control-api-contract.md#notifications): failed means the retry
# schedule is exhausted.
NOTIFY_PENDING, NOTIFY_DELIVERED, NOTIFY_FAILED = "pending", "delivered", "failed"
# What a merchant made of a probe (a copy it must refuse): refused is right, accepted is wrong.
PROBE_NOT_SENT, PROBE_REFUSED, PROBE_ACCEPTED, PROBE_UNANSWERED = (
    "not_sent_yet",
    "rightly_refused",
    "wrongly_accepted",
    "no_answer",
)


# Every per-namespace document carries its namespace; documents stored before namespaces belong to the default one.
DEFAULT_NAMESPACE = "default"
NAMESPACE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # 1 to 63 of a-z 0-9 _ -, starting with a letter or digit


def namespace_of(doc: dict) -> str:
    return doc.get("namespace", DEFAULT_NAMESPACE)


def order_key(gateway: str, merchant_id: str, out_trade_no: str) -> str:
    return f"{gateway}|{merchant_id}|{out_trade_no}"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _copy(value):
    """A stored value's own copy: its dicts and lists copied all the way down, everything else (strings, numbers,
    None) shared, as it is immutable. dataclasses.asdict deep-copies every leaf too, ten times slower."""
    kind = type(value)
    if kind is dict:
        return {name: _copy(item) for name, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind is tuple:
        return tuple(_copy(item) for item in value)
    return value


class _Record:
    """to_doc/from_doc for dataclasses whose datetime fields are listed in TIMES."""

    TIMES: tuple[str, ...] = ()

    def to_doc(self) -> dict:
        names = _names(type(self))
        doc = {name: _copy(getattr(self, name)) for name in names}
        for name in self.TIMES:
            doc[name] = _iso(doc[name])
        return doc

    @classmethod
    def from_doc(cls, doc: dict):
        known = _names(cls)
        values = {k: v for k, v in doc.items() if k in known}
        for name in cls.TIMES:
            values[name] = _time(values.get(name))
        return cls(**values)


@cache
def _names(cls: type) -> tuple[str, ...]:
    """The dataclass's field names, in order (asked once per class: dataclasses.fields builds a new tuple each call)."""
    return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]


@dataclass
class Refund(_Record):
    out_refund_no: str
    refund_id: str
    amount: int
    created_at: datetime
    status: str = "success"  # pending (money on its way), success, abnormal (did not reach the buyer), closed
    reason: str = ""
    succeeded_at: datetime | None = None
    settle_at: datetime | None = None  # when a pending refund succeeds on its own
    settled_at: datetime | None = None  # when a pending refund ended (success, abnormal or closed)
    extra: dict = field(default_factory=dict)

    TIMES = ("created_at", "succeeded_at", "settle_at", "settled_at")


@dataclass
class Order(_Record):
    gateway: str
    merchant_id: str
    out_trade_no: str
    trade_no: str
    amount: int
    created_at: datetime
    currency: str = "CNY"
    subject: str = ""
    body: str = ""
    product: str = ""  # how it was created: page, wap, precreate, create, barcode, app ...
    status: str = PENDING
    notify_url: str = ""
    return_url: str = ""
    expires_at: datetime | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None
    settle_at: datetime | None = None  # a payment waiting for the buyer settles then ...
    settle_outcome: str = ""  # ... with this outcome (success | fail | close) ...
    settle_reason: str = ""  # ... and, failing, this failure code
    failure: dict = field(default_factory=dict)  # {"reason": neutral reason, "message": ...}
    buyer: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # gateway wire details (sign_type, passback_params ...)
    refunds: list = field(default_factory=list)
    namespace: str = DEFAULT_NAMESPACE

    TIMES = ("created_at", "expires_at", "paid_at", "closed_at", "settle_at")

    @property
    def key(self) -> str:
        return order_key(self.gateway, self.merchant_id, self.out_trade_no)

    @property
    def refunded_amount(self) -> int:
        """Refunded or on its way: a pending refund already holds its share of what can be refunded."""
        return sum(r.amount for r in self.refund_list if r.status in (REFUND_PENDING, REFUND_SUCCESS))

    @property
    def refund_list(self) -> list[Refund]:
        return [r if isinstance(r, Refund) else Refund.from_doc(r) for r in self.refunds]

    def find_refund(self, out_refund_no: str) -> Refund | None:
        return next((r for r in self.refund_list if r.out_refund_no == out_refund_no), None)

    def to_doc(self) -> dict:
        doc = super().to_doc()
        doc["refunds"] = [r.to_doc() for r in self.refund_list]
        return doc

    @classmethod
    def from_doc(cls, doc: dict) -> Order:
        order = super().from_doc(doc)
        order.refunds = [Refund.from_doc(r) for r in doc.get("refunds", [])]
        return order


@dataclass
class Attempt(_Record):
    at: datetime
    http_status: int | None = None
    response_body: str = ""
    error: str = ""
    acked: bool = False
    trigger: str = "schedule"  # schedule | replay | duplicate | resend
    rule: str = ""  # the scenario rule (or magic amount) that shaped this attempt
    effect: str = ""  # what the rule did to it: lost, duplicate, a forged message ...
    # The headers this attempt sent that differ from the notification's own (WeChat v3 signs each attempt afresh):
    # what went out is the stored body with the notification's headers updated by these.
    headers: dict = field(default_factory=dict)

    TIMES = ("at",)


@dataclass
class Notification(_Record):
    id: str
    gateway: str
    merchant_id: str
    out_trade_no: str
    event: str
    url: str
    body: str  # exactly what is POSTed, every attempt (a retry is the same message)
    created_at: datetime
    next_attempt_at: datetime | None
    headers: dict = field(default_factory=dict)
    status: str = NOTIFY_PENDING
    attempts: list = field(default_factory=list)
    refund_no: str = ""
    meta: dict = field(default_factory=dict)
    scenario: dict = field(default_factory=dict)  # {"rule", "notes", "delay", "drop", "duplicate"} when shaped
    probe: bool = False  # a copy signed as the provider's probe traffic: sent once, the merchant must refuse it
    resent_from: str = ""  # the notification this one was edited from and resent (control API resend)
    edits: dict = field(default_factory=dict)  # {"fields", "signature", "notes"}: what the resend changed
    namespace: str = DEFAULT_NAMESPACE

    TIMES = ("created_at", "next_attempt_at")

    @property
    def attempt_list(self) -> list[Attempt]:
        return [a if isinstance(a, Attempt) else Attempt.from_doc(a) for a in self.attempts]

    @property
    def probe_verdict(self) -> str | None:
        """For a probe: wrongly accepted once any answer acknowledged it, rightly refused if answered otherwise."""
        if not self.probe:
            return None
        attempts = self.attempt_list
        if any(a.acked for a in attempts):
            return PROBE_ACCEPTED
        if any(a.http_status is not None for a in attempts):
            return PROBE_REFUSED
        return PROBE_UNANSWERED if attempts else PROBE_NOT_SENT

    def to_doc(self) -> dict:
        doc = super().to_doc()
        doc["attempts"] = [a.to_doc() for a in self.attempt_list]
        return doc

    @classmethod
    def from_doc(cls, doc: dict) -> Notification:
        record = super().from_doc(doc)
        record.attempts = [Attempt.from_doc(a) for a in doc.get("attempts", [])]
        return record
