"""A namespace: one share of a sandbox with its own merchants, orders, notifications, scenario rules and clock.

It has the attributes the gateways, pages and control API use (clock, ids, payments, outbox, scenarios, merchants,
gateways bound to it ...), so a handler runs the same whichever namespace its call was resolved to.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import timedelta

from sandbox.config import Config
from sandbox.core import ports, retention
from sandbox.core.clock import Clock
from sandbox.core.ids import Ids
from sandbox.core.merchants import Merchants
from sandbox.core.models import DEFAULT_NAMESPACE, Order, Refund
from sandbox.core.observations import Observations
from sandbox.core.outbox import Outbox
from sandbox.core.outcomes import Decision, native_code
from sandbox.core.payments import Payments
from sandbox.core.ports import GatewayAdapter
from sandbox.core.rules import Context
from sandbox.core.scenarios import Scenarios
from sandbox.core.store import Store
from sandbox.core.timers import DueEntry
from sandbox.errors import InvalidParameter

log = logging.getLogger("paysandbox")
MAX_ADVANCE = 400 * 24 * 3600  # a little over a year: enough for any provider's schedule
TAKE_AT_ONCE = 100  # due entries taken in one go: on a shared store, a burst is spread over the processes


class Namespace:
    def __init__(
        self,
        name: str,
        config: Config,
        store: Store,
        ids: Ids,
        dispatcher,
        wake: Callable[[], None],
        keep: retention.Retention | None = None,
    ) -> None:
        """`dispatcher` is the sandbox's (it delivers for every namespace); `wake` wakes its background worker;
        `keep` is the history kept (none purged without it)."""
        self.name = name
        self.retention = keep or retention.Retention(age=None, orders=None)
        self.config, self.store, self.ids, self.dispatcher = config, store, ids, dispatcher
        self.clock = Clock(config.clock_mode, config.clock_factor)
        self.due = store.due_queue(name)  # in memory, or shared by every process on the store (store/base.py)
        self.gateways: dict[str, GatewayAdapter] = {}
        self.merchants = Merchants(store, name)
        self.scenarios = Scenarios(store, name, ids, self.gateways)
        self.outbox = Outbox(store, name, self.clock, ids, self.due)
        self.payments = Payments(store, name, self.clock, ids, self.due, self._on_event)
        self.observations = Observations(store, name, self.clock)
        self._wake = wake
        self._run_lock = threading.RLock()
        self._runs = 0  # flushes and advances under way here (only changed under _run_lock)
        self.due.on_schedule(wake)
        self.clock.on_change(wake)

    def bind(self, adapter: GatewayAdapter) -> None:
        """Serve `adapter`'s gateway here: a copy of it whose `sandbox` is this namespace (its keys are shared)."""
        bound = copy.copy(adapter)
        bound.sandbox = self
        self.gateways[adapter.name] = bound

    def reschedule(self) -> None:
        """Rebuild the due queue from stored records (after a restart), unless it kept them itself."""
        if self.due.durable:
            return
        self.payments.reschedule_all()
        self.outbox.reschedule_all()

    # -- time ----------------------------------------------------------------------------------

    def run_due(self, wait: bool = True) -> list:
        """Run every expiry, settlement and notification attempt due now; answer the attempts made.

        With `wait` (flush, advance) it returns once those attempts, and any of this namespace's already on their
        way, are recorded; the background worker does not wait, so it can start the next due attempts meanwhile."""
        with self._running():
            return self._run_due(wait)

    def run_due_in_background(self) -> None:
        """The worker's turn. Skipped while a flush or advance runs here (that runs what is due, and wakes the
        worker when it ends), so one namespace's long advance never holds up another's deliveries."""
        if not self._run_lock.acquire(blocking=False):
            return
        try:
            due = self.due.next_due()
            if due is None or due > self.clock.now():
                return
            with self.due.background_turn() as granted:  # not while another process flushes or advances
                if granted:
                    self._run_due(wait=False)
        finally:
            self._run_lock.release()

    def seconds_until_due(self) -> float | None:
        """Real seconds until the next due moment; None if there is none, if only `advance` moves this clock, or
        while a flush or advance runs here."""
        due = self.due.next_due()
        if due is None or self._runs:
            return None
        return self.clock.real_seconds_until(due)

    def advance(self, seconds: float) -> list:
        """Move the clock forward, stepping through each due moment in order so retries land on time."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_ADVANCE:
            raise InvalidParameter("seconds", f"seconds must be a number from 0 to {MAX_ADVANCE}")
        with self._running():
            self.clock.reload()  # another process's advance may have ended while this one waited for its turn
            target = self.clock.now() + timedelta(seconds=seconds)
            attempts = self._run_due(wait=True)
            while (due := self.due.next_due()) is not None and due <= target:
                self.clock.advance_to(due)
                attempts += self._run_due(wait=True)
            self.clock.advance_to(target)
            attempts += self._run_due(wait=True)
            self.purge_history()
        return attempts

    def purge_history(self) -> int:
        """Forget finished orders past retention on this namespace's clock, with their notifications
        (core/retention.py)."""
        purged = retention.purge(self.payments, self.outbox, self.clock.now(), self.retention, self.observations)
        if purged:
            self.store.flush()
            log.info("purged %d finished orders of namespace %s past retention", purged, self.name)
        return purged

    @contextmanager
    def _running(self) -> Iterator[None]:
        """A flush or advance: alone in this namespace here, and (on a shared store) in every process."""
        with self._run_lock:
            outermost = not self._runs
            self._runs += 1
            try:
                with self.due.exclusive() if outermost else nullcontext():
                    yield
            finally:
                self._runs -= 1
        self._wake()  # what fell due meanwhile (a retry after an attempt) is the worker's again

    def _run_due(self, wait: bool) -> list:
        handlers = {
            "expire": self.payments.expire,
            "settle": self.payments.settle,
            "refund": self.payments.settle_due_refund,
        }
        sent = []
        earlier = self.dispatcher.in_flight(self.name) if wait else []
        while due := self._take_due():
            notifications = []
            for entry in due:
                if entry.kind == "notify":
                    notifications.append(entry)
                    continue
                try:
                    handlers[entry.kind](entry.key)
                except Exception:  # one broken record must not stop the others
                    log.exception("running %s for %s failed", entry.kind, entry.key)
                finally:
                    entry.done()
            self.store.flush()  # the expiries and settlements just made are on disk
            sent += self.dispatcher.submit(notifications)  # each entry is done once its attempt is recorded
            if wait:  # a retry falls due relative to its attempt: record these before the clock moves on
                futures.wait(sent)
        if not wait:
            return []
        futures.wait(earlier)
        return [record for record in (future.result() for future in sent) if record is not None]

    def _take_due(self) -> list[DueEntry]:
        return self.due.take_due(self.clock.now(), TAKE_AT_ONCE)

    # -- housekeeping --------------------------------------------------------------------------

    def reset(self, merchants: bool = False, clock: bool = True) -> None:
        """Drop orders, refunds, notifications and scenario rules, and put the clock back on real time (unless
        `clock` is false); with `merchants` those too (the demo merchants, which live in the default namespace, come
        back there)."""
        with self._run_lock, self.store.transaction():
            if clock:
                self.clock.reset_to_real()
            self.payments.clear()
            self.outbox.clear()
            self.scenarios.clear()
            self.observations.clear()
            self.due.clear()
            if merchants:
                self.merchants.clear()
                if self.name == DEFAULT_NAMESPACE:
                    for adapter in self.gateways.values():
                        adapter.register_demo_merchants()

    # -- outcomes --------------------------------------------------------------------------------

    def decide_payment(
        self, order: Order, method: str = "", magic: Decision | None = None, buyer: Decision | None = None
    ) -> Decision:
        """How the buyer's payment of `order` ends: a rule, a magic amount, the gateway's magic, the buyer, success."""
        self.payments.require_pending(order)  # a rule is spent only on a payment that can happen
        rule = self.scenarios.take("payment", self._context(order, "pay", method))
        decision = Decision.from_rule(rule) if rule else magic or buyer or Decision("success")
        if decision.outcome == "fail" or (decision.outcome == "pending" and decision.then == "fail"):
            decision = replace(decision, code=self._failure_code(order, decision))
        return decision

    def _failure_code(self, order: Order, decision: Decision) -> str:
        """The decision's failure code in the order's gateway's words (its generic decline when none is given)."""
        return native_code(decision.code or "declined", self.gateways[order.gateway], self.gateways)

    def apply_payment(self, order: Order, decision: Decision, buyer: dict | None = None) -> Order:
        """Carry out a decision on a pending order and answer it as it now stands."""
        key = order.key
        if decision.outcome == "success":
            return self.payments.pay(key, buyer=buyer)
        if decision.outcome == "fail":
            message = decision.message or self.gateways[order.gateway].payment_codes.get(decision.code, "")
            return self.payments.pay(key, "fail", reason=decision.code, message=message, buyer=buyer)
        if decision.outcome == "pending":
            if order.extra.get("buyerless"):  # the buyer came after all: their payment is what is pending now
                self.payments.annotate(key, buyerless=False)
            return self.payments.wait_for_buyer(key, decision.settle_after, decision.then, reason=decision.code)
        return self.payments.close(key, reason="cancelled")

    def _context(self, order: Order, operation: str, method: str = "") -> Context:
        return Context(order.gateway, operation, method, order.merchant_id, order.out_trade_no, order.amount)

    def _on_created(self, order: Order) -> None:
        """A rule naming the creation pays (or fails, or closes) the order without a buyer, settle_after later."""
        rule = self.scenarios.take("payment", self._context(order, "create", order.extra.get("method", "")))
        if rule is None:
            return
        decision = Decision.from_rule(rule)
        code = self._failure_code(order, decision)
        self.payments.wait_for_buyer(order.key, decision.settle_after, decision.outcome, reason=code)
        self.payments.annotate(order.key, buyerless=True)  # the cashier still offers to pay meanwhile

    def _on_event(self, event: str, order: Order, refund: Refund | None) -> None:
        if event == ports.CREATED:
            self._on_created(order)
            return
        adapter = self.gateways.get(order.gateway)
        draft = adapter.notification_for(event, order, refund) if adapter else None
        if draft is None:
            return
        rule = self.scenarios.take("notify", self._context(order, "notify", draft.event))
        shaping, probes = None, []
        if rule is not None:
            probes, probe_notes = _probes(adapter, draft, order, rule)
            draft, shaping = _shape(adapter, draft, order, rule)
            shaping["notes"] += probe_notes
        for probe, probe_shaping in probes:  # before the genuine one: a merchant must not act on a probe first
            self.outbox.add(order.gateway, order.merchant_id, order.out_trade_no, probe, probe_shaping)
        self.outbox.add(order.gateway, order.merchant_id, order.out_trade_no, draft, shaping)


def _shape(adapter, draft, order: Order, rule) -> tuple:
    """Apply a notify rule: message effects by the gateway, delivery effects (delay, drop, duplicate) by us."""
    effect = rule.notify
    notes: list[str] = []
    message_effects = {k: v for k, v in effect.items() if k in ("signature", "tamper", "timestamp", "merchant")}
    forged: dict = {}  # the forgeries the message carries, for the integration report (core/report.py)
    if message_effects:
        try:
            draft, notes = adapter.shape_notification(draft, order, message_effects)
        except Exception:  # a forgery that cannot be made must not lose the notification itself
            log.exception("scenario %s could not shape a %s notification", rule.id, order.gateway)
            notes = [f"{', '.join(message_effects)}: could not be applied (see the sandbox log); sent as is"]
        else:  # a gateway says in its note when an effect does not apply to it (no send time to make stale)
            inapplicable = {note.split(":")[0] for note in notes if "does not apply" in note}
            forged = {k: v for k, v in message_effects.items() if k not in inapplicable}
    shaping = {"rule": rule.id, "notes": notes}
    if forged:
        shaping["forged"] = forged
    shaping.update({k: effect[k] for k in ("delay", "drop", "duplicate") if effect.get(k)})
    return draft, shaping


def _probes(adapter, draft, order: Order, rule) -> tuple[list, list[str]]:
    """notify.probe: copies of the genuine notification signed as probe traffic, each sent once beside it (at
    the rule's delay); and a note for the genuine one when its gateway could make none."""
    count = rule.notify.get("probe", 0)
    probes = []
    for number in range(1, count + 1):
        try:
            probe, notes = adapter.shape_notification(draft, order, {"probe": f"{number} of {count}"})
        except Exception:  # the genuine notification goes out all the same
            log.exception("scenario %s could not make a %s probe", rule.id, order.gateway)
            return [], ["probe: could not be made (see the sandbox log); none sent"]
        if not probe.probe:
            return [], notes
        shaping = {"rule": rule.id, "notes": notes}
        if rule.notify.get("delay"):
            shaping["delay"] = rule.notify["delay"]
        probes.append((probe, shaping))
    return probes, []
