"""Everything that becomes due on a namespace's clock: order expiries, settlements, notification attempts.

The store hands out each namespace's due queue (`store.due_queue(name)`, store/base.py's DueQueue): this in-memory
heap for the embedded store, rebuilt from the stored records at start-up; a table shared by every process on a
PostgreSQL database (store/pg_due.py). Either way a stale entry is harmless: each handler re-checks its record
before acting.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class DueEntry:
    """One piece of due work as taken: `done()` once it has run (for a notification: once its attempt is
    recorded), so that a shared queue can let go of it."""

    kind: str
    key: str
    due: datetime
    done: Callable[[], None] = field(default=_nothing, compare=False)


class Timers:
    """One process's due work, in memory (DueQueue): nothing else takes it, so nothing is leased."""

    durable = False  # rebuilt from the stored records at start (Namespace.reschedule)

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str, str]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def schedule(self, due: datetime, kind: str, key: str) -> None:
        """Queue the work; the listeners hear of it only when it is the new earliest (a worker asleep until the
        earliest wakes then anyway): an order's expiry two hours ahead wakes nobody."""
        with self._lock:
            earliest = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._seq), kind, key))
        if earliest:
            for listener in self._listeners:
                listener()

    def take_due(self, now: datetime, limit: int | None = None) -> list[DueEntry]:
        taken: list[DueEntry] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now and (limit is None or len(taken) < limit):
                due, _, kind, key = heapq.heappop(self._heap)
                taken.append(DueEntry(kind, key, due))
        return taken

    def next_due(self) -> datetime | None:
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()

    def on_schedule(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def exclusive(self):
        """A flush or advance: in one process the namespace's own lock already makes it the only one running."""
        return nullcontext()

    @contextmanager
    def background_turn(self) -> Iterator[bool]:
        """The background worker's turn: always granted (nobody elsewhere advances this namespace)."""
        yield True

    def __len__(self) -> int:
        return len(self._heap)
