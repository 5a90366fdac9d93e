"""Delivers notifications over HTTP and runs everything the clock makes due, in a thread or on demand."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import requests

from sandbox.core.models import Attempt, Notification
from sandbox.errors import NotFound

log = logging.getLogger("paysandbox.dispatcher")
MAX_REPLY = 2000  # characters of the merchant's reply kept per attempt
SENDERS = 8  # notifications in flight at once: a slow or dead notify_url costs its own order, not everyone's


class Dispatcher:
    """Sends notification attempts and records them in the outbox.

    Several orders' notifications are in flight at once, so a slow or dead notify_url costs its own order, not
    everyone's; each order's notifications still go one after another, in the order they fell due.
    """

    def __init__(self, sandbox, timeout: float, senders: int = SENDERS) -> None:
        self._sandbox = sandbox
        self._timeout = timeout
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="paysandbox-notify")
        self._lock = threading.Lock()
        self._queues: dict[tuple, deque[tuple[str, Future]]] = {}  # orders being sent to, and what waits
        self._in_flight: set[Future] = set()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def submit(self, notification_ids: list[str]) -> list[Future]:
        """Hand due notifications to the senders; each future answers the record after its attempt (or None)."""
        futures = []
        for notification_id in notification_ids:
            try:
                record = self._sandbox.outbox.get(notification_id)
            except NotFound:  # dropped meanwhile (a reset): nothing to send
                continue
            key, future = (record.gateway, record.merchant_id, record.out_trade_no), Future()
            futures.append(future)
            future.add_done_callback(self._forget)
            with self._lock:
                self._in_flight.add(future)
                queue = self._queues.get(key)
                if queue is not None:  # a sender is at work on this order: it takes this one next
                    queue.append((notification_id, future))
                    continue
                self._queues[key] = deque([(notification_id, future)])
            self._pool.submit(self._send_in_turn, key)
        return futures

    def in_flight(self) -> list[Future]:
        with self._lock:
            return list(self._in_flight)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _send_in_turn(self, key: tuple) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                notification_id, future = queue.popleft()
            try:
                future.set_result(self.deliver(notification_id))
            except NotFound:  # reset while it was on its way
                future.set_result(None)
            except Exception:  # one broken record must not stop the others
                log.exception("delivering notification %s failed", notification_id)
                future.set_result(None)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # loopback merchants must not go through a proxy from the env
        return session

    def deliver(self, notification_id: str, trigger: str = "schedule") -> Notification:
        sandbox = self._sandbox
        if trigger == "schedule" and not sandbox.outbox.is_due(notification_id):
            return sandbox.outbox.get(notification_id)
        record = sandbox.outbox.get(notification_id)
        adapter = sandbox.gateways[record.gateway]
        # A probe is sent once: refused, as it should be, it is not tried again.
        schedule, scheduled = () if record.probe else adapter.retry_schedule, trigger == "schedule"
        shaping = record.scenario
        if scheduled and _lost_so_far(record) < shaping.get("drop", 0):
            lost = Attempt(
                at=sandbox.clock.now(),
                error=f"lost on the way (scenario {shaping['rule']}: drop {shaping['drop']}); not sent",
                rule=shaping["rule"],
                effect="lost",
            )
            return sandbox.outbox.record_attempt(notification_id, lost, schedule, scheduled=True)
        first_sent = not any(a.effect != "lost" for a in record.attempt_list)
        attempt = self._send(record, adapter, trigger)
        record = sandbox.outbox.record_attempt(notification_id, attempt, schedule, scheduled)
        if first_sent and shaping.get("duplicate"):
            for copy in range(1, shaping["duplicate"] + 1):
                attempt = self._send(record, adapter, "duplicate", f"duplicate {copy} of {shaping['duplicate']}")
                record = sandbox.outbox.record_attempt(notification_id, attempt, schedule, scheduled=False)
        return record

    def _send(self, record: Notification, adapter, trigger: str, effect: str = "") -> Attempt:
        """One HTTP attempt, recorded with the merchant's answer (or why there was none)."""
        shaping = record.scenario
        notes = "; ".join(shaping.get("notes", []))
        attempt = Attempt(
            at=self._sandbox.clock.now(),
            trigger=trigger,
            rule=shaping.get("rule", ""),
            effect="; ".join(e for e in (effect, notes) if e),
        )
        try:
            reply = self._session().post(
                record.url,
                data=record.body.encode("utf-8"),
                headers=adapter.attempt_headers(record),
                timeout=self._timeout,
                allow_redirects=False,
            )
            attempt.http_status = reply.status_code
            attempt.response_body = reply.text[:MAX_REPLY]
            attempt.acked = adapter.is_ack(record, reply.status_code, reply.text)
        except requests.RequestException as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"[:MAX_REPLY]
        return attempt


def _lost_so_far(record: Notification) -> int:
    return sum(1 for a in record.attempt_list if a.effect == "lost")


class Worker:
    """The background thread: sleeps until the next due moment (in real time), then runs what is due."""

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
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            wait = self._seconds_until_next()
            # Re-check at least once a second: the clock may be sped up or changed under us.
            self._wake.wait(1.0 if wait is None else min(wait, 1.0))
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self._run_due()
            except Exception:  # the loop must survive anything one record does
                log.exception("dispatcher run failed")
