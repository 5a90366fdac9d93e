"""Delivers notifications over HTTP and runs everything the clock makes due, in a thread or on demand."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from sandbox.core import destinations, notify_http, notify_pool
from sandbox.core.clock import Clock
from sandbox.core.destinations import Allowlist, DeliveryFailed
from sandbox.core.models import Attempt, Notification
from sandbox.core.senders import Senders
from sandbox.core.timers import DueEntry
from sandbox.errors import NotFound

log = logging.getLogger("paysandbox.dispatcher")
MAX_REPLY = 2000  # characters of the merchant's reply kept per attempt


class Dispatcher:
    """Sends notification attempts and records them in the outbox.

    Attempts go out on shared sender threads (sandbox/core/senders.py): each order's notifications one after
    another, in the order they fell due, and a slow or dead notify_url costs its own deliveries, not everyone's.
    Each attempt has one deadline (`timeout`) for all of it, reads a bounded reply, and reaches only what `allow`
    lets it (None: any destination).
    """

    def __init__(self, sandbox, timeout: float, allow: Allowlist | None = None) -> None:
        """`sandbox` tells the namespace of each notification: its outbox, clock and gateways deliver it."""
        self._sandbox = sandbox
        self._timeout = timeout
        self._allow = allow
        self._senders = Senders(self.deliver)
        self._flights: dict[Future, str] = {}  # attempts on their way -> their namespace
        self._flights_lock = threading.Lock()

    def close(self) -> None:
        self._senders.close()
        notify_pool.IDLE.close_all()

    def also_allow(self, entry: str) -> None:
        """Add one host, host:port or CIDR entry to the allow list, if there is one (the demo adds its shop)."""
        if self._allow is not None:
            self._allow = self._allow.extended(entry)

    def submit(self, due: list[DueEntry]) -> list[Future]:
        """Hand due notifications to the senders; each future answers the record after its attempt (or None), and
        each entry is done once its attempt is recorded (or there is nothing to send)."""
        futures = []
        for entry in due:
            notification_id = entry.key
            try:
                space = self._namespace(notification_id)
                record = space.outbox.get(notification_id)
            except NotFound:  # dropped meanwhile (a reset): nothing to send
                entry.done()
                continue
            order = (record.gateway, record.merchant_id, record.out_trade_no)
            future = self._senders.submit(order, notification_id, _destination(record.url))
            with self._flights_lock:
                self._flights[future] = space.name
            future.add_done_callback(self._landed)
            future.add_done_callback(lambda _future, entry=entry: entry.done())
            futures.append(future)
        return futures

    def _landed(self, future: Future) -> None:
        with self._flights_lock:
            self._flights.pop(future, None)

    def in_flight(self, namespace: str) -> list[Future]:
        """The attempts of `namespace` on their way (a flush waits for its own, never for another namespace's)."""
        with self._flights_lock:
            return [future for future, name in self._flights.items() if name == namespace and not future.done()]

    def _namespace(self, notification_id: str):
        space = self._sandbox.namespace_of_notification(notification_id)
        if space is None:
            raise NotFound(f"no notification {notification_id!r}")
        return space

    def deliver(self, notification_id: str, trigger: str = "schedule") -> Notification:
        """One attempt, on the clock and with the gateways of the notification's own namespace."""
        space = self._namespace(notification_id)
        record = space.outbox.get(notification_id)
        if trigger == "schedule" and not space.outbox.is_due_record(record):
            return record
        adapter = space.gateways[record.gateway]
        # A probe is sent once: refused, as it should be, it is not tried again.
        schedule, scheduled = () if record.probe else adapter.retry_schedule, trigger == "schedule"
        shaping = record.scenario
        if scheduled and _lost_so_far(record) < shaping.get("drop", 0):
            lost = Attempt(
                at=space.clock.now(),
                error=f"lost on the way (scenario {shaping['rule']}: drop {shaping['drop']}); not sent",
                rule=shaping["rule"],
                effect="lost",
            )
            return space.outbox.record_attempt(notification_id, lost, schedule, scheduled=True)
        first_sent = not any(a.effect != "lost" for a in record.attempt_list)
        self._sandbox.store.flush()  # nothing goes out about a payment or refund that a crash could still undo
        attempt = self._send(space.clock, record, adapter, trigger)
        record = space.outbox.record_attempt(notification_id, attempt, schedule, scheduled)
        if first_sent and shaping.get("duplicate"):
            for copy in range(1, shaping["duplicate"] + 1):
                effect = f"duplicate {copy} of {shaping['duplicate']}"
                attempt = self._send(space.clock, record, adapter, "duplicate", effect)
                record = space.outbox.record_attempt(notification_id, attempt, schedule, scheduled=False)
        return record

    def _send(self, clock: Clock, record: Notification, adapter, trigger: str, effect: str = "") -> Attempt:
        """One HTTP attempt, recorded with the merchant's answer (or why there was none)."""
        shaping = record.scenario
        notes = "; ".join(shaping.get("notes", []))
        attempt = Attempt(
            at=clock.now(),
            trigger=trigger,
            rule=shaping.get("rule", ""),
            effect="; ".join(e for e in (effect, notes) if e),
        )
        headers = adapter.attempt_headers(record)
        # Kept with the attempt where they differ from the record's, so the exact request can be shown again.
        attempt.headers = {name: value for name, value in headers.items() if record.headers.get(name) != value}
        try:
            target = destinations.parse_url(record.url)
            addresses = destinations.addresses_to_reach(target, self._allow)
            body = record.body.encode("utf-8")
            reply = notify_http.post(target, addresses, body, headers, self._timeout)
        except notify_http.Incomplete as exc:
            attempt.error = str(exc)[:MAX_REPLY]
            attempt.http_status, attempt.response_body = exc.reply.status, exc.reply.text[:MAX_REPLY]
        except DeliveryFailed as exc:
            attempt.error = str(exc)[:MAX_REPLY]
        else:
            text = reply.text
            attempt.http_status, attempt.response_body = reply.status, text[:MAX_REPLY]
            attempt.acked = adapter.is_ack(record, reply.status, text)
        return attempt


def _destination(url: str) -> str:
    """host:port, or the URL itself when it has none (its attempt fails at once, costing nobody a sender)."""
    try:
        return destinations.parse_url(url).destination
    except DeliveryFailed:
        return url


def _lost_so_far(record: Notification) -> int:
    return sum(1 for a in record.attempt_list if a.effect == "lost")


class Worker:
    """The background thread: sleeps until the next due moment (in real time), then runs what is due. `wake` cuts
    the sleep short: work scheduled here, or (through the store's notices) by another process sharing the store."""

    def __init__(self, run_due: Callable[[], object], seconds_until_next: Callable[[], float | None]) -> None:
        self._run_due = run_due
        self._seconds_until_next = seconds_until_next
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="paysandbox-dispatcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        # A signal (SIGTERM at start-up) can interrupt start() before the thread runs: there is nothing to join then.
        if self._thread is not None and self._thread.ident is not None:
            self._thread.join(timeout=10)
        self._thread = None

    def wake(self) -> None:
        # Set already, the loop has yet to clear it and then run what is due, this work included; setting it again
        # would only take the event's lock and notify nobody, once per pay under load.
        if not self._wake.is_set():
            self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                wait = self._seconds_until_next()
            except Exception:  # a shared store out of reach for a moment: look again shortly
                log.exception("finding the next due moment failed")
                wait = None
            # Re-check at least once a second: the clock may be sped up or changed under us, and on a shared store a
            # process that died holding due work is noticed only by looking (nothing announces a death).
            self._wake.wait(1.0 if wait is None else min(wait, 1.0))
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self._run_due()
            except Exception:  # the loop must survive anything one record does
                log.exception("dispatcher run failed")
