"""Delivers notifications over HTTP and runs everything the clock makes due, in a thread or on demand."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import requests

from sandbox.core.models import Attempt, Notification

log = logging.getLogger("paysandbox.dispatcher")
MAX_REPLY = 2000  # characters of the merchant's reply kept per attempt


class Dispatcher:
    """Sends one notification attempt at a time and records it in the outbox."""

    def __init__(self, sandbox, timeout: float) -> None:
        self._sandbox = sandbox
        self._timeout = timeout
        self._local = threading.local()

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
        schedule, scheduled = adapter.retry_schedule, trigger == "schedule"
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
