"""Everything that becomes due on the sandbox clock: order expiries, settlements, notification attempts.

Entries are derived from stored records (and rebuilt from them at start-up), so a stale entry is
harmless: each handler re-checks its record before acting.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import datetime


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str, str]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def schedule(self, due: datetime, kind: str, key: str) -> None:
        with self._lock:
            heapq.heappush(self._heap, (due, next(self._seq), kind, key))
        for listener in self._listeners:
            listener()

    def pop_due(self, now: datetime) -> tuple[str, str] | None:
        with self._lock:
            if self._heap and self._heap[0][0] <= now:
                _, _, kind, key = heapq.heappop(self._heap)
                return kind, key
        return None

    def next_due(self) -> datetime | None:
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()

    def on_schedule(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
