"""The shop's own order book (TinyDB): orders, their refunds, and every state change made safe to repeat.

A notification, a duplicate of it, a replay days later and the order page's query can all report the same payment,
at the same moment, from different threads. Each change is therefore a compare-and-set under one lock: it names the
states it may leave and does nothing (answering False) when the order is already past them. That is what makes
"credit once" true however many times the news arrives.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from tinydb import Query, TinyDB

PENDING, PAID, CLOSED = "pending", "paid", "closed"
PARTIALLY_REFUNDED, REFUNDED = "partially_refunded", "refunded"
REFUND_REQUESTED, REFUND_PROCESSING, REFUND_SUCCEEDED, REFUND_FAILED = "requested", "processing", "succeeded", "failed"
REFUND_OPEN = (REFUND_REQUESTED, REFUND_PROCESSING)


class OrderError(Exception):
    """A change the order's state does not allow; the message is for the buyer or the shop's operator."""


@dataclass
class Line:
    sku: str
    name: str
    price: int  # fen
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.price * self.quantity


def total(lines: list[Line]) -> int:
    return sum(line.subtotal for line in lines)


@dataclass
class ShopRefund:
    refund_no: str  # the gateway's idempotency key (out_request_no, out_refund_no, UnionPay's refund orderId)
    amount: int
    request_id: str  # the refund form's token: the same click submitted twice is the same refund
    status: str = REFUND_REQUESTED
    created_at: str = ""
    done_at: str = ""
    reason: str = ""
    gateway_ref: str = ""  # the gateway's id of the refund, once known


@dataclass
class ShopOrder:
    no: str  # also the gateway's out_trade_no / orderId: letters and digits only, as UnionPay requires
    gateway: str
    method: str
    lines: list[Line]
    amount: int
    subject: str
    created_at: str
    expires_at: str
    status: str = PENDING
    txn_id: str = ""  # the gateway's trade number, once paid
    paid_at: str = ""
    paid_by: str = ""  # "notification" or "query": how the shop learned it was paid
    closed_at: str = ""
    close_reason: str = ""
    returned_at: str = ""  # when the buyer's browser came back (not proof of anything)
    last_query_at: str = ""
    refunds: list[ShopRefund] = field(default_factory=list)
    gateway_data: dict = field(default_factory=dict)  # what the gateway needs later (UnionPay's txnTime)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds if r.status == REFUND_SUCCEEDED)

    @property
    def refundable(self) -> int:
        """What may still be refunded: paid, less what is refunded or on its way."""
        if self.status not in (PAID, PARTIALLY_REFUNDED):
            return 0
        committed = sum(r.amount for r in self.refunds if r.status != REFUND_FAILED)
        return self.amount - committed

    def refund(self, refund_no: str) -> ShopRefund | None:
        return next((r for r in self.refunds if r.refund_no == refund_no), None)

    def to_dict(self) -> dict:
        return {**asdict(self), "refunded": self.refunded, "refundable": self.refundable}

    @classmethod
    def from_dict(cls, data: dict) -> ShopOrder:
        data = {k: v for k, v in data.items() if k not in ("refunded", "refundable")}
        data["lines"] = [Line(**line) for line in data["lines"]]
        data["refunds"] = [ShopRefund(**refund) for refund in data["refunds"]]
        return cls(**data)


def new_number(now: datetime, prefix: str = "PS") -> str:
    """PS20261122153012 + 6 random hex digits: unique, sortable, and valid on all three gateways."""
    return f"{prefix}{now:%Y%m%d%H%M%S}{secrets.token_hex(3).upper()}"


class OrderBook:
    def __init__(self, db: TinyDB, lock: threading.RLock, now: Callable[[], datetime]) -> None:
        self._orders = db.table("orders")
        self._lock = lock
        self._now = now

    def create(self, gateway: str, method: str, lines: list[Line], pay_minutes: int) -> ShopOrder:
        if not lines:
            raise OrderError("the cart is empty")
        now = self._now()
        amount = total(lines)
        names = ", ".join(f"{line.name} × {line.quantity}" if line.quantity > 1 else line.name for line in lines)
        order = ShopOrder(
            no=new_number(now),
            gateway=gateway,
            method=method,
            lines=lines,
            amount=amount,
            subject=names[:100],
            created_at=now.isoformat(),
            expires_at=(now + timedelta(minutes=pay_minutes)).isoformat(),
        )
        with self._lock:
            self._orders.insert(order.to_dict())
        return order

    def get(self, no: str) -> ShopOrder | None:
        with self._lock:
            found = self._orders.get(Query().no == no)
        return ShopOrder.from_dict(found) if found else None

    def all(self) -> list[ShopOrder]:
        with self._lock:
            rows = self._orders.all()
        return sorted((ShopOrder.from_dict(r) for r in rows), key=lambda o: o.created_at, reverse=True)

    @contextmanager
    def change(self, no: str) -> Iterator[ShopOrder]:
        """Read, change and write one order atomically (the lock is held throughout)."""
        with self._lock:
            found = self._orders.get(Query().no == no)
            if found is None:
                raise OrderError(f"no order {no}")
            order = ShopOrder.from_dict(found)
            yield order
            self._orders.update(order.to_dict(), Query().no == no)

    # -- the state changes, each safe to repeat ----------------------------------------------------------------

    def mark_paid(self, no: str, txn_id: str, paid_by: str) -> bool:
        """Credit the order; False when it was already credited (a duplicate, a replay, or the query was first)."""
        with self.change(no) as order:
            if order.status not in (PENDING, CLOSED):
                return False
            # A payment that lands after the shop closed the order is still money taken: credit it, and say so.
            if order.status == CLOSED:
                order.close_reason += " (paid after it was closed)"
            order.status, order.txn_id, order.paid_by = PAID, txn_id, paid_by
            order.paid_at = self._now().isoformat()
            return True

    def mark_closed(self, no: str, reason: str) -> bool:
        with self.change(no) as order:
            if order.status != PENDING:
                return False
            order.status, order.close_reason, order.closed_at = CLOSED, reason, self._now().isoformat()
            return True

    def note(self, no: str, **stamps: str) -> None:
        """Record when the buyer came back or the gateway was last asked (returned_at, last_query_at)."""
        with self.change(no) as order:
            for name, value in stamps.items():
                setattr(order, name, value)

    def open_refund(self, no: str, amount: int, request_id: str) -> tuple[ShopRefund, bool]:
        """The refund for this form token, made if new; (refund, created). Checks what may still be refunded."""
        with self.change(no) as order:
            existing = next((r for r in order.refunds if r.request_id == request_id), None)
            if existing:
                return existing, False
            if amount <= 0:
                raise OrderError("a refund must be at least 0.01")
            if amount > order.refundable:
                raise OrderError(f"at most {order.refundable / 100:.2f} can be refunded")
            refund = ShopRefund(
                refund_no=new_number(self._now(), "RF"),
                amount=amount,
                request_id=request_id,
                created_at=self._now().isoformat(),
            )
            order.refunds.append(refund)
            return refund, True

    def settle_refund(self, no: str, refund_no: str, status: str, gateway_ref: str = "", reason: str = "") -> bool:
        """Move a refund to processing, succeeded or failed; False if it was already there (or further)."""
        with self.change(no) as order:
            refund = order.refund(refund_no)
            if refund is None:
                raise OrderError(f"order {no} has no refund {refund_no}")
            if refund.status not in REFUND_OPEN or refund.status == status:
                return False
            refund.status = status
            refund.gateway_ref = gateway_ref or refund.gateway_ref
            if status == REFUND_FAILED:
                refund.reason = reason
            if status in (REFUND_SUCCEEDED, REFUND_FAILED):
                refund.done_at = self._now().isoformat()
            if order.refunded == order.amount:
                order.status = REFUNDED
            elif order.refunded:
                order.status = PARTIALLY_REFUNDED
            return True
