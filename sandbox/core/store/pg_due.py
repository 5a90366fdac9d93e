"""Due work shared by every process on one PostgreSQL database: rows of `due_work`, leased, announced, taken over.

Scheduling inserts a row in the store's current transaction (a rolled-back write leaves none) and sends
`NOTIFY paysandbox, 'due:<namespace>'`, delivered at commit. A process takes due rows with FOR UPDATE SKIP LOCKED,
marks them with its owner number and deletes each once done, so exactly one process runs each. No connection or
transaction stays open per item: each process's session holds an advisory lock on its owner number instead, on a
dedicated connection that also LISTENs; a row whose owner's lock is gone from pg_locks (its process died: PostgreSQL
drops the lock with the connection, at once on kill -9) is free again.

A flush or advance holds its namespace's advisory lock for its whole run; the background worker of every other
process skips the namespace meanwhile (a try-lock, shared), so an advance alone moves through its due moments.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg

from sandbox.core.store.database import advisory_key, connect
from sandbox.core.store.encoding import original_key, stored_key
from sandbox.core.timers import DueEntry

log = logging.getLogger("paysandbox.store")
CHANNEL = "paysandbox"
OWNER_CLASS = 0x70617973  # "pays": the first key of each owner's advisory lock (the second is its number)
# How long a view of what is due may be reused when no notice says it changed. Nothing announces a holder's death, so
# this is also how soon another process notices it and takes its work over.
FRESH_FOR = 1.0
LISTEN_POLL = 0.25  # seconds the listener waits for notices before checking whether it should stop
RECONNECT_AFTER = 1.0

LIVE_OWNERS = """
SELECT objid::int8 FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::int8 = %(class)s
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
FREE = f"(owner IS NULL OR owner NOT IN ({LIVE_OWNERS}))"
SCHEDULE = """
INSERT INTO due_work (namespace, kind, key, due_at) VALUES (%(namespace)s, %(kind)s, %(key)s, %(due)s)
ON CONFLICT DO NOTHING
"""
ANNOUNCE = "SELECT pg_notify(%s, %s)"
TAKE = f"""
WITH taken AS (
    SELECT id FROM due_work WHERE namespace = %(namespace)s AND due_at <= %(now)s AND {FREE}
    ORDER BY due_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
UPDATE due_work SET owner = %(owner)s FROM taken WHERE due_work.id = taken.id
RETURNING due_work.id, due_work.kind, due_work.key, due_work.due_at
"""
DONE = "DELETE FROM due_work WHERE id = %s AND owner = %s"
EARLIEST = f"SELECT namespace, min(due_at) FROM due_work WHERE {FREE} GROUP BY namespace"
CLEAR = "DELETE FROM due_work WHERE namespace = %s"


class PgDue:
    """One store's share of the due work: its owner number and lock, its listener, its view of what is due."""

    def __init__(self, store, url: str, rebuild: bool) -> None:
        """`store` is the PgStore (its transactions and pool); `rebuild`: the database had documents before it had
        due rows (an older schema), so this process reschedules them from the documents once."""
        self._store, self._url, self.rebuild = store, url, rebuild
        self._lock = threading.Lock()  # the dedicated connection and the owner number
        self._conn: psycopg.Connection | None = None
        self._owner = 0
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        self._notice_callbacks: list[Callable[[str], None]] = []
        self._view_lock = threading.Lock()
        self._view: dict[str, datetime] = {}
        self._view_at = -FRESH_FOR  # time.monotonic() of the view; it is stale from the start
        self._changes = 0  # bumped by every change heard of: a view read before the last one is stale
        self._view_changes = -1
        self._closing = threading.Event()
        self._listener: threading.Thread | None = None

    def queue(self, namespace: str) -> PgDueQueue:
        return PgDueQueue(self, self._store, namespace)

    def on_notice(self, callback: Callable[[str], None]) -> None:
        self._notice_callbacks.append(callback)

    def on_schedule(self, namespace: str, listener: Callable[[], None]) -> None:
        self._listeners.setdefault(namespace, []).append(listener)

    # -- the owner's session ---------------------------------------------------------------------

    def owner(self) -> int:
        """This process's owner number, its lock held by the dedicated connection (made at the first need)."""
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._connect()
            return self._owner

    def _connect(self) -> None:
        conn = connect(self._url)
        try:
            owner = conn.execute("SELECT nextval('due_owners')::int4").fetchone()[0]
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (OWNER_CLASS, owner))
            conn.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            conn.close()
            raise
        self._conn, self._owner = conn, owner

    def start(self) -> None:
        """Listen for notices in the background (and hold the owner lock from now on)."""
        if self._listener is not None:
            return
        self.owner()
        self._closing.clear()
        self._listener = threading.Thread(target=self._listen, name="paysandbox-due-listener", daemon=True)
        self._listener.start()

    def close(self) -> None:
        """Stop listening and end the session: what this process still holds is free for the others."""
        self._closing.set()
        if self._listener is not None:
            self._listener.join(timeout=10)
            self._listener = None
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _listen(self) -> None:
        while not self._closing.is_set():
            try:
                conn = self._conn
                if conn is None or conn.closed:
                    self.owner()
                    self.changed()  # what was heard of meanwhile is lost: look again
                    continue
                for notice in conn.notifies(timeout=LISTEN_POLL):
                    self._heard(notice.payload)
            except Exception as exc:  # psycopg.Error, or DatabaseUnusable while the server is down
                # The server restarted or the network broke: the old owner's rows are free (to us as well) once
                # PostgreSQL notices; a new session gets a new owner number.
                log.warning("lost the due-work connection (%s); reconnecting", exc)
                with self._lock:
                    if self._conn is not None:
                        self._conn.close()
                        self._conn = None
                self._closing.wait(RECONNECT_AFTER)

    def _heard(self, payload: str) -> None:
        kind, _, about = payload.partition(":")
        if kind == "due":  # due:<namespace>, or due:<namespace>:<moment> for one row scheduled (names have no ':')
            namespace, _, moment = about.partition(":")
            self.scheduled(namespace, datetime.fromisoformat(moment) if moment else None)
        for callback in self._notice_callbacks:
            try:
                callback(payload)
            except Exception:  # one listener's bug must not deafen the others
                log.exception("a notice listener failed on %r", payload)

    # -- the view of what is due -------------------------------------------------------------------

    def changed(self) -> None:
        self._changes += 1

    def scheduled(self, namespace: str, due: datetime | None = None) -> None:
        """Work was scheduled in the namespace (here, or by another process), and wake its worker. A row due at a
        known moment only moves the view's earliest moment up to it: no query (a create schedules its expiry, and
        reading the whole table again for each would cost the database more than the create); anything else makes
        the view stale."""
        with self._view_lock:
            if due is not None and self._view_changes == self._changes:
                earliest = self._view.get(namespace)
                self._view[namespace] = due if earliest is None else min(earliest, due)
            else:
                self._changes += 1
        for listener in self._listeners.get(namespace, []):
            listener()

    def earliest(self, namespace: str) -> datetime | None:
        """The earliest free row of the namespace, from a view of every namespace read at most FRESH_FOR ago and
        after the last change heard of."""
        with self._view_lock:
            if self._view_changes != self._changes or time.monotonic() - self._view_at >= FRESH_FOR:
                changes = self._changes
                with self._store.connection() as conn:
                    rows = conn.execute(EARLIEST, {"class": OWNER_CLASS}).fetchall()
                self._view, self._view_at, self._view_changes = dict(rows), time.monotonic(), changes
            return self._view.get(namespace)


class PgDueQueue:
    """One namespace's due work in `due_work` (base.DueQueue)."""

    def __init__(self, hub: PgDue, store, namespace: str) -> None:
        self._hub, self._store, self._namespace = hub, store, namespace
        self._announce = (ANNOUNCE, (CHANNEL, f"due:{namespace}"))  # the namespace's rows changed: look again

    @property
    def durable(self) -> bool:
        return not self._hub.rebuild

    def schedule(self, due: datetime, kind: str, key: str) -> None:
        row = {"namespace": self._namespace, "kind": kind, "key": stored_key(key), "due": due}
        self._store.write([(SCHEDULE, row), (ANNOUNCE, (CHANNEL, f"due:{self._namespace}:{due.isoformat()}"))])
        # Once committed this process sees it at once; the notice reaches the others (and this one a moment later).
        self._store.after_commit(lambda: self._hub.scheduled(self._namespace, due))

    def take_due(self, now: datetime, limit: int | None = None) -> list[DueEntry]:
        owner = self._hub.owner()
        params = {"namespace": self._namespace, "now": now, "limit": limit, "owner": owner, "class": OWNER_CLASS}
        with self._store.connection() as conn:  # committed at once, whatever transaction this thread is in
            rows = conn.execute(TAKE, params).fetchall()
        # What it took is no longer free, and finding nothing means the view was early: either way look again.
        self._hub.changed()
        rows.sort(key=lambda row: (row[3], row[0]))
        return [DueEntry(kind, original_key(key), due, self._done(row_id, owner)) for row_id, kind, key, due in rows]

    def _done(self, row_id: int, owner: int) -> Callable[[], None]:
        def done() -> None:
            with self._store.connection() as conn:
                conn.execute(DONE, (row_id, owner))

        return done

    def next_due(self) -> datetime | None:
        return self._hub.earliest(self._namespace)

    def clear(self) -> None:
        self._store.write([(CLEAR, (self._namespace,)), self._announce])
        self._store.after_commit(self._hub.changed)

    def on_schedule(self, listener: Callable[[], None]) -> None:
        self._hub.on_schedule(self._namespace, listener)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The namespace's advance lock, held on a pooled connection of its own until the flush or advance ends."""
        lock = advisory_key("advance", self._namespace)
        with self._store.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))

    @contextmanager
    def background_turn(self) -> Iterator[bool]:
        """Shared with every other background worker, never with a flush or advance (which waits for it)."""
        lock = advisory_key("advance", self._namespace)
        with self._store.connection() as conn:
            granted = conn.execute("SELECT pg_try_advisory_lock_shared(%s)", (lock,)).fetchone()[0]
            try:
                yield granted
            finally:
                if granted:
                    conn.execute("SELECT pg_advisory_unlock_shared(%s)", (lock,))
