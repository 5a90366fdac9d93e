"""The Sandbox: what an app shares across namespaces (config, store, ids, dispatcher, worker) and the namespaces.

moto's BackendDict is the model: state keyed by namespace, resolved once per request (by the control API's
X-Sandbox-Namespace header, by the merchant a gateway call names, by the order a hosted page shows). The
attributes code used before namespaces (clock, payments, outbox, scenarios, merchants, gateways, run_due, advance,
reset ...) are the default namespace's, so single-namespace use reads as it always did.
"""

from __future__ import annotations

import gc
import logging
import time

from sandbox.config import Config
from sandbox.core import (
    clocks,
    merchants,
    namespaces,
    observations,
    outbox,
    payments,
    retention,
    scenarios,
    storefile,
)
from sandbox.core.clock import Clock
from sandbox.core.coherence import Coherence
from sandbox.core.destinations import Allowlist
from sandbox.core.dispatcher import Dispatcher, Worker
from sandbox.core.ids import Ids
from sandbox.core.merchants import Merchants
from sandbox.core.models import Order
from sandbox.core.namespace import MAX_ADVANCE, Namespace
from sandbox.core.namespaces import Namespaces
from sandbox.core.outbox import Outbox
from sandbox.core.outcomes import Decision
from sandbox.core.payments import Payments
from sandbox.core.ports import GatewayAdapter
from sandbox.core.scenarios import Scenarios
from sandbox.core.store import open_store
from sandbox.core.store.base import DueQueue
from sandbox.core.storefile import StoreFileError

log = logging.getLogger("paysandbox")
PURGE_EVERY = 60.0  # real seconds between the background worker's purges of history past retention
__all__ = ["MAX_ADVANCE", "Sandbox"]
SEED_ON_A_SHARED_STORE = (
    "other processes are using it, and --seed (SANDBOX_SEED) repeats the same generated ids in every seeded process:"
    " processes sharing a database would collide on them",
    "drop --seed here (a seed suits one process on the database, or a file store)",
)


def _say_which_clock(clock: Clock, config: Config) -> None:
    """A process joining others keeps their clock: say so when this one's settings ask for another."""
    asked = Clock(config.clock_mode, config.clock_factor)
    if (clock.mode, clock.factor) != (asked.mode, asked.factor):
        log.warning(
            "clock: %s (factor %g), as the processes already on this database keep it; --clock %s (factor %g) is"
            " not applied (POST /_sandbox/clock changes it for them all)",
            clock.mode,
            clock.factor,
            asked.mode,
            asked.factor,
        )


class Sandbox:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.retention = retention.Retention.parse(config.retention, config.retention_orders)  # ValueError: invalid
        self.ids = Ids(config.seed)
        self.store = open_store(config.data_path)
        if config.seed is not None and self.store.joined:  # one process alone on a database may keep its seed
            self.store.close()
            raise StoreFileError(self.store.path, *SEED_ON_A_SHARED_STORE, what="the database")
        self._coherence = Coherence(self.store, self._reread)  # before anything is read from the store
        self._starting = True  # namespaces made now are those the sandbox starts with
        self.adapters: dict[str, GatewayAdapter] = {}  # unbound: each namespace serves a copy bound to it
        allow = Allowlist.parse(config.notify_allow)
        self.dispatcher = Dispatcher(self, timeout=config.notify_timeout, allow=allow)
        self._next_purge = 0.0  # time.monotonic() of the worker's next purge: the first comes at start
        self._worker = Worker(self._run_in_background, self._seconds_until_next)
        # Another process sharing the store scheduled work, moved a clock, changed the namespaces: look again.
        self.store.on_notice(lambda _payload: self._worker.wake())
        with storefile.contents_checked(self.store.path):  # the indexes read every stored document
            for module in (merchants, outbox, payments, scenarios, observations):
                module.declare_indexes(self.store)
            self.namespaces = Namespaces(self.store, self.ids, self._new_namespace)
        self._starting = False
        _say_which_clock(self.clock, config)

    def _new_namespace(self, name: str) -> Namespace:
        space = Namespace(name, self.config, self.store, self.ids, self.dispatcher, self._worker.wake, self.retention)
        # A process joining others on a shared store adopts each stored clock; one starting afresh sets them.
        clocks.share(space.clock, self.store, name, restart=self._starting and not self.store.joined)
        for adapter in self.adapters.values():
            space.bind(adapter)
        return space

    # -- in step with other processes sharing the store --------------------------------------------

    def refresh(self) -> None:
        """Before each request and worker round: re-read what another process changed (one small query when
        nothing did; nothing at all on a store of this process's own)."""
        self._coherence.refresh()

    def _reread(self, topics: set[str]) -> None:
        if namespaces.TOPIC in topics:
            self.namespaces.refresh()
        for space in self.namespaces.all():
            if clocks.topic(space.name) in topics:
                clocks.reload(space.clock, self.store, space.name)
            if scenarios.topic(space.name) in topics:
                space.scenarios.forget()
            if observations.topic(space.name) in topics:
                space.observations.forget()

    # -- wiring --------------------------------------------------------------------------------

    def add_gateway(self, adapter: GatewayAdapter) -> None:
        self.adapters[adapter.name] = adapter
        for space in self.namespaces.all():
            space.bind(adapter)

    def load(self) -> None:
        """Register the demo merchants (in the default namespace) and rebuild the due queues from stored state (where
        they do not keep it themselves)."""
        with storefile.contents_checked(self.store.path):
            for adapter in self.default.gateways.values():
                adapter.register_demo_merchants()
            for space in self.namespaces.all():
                space.reschedule()
        self.store.flush()
        if self.store.path:
            # The history just loaded lives as long as the process: full collections need not walk it again and again.
            gc.freeze()

    def start(self) -> None:
        """Start the background threads: notification delivery (and purges) on the clock, the store's file rewrite."""
        self.store.start()
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()
        self.dispatcher.close()
        self.store.close()

    # -- finding the namespace of a request ------------------------------------------------------

    def namespace_of_merchant(self, gateway: str, merchant_id: str) -> Namespace:
        """The namespace holding a merchant id; the default one for an id nobody registered (whose calls then meet
        their gateway's own "not registered" answer there)."""
        name = merchants.owner(self.store, gateway, merchant_id)
        return (self.namespaces.find(name) if name else None) or self.default

    def namespace_of_notification(self, notification_id: str) -> Namespace | None:
        name = outbox.namespace_of_notification(self.store, notification_id)
        return self.namespaces.find(name) if name else None

    def order_by_trade_no(self, gateway: str, trade_no: str) -> Order | None:
        """The order with the provider's trade_no, in whichever namespace it is (`order.namespace` says which)."""
        return payments.by_trade_no_anywhere(self.store, gateway, trade_no)

    def order_by_handle(self, gateway: str, handle: str) -> Order | None:
        return payments.by_handle_anywhere(self.store, gateway, handle)

    # -- time, across namespaces ---------------------------------------------------------------

    def _run_in_background(self) -> None:
        """The worker's round: what is due now in every namespace, and once a minute the purge of history past
        retention."""
        self.refresh()
        for space in self.namespaces.all():
            space.run_due_in_background()
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_EVERY
            for space in self.namespaces.all():
                space.purge_history()

    def _seconds_until_next(self) -> float | None:
        waits = [wait for space in self.namespaces.all() if (wait := space.seconds_until_due()) is not None]
        return min(waits, default=None)

    # -- the default namespace, as the Sandbox was before namespaces ------------------------------

    @property
    def default(self) -> Namespace:
        return self.namespaces.default

    @property
    def clock(self) -> Clock:
        return self.default.clock

    @property
    def timers(self) -> DueQueue:
        return self.default.due

    @property
    def gateways(self) -> dict[str, GatewayAdapter]:
        return self.default.gateways

    @property
    def merchants(self) -> Merchants:
        return self.default.merchants

    @property
    def scenarios(self) -> Scenarios:
        return self.default.scenarios

    @property
    def outbox(self) -> Outbox:
        return self.default.outbox

    @property
    def payments(self) -> Payments:
        return self.default.payments

    def run_due(self, wait: bool = True) -> list:
        return self.default.run_due(wait)

    def advance(self, seconds: float) -> list:
        return self.default.advance(seconds)

    def reset(self, merchants: bool = False) -> None:
        self.default.reset(merchants)

    def decide_payment(self, order: Order, method: str = "", **decisions: Decision | None) -> Decision:
        return self.default.decide_payment(order, method, **decisions)

    def apply_payment(self, order: Order, decision: Decision, buyer: dict | None = None) -> Order:
        return self.default.apply_payment(order, decision, buyer)
