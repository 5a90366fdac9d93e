"""The Sandbox: one object that owns the store, clock, ids, payments, outbox and dispatcher of an app."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sandbox.config import Config
from sandbox.core.clock import Clock
from sandbox.core.dispatcher import Dispatcher, Worker
from sandbox.core.ids import Ids
from sandbox.core.merchants import Merchants
from sandbox.core.models import Order, Refund
from sandbox.core.outbox import Outbox
from sandbox.core.payments import Payments
from sandbox.core.ports import GatewayAdapter
from sandbox.core.store import Store
from sandbox.core.timers import Timers
from sandbox.errors import InvalidParameter

log = logging.getLogger("paysandbox")
MAX_ADVANCE = 400 * 24 * 3600  # a little over a year: enough for any provider's schedule


class Sandbox:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = Clock(config.clock_mode, config.clock_factor)
        self.ids = Ids(config.seed)
        self.store = Store(config.data_path)
        self.timers = Timers()
        self.gateways: dict[str, GatewayAdapter] = {}
        self.merchants = Merchants(self.store)
        self.outbox = Outbox(self.store, self.clock, self.ids, self.timers)
        self.payments = Payments(self.store, self.clock, self.ids, self.timers, self._on_event)
        self.dispatcher = Dispatcher(self, timeout=config.notify_timeout)
        self._run_lock = threading.RLock()
        self._worker = Worker(self.run_due, self._seconds_until_next)
        self.timers.on_schedule(self._worker.wake)
        self.clock.on_change(self._worker.wake)

    # -- wiring --------------------------------------------------------------------------------

    def add_gateway(self, adapter: GatewayAdapter) -> None:
        self.gateways[adapter.name] = adapter

    def load(self) -> None:
        """Register the demo merchants and rebuild timers from stored state (after a restart)."""
        for adapter in self.gateways.values():
            adapter.register_demo_merchants()
        self.payments.reschedule_all()
        self.outbox.reschedule_all()

    def start(self) -> None:
        """Start the background threads: notification delivery on the clock, and the store's flush."""
        self.store.start()
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()
        self.store.close()

    # -- time ----------------------------------------------------------------------------------

    def run_due(self) -> list:
        """Run every expiry, settlement and notification attempt due now; answer the attempts made."""
        handlers = {
            "expire": self.payments.expire,
            "settle": self.payments.settle,
            "refund": self.payments.settle_due_refund,
            "notify": self.dispatcher.deliver,
        }
        delivered = []
        with self._run_lock:
            while (entry := self.timers.pop_due(self.clock.now())) is not None:
                kind, key = entry
                try:
                    result = handlers[kind](key)
                except Exception:  # one broken record must not stop the others
                    log.exception("running %s for %s failed", kind, key)
                    continue
                if kind == "notify":
                    delivered.append(result)
        return delivered

    def advance(self, seconds: float) -> list:
        """Move the clock forward, stepping through each due moment in order so retries land on time."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_ADVANCE:
            raise InvalidParameter("seconds", f"seconds must be a number from 0 to {MAX_ADVANCE}")
        with self._run_lock:
            target = self.clock.now() + timedelta(seconds=seconds)
            attempts = self.run_due()
            while (due := self.timers.next_due()) is not None and due <= target:
                self.clock.advance_to(due)
                attempts += self.run_due()
            self.clock.advance_to(target)
            attempts += self.run_due()
        return attempts

    def _seconds_until_next(self) -> float | None:
        due = self.timers.next_due()
        return None if due is None else self.clock.real_seconds_until(due)

    # -- housekeeping --------------------------------------------------------------------------

    def reset(self, merchants: bool = False) -> None:
        with self._run_lock, self.store.lock:
            self.payments.clear()
            self.outbox.clear()
            self.timers.clear()
            if merchants:
                self.merchants.clear()
                for adapter in self.gateways.values():
                    adapter.register_demo_merchants()

    def _on_event(self, event: str, order: Order, refund: Refund | None) -> None:
        adapter = self.gateways.get(order.gateway)
        draft = adapter.notification_for(event, order, refund) if adapter else None
        if draft is not None:
            self.outbox.add(order.gateway, order.merchant_id, order.out_trade_no, draft)
