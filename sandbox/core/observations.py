"""What the sandbox saw a merchant's integration do that its orders and notifications do not say: faulted calls.

Recorded for the integration report (core/report.py), and kept cheap: an ordinary gateway call writes nothing and
reads nothing but an in-memory set. Only a call a scenario fault hits (create, pay, refund), the first later call
about the same order (its follow-up: a query, a retry, a close), and a bill fetch write a document.

Documents (collection `observations`, per namespace): one per faulted order, keyed by its order key, holding its
faults and each one's follow-up; one per merchant for bill fetches. An order's document goes with the order when
retention purges it; one whose order never came to be (a create stopped by the fault) goes once it is as old as
retention allows. Processes sharing a store share the set of orders waiting for a follow-up through the topic
`observations:<namespace>`.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sandbox.core import scoped
from sandbox.core.clock import Clock
from sandbox.core.models import order_key
from sandbox.core.payments import COLLECTION as ORDERS
from sandbox.core.store import Store

COLLECTION = "observations"
FAULTED = ("create", "pay", "refund")  # the calls whose fault leaves the merchant unsure what happened
FOLLOW_UPS = ("query", "close", "cancel")  # besides retrying the faulted call itself
MAX_FAULTS = 20  # per order: a standing rule faulting every retry must not grow one document for ever
MAX_BILL_FETCHES = 5


def topic(namespace: str) -> str:
    return f"observations:{namespace}"


def declare_indexes(store: Store) -> None:
    scoped.declare(store, COLLECTION)


def _bills_key(gateway: str, merchant_id: str) -> str:
    return f"bills|{gateway}|{merchant_id}"


def waits_for_follow_up(doc: dict) -> bool:
    return any(fault["followed_by"] is None for fault in doc.get("faults", []))


class Observations:
    """One namespace's observations."""

    def __init__(self, store: Store, namespace: str, clock: Clock) -> None:
        self._store, self._namespace, self._clock = store, namespace, clock
        self._lock = threading.Lock()
        self._waiting: set[str] | None = None  # order keys with a fault not followed up yet (None: read it again)

    # -- recording (from the gateways' fault filter) ---------------------------------------------------

    def call(self, gateway: str, operation: str, method: str, merchant_id: str, out_trade_no: str) -> bool:
        """A gateway call about an order: the follow-up of its faults, if it had any still waiting for one. True
        for a refund retried after a fault: `refund_retried` records, once it ran, the refunds it left."""
        if not out_trade_no or not merchant_id:
            return False
        key = order_key(gateway, merchant_id, out_trade_no)
        if key not in self._waiting_keys():
            return False
        with self._store.transaction():
            doc = scoped.own(self._store.get(COLLECTION, key), self._namespace)
            if doc is None or not waits_for_follow_up(doc):
                self._discard(key)
                return False
            follow_ups = (*FOLLOW_UPS, *(f["operation"] for f in doc["faults"]))
            if operation not in follow_ups:
                return False
            followed = {"at": self._now(), "operation": operation, "method": method}
            if operation == "refund":  # what a retried refund adds is told from the refunds before and after it
                followed.update(refunds_before=self._refund_numbers(key), refunds_after=None)
            doc = {**doc, "faults": [{**f, "followed_by": f["followed_by"] or followed} for f in doc["faults"]]}
            self._store.put(COLLECTION, key, doc)
            self._store.announce(topic(self._namespace))
        self._discard(key)
        return operation == "refund"

    def refund_retried(self, gateway: str, merchant_id: str, out_trade_no: str) -> None:
        """The refund call that followed a fault up has run: keep the refunds it left (a new one: refunded twice)."""
        key = order_key(gateway, merchant_id, out_trade_no)
        with self._store.transaction():
            doc = scoped.own(self._store.get(COLLECTION, key), self._namespace)
            if doc is None:
                return
            after = self._refund_numbers(key)
            faults = [
                {**f, "followed_by": {**f["followed_by"], "refunds_after": after}}
                if f["followed_by"] and f["followed_by"].get("refunds_after", False) is None
                else f
                for f in doc["faults"]
            ]
            self._store.put(COLLECTION, key, {**doc, "faults": faults})

    def fault(self, rule_id: str, api: dict, processed: bool, context) -> None:
        """A scenario fault hit a call (a rules.Context) that leaves the merchant unsure: record it."""
        if context.operation not in FAULTED or not context.out_trade_no or not context.merchant_id:
            return
        key = order_key(context.gateway, context.merchant_id, context.out_trade_no)
        fault = {
            "at": self._now(),
            "rule": rule_id,
            "operation": context.operation,
            "method": context.method,
            "effect": describe_fault(api),
            "processed": processed,
            "followed_by": None,
        }
        with self._store.transaction():
            doc = scoped.own(self._store.get(COLLECTION, key), self._namespace) or {
                "namespace": self._namespace,
                "kind": "order",
                "gateway": context.gateway,
                "merchant_id": context.merchant_id,
                "out_trade_no": context.out_trade_no,
                "faults": [],
            }
            doc = {**doc, "faults": [*doc["faults"], fault][-MAX_FAULTS:], "last_at": fault["at"]}
            self._store.put(COLLECTION, key, doc)
            self._store.announce(topic(self._namespace))
        with self._lock:
            if self._waiting is not None:
                self._waiting.add(key)

    def bill_fetched(self, gateway: str, method: str, merchant_id: str) -> None:
        if not merchant_id:
            return
        key = _bills_key(gateway, merchant_id)
        with self._store.transaction():
            doc = scoped.own(self._store.get(COLLECTION, key), self._namespace) or {
                "namespace": self._namespace,
                "kind": "bills",
                "gateway": gateway,
                "merchant_id": merchant_id,
                "count": 0,
                "fetches": [],
            }
            fetch = {"at": self._now(), "method": method}
            doc = {**doc, "count": doc["count"] + 1, "fetches": [*doc["fetches"], fetch][-MAX_BILL_FETCHES:]}
            self._store.put(COLLECTION, key, doc)

    # -- reading (the report) -------------------------------------------------------------------------------

    def of_merchant(self, gateway: str, merchant_id: str) -> tuple[list[dict], dict | None]:
        """(the merchant's faulted orders, its bill fetches or None), as stored."""
        docs = [
            d
            for d in scoped.documents(self._store, COLLECTION, self._namespace)
            if d["gateway"] == gateway and d["merchant_id"] == merchant_id
        ]
        orders = sorted((d for d in docs if d["kind"] == "order"), key=lambda d: d["last_at"])
        bills = next((d for d in docs if d["kind"] == "bills"), None)
        return orders, bills

    # -- housekeeping ----------------------------------------------------------------------------------------

    def forget_order(self, gateway: str, merchant_id: str, out_trade_no: str) -> None:
        """The order is purged: what was observed of it goes too."""
        key = order_key(gateway, merchant_id, out_trade_no)
        if scoped.own(self._store.get(COLLECTION, key), self._namespace) is not None:
            self._store.delete(COLLECTION, key)
        self._discard(key)

    def purge_orphans(self, before: datetime | None, keep: int | None) -> int:
        """Forget faulted calls about orders that were never made (a create the fault stopped), last seen before
        `before` or beyond the `keep` most recent; answers how many went."""
        orphans = [
            d
            for d in scoped.documents(self._store, COLLECTION, self._namespace)
            if d["kind"] == "order" and self._store.get(ORDERS, _key_of(d)) is None
        ]
        orphans.sort(key=lambda d: d["last_at"], reverse=True)
        gone = 0
        for rank, doc in enumerate(orphans):
            too_old = before is not None and datetime.fromisoformat(doc["last_at"]) < before
            if too_old or (keep is not None and rank >= keep):
                self._store.delete(COLLECTION, _key_of(doc))
                self._discard(_key_of(doc))
                gone += 1
        return gone

    def clear(self) -> None:
        scoped.drop(self._store, COLLECTION, self._namespace, _stored_key)
        self.forget()

    def forget(self) -> None:
        """Read the waiting orders again on next use (another process recorded a fault or a follow-up)."""
        with self._lock:
            self._waiting = None

    # -- internals ---------------------------------------------------------------------------------------------

    def _waiting_keys(self) -> set[str]:
        waiting = self._waiting
        if waiting is None:
            docs = scoped.documents(self._store, COLLECTION, self._namespace)
            waiting = {_key_of(d) for d in docs if d["kind"] == "order" and waits_for_follow_up(d)}
            with self._lock:
                self._waiting = waiting
        return waiting

    def _discard(self, key: str) -> None:
        with self._lock:
            if self._waiting is not None:
                self._waiting.discard(key)

    def _refund_numbers(self, key: str) -> list[str]:
        order = scoped.own(self._store.get(ORDERS, key), self._namespace)
        return [r["out_refund_no"] for r in order["refunds"]] if order else []

    def _now(self) -> str:
        return self._clock.now().isoformat(timespec="seconds")


def _key_of(doc: dict) -> str:
    return order_key(doc["gateway"], doc["merchant_id"], doc["out_trade_no"])


def _stored_key(doc: dict) -> str:
    return _key_of(doc) if doc["kind"] == "order" else _bills_key(doc["gateway"], doc["merchant_id"])


def describe_fault(api: dict) -> str:
    """A scenario's api effect in a few words: `HTTP 504`, `delay 3s`, `error SYSTEM_ERROR`, `body malformed`."""
    if "status" in api:
        return f"HTTP {api['status']}"
    if api.get("disconnect"):
        return "connection dropped"
    if "error" in api:
        return f"error {api['error']}"
    if "body" in api:
        return f"body {api['body']}"
    if api.get("delay"):
        return f"answer {api['delay']}s late"
    return "api fault"
