"""The payment state machine: create, pay, fail, close, expire, settle and refund orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sandbox.core import ports, scoped
from sandbox.core.clock import Clock
from sandbox.core.ids import Ids
from sandbox.core.models import (
    CLOSED,
    FAILED,
    PAID,
    PENDING,
    REFUND_OUTCOMES,
    REFUND_PENDING,
    REFUND_SUCCESS,
    REFUNDED,
    Order,
    Refund,
    namespace_of,
    order_key,
)
from sandbox.core.store import Store
from sandbox.core.store.base import DueQueue
from sandbox.errors import (
    InvalidParameter,
    OrderAlreadyPaid,
    OrderClosed,
    OrderMismatch,
    OrderNotFound,
    OrderStateConflict,
    RefundExceedsPaid,
    RefundMismatch,
    RefundNotFound,
)

COLLECTION = "orders"
FINISHED = (PAID, REFUNDED, CLOSED, FAILED)
EventSink = Callable[[str, Order, Refund | None], None]


def has_something_due(doc: dict) -> bool:
    """Whether the clock may still act on a stored order: it is pending (an expiry, a settlement) or holds a
    pending refund. Read from the stored document, so nothing is built for the rest."""
    return doc["status"] == PENDING or any(r["status"] == REFUND_PENDING for r in doc["refunds"])


def check_outcome(outcome: str) -> None:
    """How a payment can end when someone (a buyer, a test) says so."""
    if outcome not in ("success", "fail"):
        raise InvalidParameter("outcome", f"outcome must be 'success' or 'fail', not {outcome!r}")


def declare_indexes(store: Store) -> None:
    """The order indexes, once per store. trade_no and handles are unique across namespaces: the hosted pages find
    an order by them wherever it is."""
    store.add_index(COLLECTION, "trade_no", lambda d: [(d["gateway"], d["trade_no"])])
    store.add_index(
        COLLECTION, "refund", lambda d: [(d["gateway"], d["merchant_id"], r["out_refund_no"]) for r in d["refunds"]]
    )
    # Gateway-chosen lookup handles, e.g. a WeChat prepay_id or the token inside a code_url.
    store.add_index(COLLECTION, "handle", lambda d: [(d["gateway"], h) for h in d["extra"].get("handles", [])])
    # What the clock may still act on, by namespace, so a restart reads these and not the whole paid history.
    store.add_index(COLLECTION, "due", lambda d: [namespace_of(d)] if has_something_due(d) else [])
    scoped.declare(store, COLLECTION)


def _key_of(doc: dict) -> str:
    return order_key(doc["gateway"], doc["merchant_id"], doc["out_trade_no"])


def by_trade_no_anywhere(store: Store, gateway: str, trade_no: str) -> Order | None:
    """The order with the provider's trade_no, in whichever namespace it is (it says which)."""
    docs = store.lookup(COLLECTION, "trade_no", (gateway, trade_no))
    return Order.from_doc(docs[0]) if docs else None


def by_handle_anywhere(store: Store, gateway: str, handle: str) -> Order | None:
    docs = store.lookup(COLLECTION, "handle", (gateway, handle))
    return Order.from_doc(docs[0]) if docs else None


class Payments:
    """One namespace's orders: it reads only its own and stamps its name on what it creates."""

    def __init__(
        self, store: Store, namespace: str, clock: Clock, ids: Ids, due: DueQueue, on_event: EventSink
    ) -> None:
        self._store, self._namespace, self._clock, self._ids, self._due = store, namespace, clock, ids, due
        self._on_event = on_event

    # -- reading -------------------------------------------------------------------------------

    def find(self, gateway: str, merchant_id: str, out_trade_no: str = "", trade_no: str = "") -> Order:
        """By out_trade_no or by the provider's trade_no; raises OrderNotFound."""
        doc = None
        if out_trade_no:
            doc = self._get(order_key(gateway, merchant_id, out_trade_no))
        elif trade_no:
            docs = self._lookup("trade_no", (gateway, trade_no))
            doc = docs[0] if docs and docs[0]["merchant_id"] == merchant_id else None
        if doc is None or (trade_no and doc["trade_no"] != trade_no):
            wanted = f"out_trade_no {out_trade_no!r}" if out_trade_no else f"trade_no {trade_no!r}"
            raise OrderNotFound(f"no order with {wanted} for merchant {merchant_id}")
        return Order.from_doc(doc)

    def exists(self, gateway: str, merchant_id: str, out_trade_no: str) -> bool:
        """Whether the merchant has an order with this out_trade_no (in this namespace)."""
        return self._get(order_key(gateway, merchant_id, out_trade_no)) is not None

    def find_by_refund(self, gateway: str, merchant_id: str, out_refund_no: str) -> Order | None:
        """The order holding a refund, for providers whose refund numbers are unique per merchant (WeChat)."""
        docs = self._lookup("refund", (gateway, merchant_id, out_refund_no))
        return Order.from_doc(docs[0]) if docs else None

    def by_handle(self, gateway: str, handle: str) -> Order | None:
        docs = self._lookup("handle", (gateway, handle))
        return Order.from_doc(docs[0]) if docs else None

    def by_trade_no(self, gateway: str, trade_no: str) -> Order | None:
        docs = self._lookup("trade_no", (gateway, trade_no))
        return Order.from_doc(docs[0]) if docs else None

    def list(self, gateway: str = "", merchant_id: str = "", status: str = "") -> list[Order]:
        docs = [
            d
            for d in scoped.documents(self._store, COLLECTION, self._namespace)
            if (not gateway or d["gateway"] == gateway)
            and (not merchant_id or d["merchant_id"] == merchant_id)
            and (not status or d["status"] == status)
        ]
        docs.sort(key=lambda d: (d["created_at"], d["trade_no"]), reverse=True)
        return [Order.from_doc(d) for d in docs]

    # -- changing ------------------------------------------------------------------------------

    def create(self, draft: Order, trade_no: Callable[[], str]) -> tuple[Order, bool]:
        """Store a new pending order, or return the pending one with the same out_trade_no.

        Sending the same order again is how a buyer re-opens a cashier; sending the same number
        with a different amount is a merchant bug, refused with OrderMismatch.
        """
        with self._store.transaction():
            existing = self._get(draft.key)
            if existing is not None:
                order = Order.from_doc(existing)
                self._check_reusable(order, draft)
                return order, False
            draft.trade_no = self._unique_trade_no(draft.gateway, trade_no)
            draft.created_at = self._clock.now()
            draft.status = PENDING
            draft.namespace = self._namespace
            doc = self._save(draft)
            if draft.expires_at:  # in the transaction: an order that is not created has nothing due
                self._due.schedule(draft.expires_at, "expire", draft.key)
        self._on_event(ports.CREATED, draft, None)
        return Order.from_doc(doc), True  # as a read would answer it, without reading it back

    def pay(
        self,
        key: str,
        outcome: str = "success",
        *,
        reason: str = "",
        message: str = "",
        buyer: dict | None = None,
    ) -> Order:
        """The buyer pays (success) or the payment is declined (fail). Only a pending order can."""
        check_outcome(outcome)
        with self._store.transaction():
            order = self._load(key)
            self.require_pending(order)
            now = self._clock.now()
            order.settle_at, order.settle_outcome, order.settle_reason = None, "", ""
            if buyer:
                order.buyer.update(buyer)
            if outcome == "success":
                order.status, order.paid_at = PAID, now
                event = ports.PAID
            else:
                order.status, order.closed_at = FAILED, now
                order.failure = {"reason": reason or "declined", "message": message}
                event = ports.FAILED
            self._save(order)
        self._on_event(event, order, None)
        return order

    def wait_for_buyer(self, key: str, seconds: float, outcome: str, reason: str = "") -> Order:
        """Leave the order pending; it settles with `outcome` (success, fail or close) after `seconds`.

        `reason` is the failure code it will carry if it fails.
        """
        with self._store.transaction():
            order = self._load(key)
            self.require_pending(order)
            order.settle_at = self._clock.now() + timedelta(seconds=seconds)
            order.settle_outcome, order.settle_reason = outcome, reason
            self._save(order)
            self._due.schedule(order.settle_at, "settle", key)
        return order

    def annotate(self, key: str, **extra) -> Order:
        """Record gateway details on an order (e.g. that the buyer opened the cashier)."""
        with self._store.transaction():
            order = self._load(key)
            order.extra.update(extra)
            self._save(order)
        return order

    def mark_opened(self, order: Order, **extra) -> Order:
        """The buyer opened a hosted page of a pending order: its first moment is kept for the timeline, so only the
        first opening writes (with `extra` gateway details, if they are not already so)."""

        def done(current: Order) -> bool:
            details = all(current.extra.get(name) == value for name, value in extra.items())
            return current.status != PENDING or (bool(current.extra.get("opened_at")) and details)

        if done(order):
            return order
        with self._store.transaction():
            order = self._load(order.key)
            if not done(order):
                order.extra.setdefault("opened_at", self._clock.now().isoformat())
                order.extra.update(extra)
                self._save(order)
        return order

    def close(self, key: str, reason: str = "closed", via: str = "") -> Order:
        """Close a pending order; `via` names who asked when it was not the merchant's own call (models.VIA_*)."""
        with self._store.transaction():
            order = self._load(key)
            if order.status == CLOSED:
                raise OrderClosed(f"order {order.out_trade_no} is already closed")
            self.require_pending(order)
            order.status, order.closed_at = CLOSED, self._clock.now()
            order.settle_at, order.settle_outcome, order.settle_reason = None, "", ""
            order.failure = {"reason": reason, **({"via": via} if via else {})}
            self._save(order)
        self._on_event(ports.CLOSED, order, None)
        return order

    def refund(
        self,
        key: str,
        out_refund_no: str,
        amount: int,
        reason: str = "",
        refund_id: Callable[[], str] | None = None,
        settle_after: float | None = None,
        extra: dict | None = None,
    ) -> tuple[Order, Refund, bool]:
        """Refund part or all of what was paid. The same out_refund_no again is an idempotent repeat.

        With `settle_after` the refund is pending (as on WeChat Pay) and succeeds that many seconds later
        on the sandbox clock, unless `settle_refund` decides otherwise first.
        """
        if amount <= 0:
            raise InvalidParameter("amount", "a refund amount must be above zero")
        with self._store.transaction():
            order = self._load(key)
            existing = order.find_refund(out_refund_no)
            if existing is not None:
                if existing.amount != amount:
                    raise RefundMismatch(
                        f"refund {out_refund_no} was already made for {existing.amount} fen, "
                        f"this request asks for {amount}"
                    )
                return order, existing, False
            if order.status not in (PAID, REFUNDED):
                raise OrderStateConflict(
                    f"order {order.out_trade_no} is {order.status}, only a paid order can be refunded"
                )
            refundable = order.amount - order.refunded_amount
            if amount > refundable:
                raise RefundExceedsPaid(
                    f"refund of {amount} fen exceeds what is left to refund on {order.out_trade_no}: "
                    f"{refundable} fen (paid {order.amount}, refunded {order.refunded_amount})"
                )
            now = self._clock.now()
            refund = Refund(
                out_refund_no=out_refund_no,
                refund_id=refund_id() if refund_id else out_refund_no,
                amount=amount,
                created_at=now,
                reason=reason,
                extra=extra or {},
            )
            if settle_after is None:
                refund.status, refund.succeeded_at = REFUND_SUCCESS, now
            else:
                refund.status = REFUND_PENDING
                refund.settle_at = now + timedelta(seconds=settle_after)
            order.refunds = [*order.refund_list, refund]
            self._mark_refunded(order)
            self._save(order)
            if refund.status == REFUND_PENDING:
                self._due.schedule(refund.settle_at, "refund", f"{key}#{out_refund_no}")
        if refund.status != REFUND_PENDING:
            self._on_event(ports.REFUNDED, order, refund)
        return order, refund, True

    def settle_refund(self, key: str, out_refund_no: str, outcome: str = REFUND_SUCCESS) -> tuple[Order, Refund]:
        """A pending refund ends: success (the money reached the buyer), abnormal, or closed."""
        if outcome not in REFUND_OUTCOMES:
            raise InvalidParameter("outcome", f"a refund outcome is one of {', '.join(REFUND_OUTCOMES)}")
        with self._store.transaction():
            order = self._load(key)
            refund = order.find_refund(out_refund_no)
            if refund is None:
                raise RefundNotFound(f"no refund {out_refund_no!r} on order {order.out_trade_no}")
            if refund.status != REFUND_PENDING:
                raise OrderStateConflict(f"refund {out_refund_no} is already {refund.status}")
            refund.status, refund.settle_at, refund.settled_at = outcome, None, self._clock.now()
            refund.succeeded_at = refund.settled_at if outcome == REFUND_SUCCESS else None
            order.refunds = [refund if r.out_refund_no == out_refund_no else r for r in order.refund_list]
            self._mark_refunded(order)
            self._save(order)
        events = {REFUND_SUCCESS: ports.REFUNDED, "abnormal": ports.REFUND_ABNORMAL, "closed": ports.REFUND_CLOSED}
        self._on_event(events[outcome], order, refund)
        return order, refund

    def settle_due_refund(self, timer_key: str) -> None:
        key, out_refund_no = timer_key.rsplit("#", 1)
        with self._store.transaction():
            doc = self._get(key)
            refund = Order.from_doc(doc).find_refund(out_refund_no) if doc else None
            if refund and refund.status == REFUND_PENDING and refund.settle_at <= self._clock.now():
                self.settle_refund(key, out_refund_no)

    @staticmethod
    def _mark_refunded(order: Order) -> None:
        """Fully refunded once successful refunds add up to what was paid."""
        done = sum(r.amount for r in order.refund_list if r.status == REFUND_SUCCESS)
        if order.status in (PAID, REFUNDED):
            order.status = REFUNDED if done == order.amount else PAID

    # -- clock-driven ----------------------------------------------------------------------------

    def expire(self, key: str) -> None:
        # Transactions nest: holding one across the check and the close means nobody pays in between.
        with self._store.transaction():
            if self._pending_and_due(key, "expires_at"):
                self.close(key, reason="expired")

    def settle(self, key: str) -> None:
        with self._store.transaction():
            if order := self._pending_and_due(key, "settle_at"):
                if order.settle_outcome == "close":
                    self.close(key, reason="cancelled")
                else:
                    self.pay(key, order.settle_outcome or "success", reason=order.settle_reason or "declined")

    def _pending_and_due(self, key: str, moment_field: str) -> Order | None:
        """The order if it is still pending and its `moment_field` has come (due entries may be stale)."""
        doc = self._get(key)
        if doc is None or doc["status"] != PENDING:
            return None
        order = Order.from_doc(doc)
        moment = getattr(order, moment_field)
        return order if moment is not None and moment <= self._clock.now() else None

    def reschedule_all(self) -> None:
        """Rebuild the due queue from this namespace's stored orders with something due (after a restart)."""
        for doc in self._store.lookup(COLLECTION, "due", self._namespace):
            order = Order.from_doc(doc)
            for refund in order.refund_list:
                if refund.status == REFUND_PENDING and refund.settle_at:
                    self._due.schedule(refund.settle_at, "refund", f"{order.key}#{refund.out_refund_no}")
            if doc["status"] != PENDING:
                continue
            if order.expires_at:
                self._due.schedule(order.expires_at, "expire", order.key)
            if order.settle_at:
                self._due.schedule(order.settle_at, "settle", order.key)

    def finished(self) -> list[dict]:
        """The stored orders that are over: paid, refunded, closed or failed (as stored: nothing is built)."""
        return [doc for doc in scoped.documents(self._store, COLLECTION, self._namespace) if doc["status"] in FINISHED]

    def count_everywhere(self) -> int:
        """How many orders the store holds, in every namespace: at least this one's finished ones, and cheap to ask."""
        return self._store.count(COLLECTION)

    def forget(self, doc: dict, keep: Callable[[dict], bool]) -> bool:
        """Delete a stored order if it is still over with nothing due, unless `keep(it)`; whether it went. One
        transaction, so a refund made meanwhile keeps it."""
        key = order_key(doc["gateway"], doc["merchant_id"], doc["out_trade_no"])
        with self._store.transaction():
            doc = self._store.get(COLLECTION, key)
            if doc is None or doc["status"] not in FINISHED or has_something_due(doc) or keep(doc):
                return False
            self._store.delete(COLLECTION, key)
        return True

    def clear(self) -> None:
        scoped.drop(self._store, COLLECTION, self._namespace, _key_of)

    # -- internals ---------------------------------------------------------------------------------

    def _get(self, key: str) -> dict | None:
        return scoped.own(self._store.get(COLLECTION, key), self._namespace)

    def _lookup(self, index: str, value: tuple) -> list[dict]:
        return [d for d in self._store.lookup(COLLECTION, index, value) if scoped.own(d, self._namespace)]

    def _load(self, key: str) -> Order:
        doc = self._get(key)
        if doc is None:
            raise OrderNotFound(f"no order {key.split('|')[-1]!r}")
        return Order.from_doc(doc)

    def _save(self, order: Order) -> dict:
        doc = order.to_doc()
        self._store.put(COLLECTION, order.key, doc)
        return doc

    def _unique_trade_no(self, gateway: str, make: Callable[[], str]) -> str:
        """Unique across namespaces, so that the hosted pages find an order by it alone."""
        while True:
            candidate = make()
            if not self._store.lookup(COLLECTION, "trade_no", (gateway, candidate)):
                return candidate

    @staticmethod
    def require_pending(order: Order) -> None:
        """Raise the conflict a payment of a paid, failed or closed order meets."""
        if order.status in (PAID, REFUNDED):
            raise OrderAlreadyPaid(f"order {order.out_trade_no} is already paid")
        if order.status in (CLOSED, FAILED):
            raise OrderClosed(f"order {order.out_trade_no} is {order.status}")

    @staticmethod
    def _check_reusable(order: Order, draft: Order) -> None:
        Payments.require_pending(order)
        if order.amount != draft.amount:
            raise OrderMismatch(
                f"out_trade_no {order.out_trade_no} already exists with amount {order.amount} fen; "
                f"this request says {draft.amount} fen"
            )
