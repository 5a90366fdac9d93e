"""Bounded history: finished orders past the retention window are purged with their notifications, nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sandbox.core.observations import Observations
from sandbox.core.outbox import Outbox, is_pending
from sandbox.core.payments import Payments

DURATION = re.compile(r"(?:[0-9]+[smhd]?)+")
PART = re.compile(r"([0-9]+)([smhd]?)")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
OFF = ("0", "off", "none")
# Per namespace's payments, from its last full pass in this process: (the clock then, the earliest last activity of the
# finished orders it kept, None if it kept none). Reading every finished order each minute costs seconds with a long
# history kept by age alone; what this says spares it while nothing can have aged past the window since.
_last_pass: WeakKeyDictionary[Payments, tuple[datetime, datetime | None]] = WeakKeyDictionary()


@dataclass(frozen=True)
class Retention:
    """How much finished history is kept: orders active within `age` on the sandbox clock (None: any age), and at
    most the `orders` most recently active of them (None: any number)."""

    age: timedelta | None
    orders: int | None

    @classmethod
    def parse(cls, age: str, orders: int) -> Retention:
        """From SANDBOX_RETENTION (7d, 12h, 90m, 3600, 1d12h; 0 or off keeps any age) and SANDBOX_RETENTION_ORDERS
        (0 keeps any number). Raises ValueError saying what is wrong."""
        text = str(age).strip().lower()
        if text not in OFF and not DURATION.fullmatch(text):
            raise ValueError(f"retention {age!r} is not an age: give 7d, 12h, 90m, 3600 seconds, or off")
        if isinstance(orders, bool) or not isinstance(orders, int) or orders < 0:
            raise ValueError(f"retention orders {orders!r} is not a count: give a whole number, or 0 for no limit")
        seconds = 0 if text in OFF else sum(int(n) * UNITS[unit] for n, unit in PART.findall(text))
        return cls(timedelta(seconds=seconds) if seconds else None, orders or None)

    @property
    def keeps_everything(self) -> bool:
        return self.age is None and self.orders is None


def purge(
    payments: Payments, outbox: Outbox, now: datetime, retention: Retention, observations: Observations | None = None
) -> int:
    """Forget the finished orders (paid, refunded, closed, failed) last active before `now - age`, or beyond the
    `orders` most recently active, with their notifications and what was observed of them; only those with nothing
    due (no pending refund, settlement or notification). Answers how many orders went. One namespace's payments,
    outbox and observations, on its clock."""
    if retention.keeps_everything:
        return 0
    purged = 0
    if not _nothing_to_purge(payments, now, retention):
        purged = _purge_orders(payments, outbox, now, retention, observations)
    if observations is not None:  # faulted calls about orders never made age out the same way
        before = now - retention.age if retention.age is not None else None
        observations.purge_orphans(before, retention.orders)
    return purged


def _purge_orders(
    payments: Payments, outbox: Outbox, now: datetime, retention: Retention, observations: Observations | None
) -> int:
    """The full pass: every finished order read, ranked by last activity, and those past retention forgotten."""
    newest_first = sorted(((last_active(doc), doc) for doc in payments.finished()), key=lambda pair: pair[0])[::-1]
    purged, earliest_kept = 0, None
    for rank, (active, doc) in enumerate(newest_first):
        too_old = retention.age is not None and active < now - retention.age
        too_many = retention.orders is not None and rank >= retention.orders
        if (too_old or too_many) and payments.forget(doc, keep=lambda current: _notifications_pending(outbox, current)):
            for notification in _notifications(outbox, doc):  # none can be added now: its order is gone
                outbox.forget(notification["id"])
            if observations is not None:
                observations.forget_order(doc["gateway"], doc["merchant_id"], doc["out_trade_no"])
            purged += 1
        else:
            earliest_kept = active  # newest first: the last one kept is the earliest
    _last_pass[payments] = (now, earliest_kept)
    return purged


def _nothing_to_purge(payments: Payments, now: datetime, retention: Retention) -> bool:
    """Whether no finished order can be past retention, known without reading them: no more orders stored (in any
    namespace) than the count kept, and none aged past the window since the last full pass. An order finished or
    refunded since was last active then or later, as the clock moves forward (one set back to before then makes a
    full pass; one set back less at worst keeps an order a little past its window)."""
    if retention.orders is not None and payments.count_everywhere() > retention.orders:
        return False
    if retention.age is None:
        return True
    last = _last_pass.get(payments)
    if last is None or now < last[0]:
        return False
    then, earliest_kept = last
    return min(then, earliest_kept or then) >= now - retention.age


def _notifications(outbox: Outbox, order: dict) -> list[dict]:
    return outbox.of_order(order["gateway"], order["merchant_id"], order["out_trade_no"])


def _notifications_pending(outbox: Outbox, order: dict) -> bool:
    return any(is_pending(notification) for notification in _notifications(outbox, order))


def last_active(doc: dict) -> datetime:
    """When a stored order last changed: created, paid, closed, or a refund made or completed."""
    moments = [doc["created_at"], doc["paid_at"], doc["closed_at"]]
    for refund in doc["refunds"]:
        moments += [refund["created_at"], refund["succeeded_at"]]
    return max(datetime.fromisoformat(moment) for moment in moments if moment)
