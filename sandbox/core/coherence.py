"""Keeping what this process holds in memory of a shared store in step with what other processes change in it.

The store counts the changes announced under each topic (store.announce). Before each request, and each round of
the background worker, `refresh` reads the total count (one small query); when it has moved, it reads each topic's
count and has the state of the topics that moved read again. A request that arrives while another thread refreshes
waits for it, so no request is served from state older than the count it read. Where no other process shares the
store (TinyStore) it does nothing at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sandbox.core.store import Store


class Coherence:
    def __init__(self, store: Store, apply: Callable[[set[str]], None]) -> None:
        """`apply(topics)` re-reads the state of these topics. Made before anything is read from the store, so that
        nothing changed meanwhile is missed."""
        self._store, self._apply = store, apply
        self._lock = threading.Lock()
        self._applied = store.change_count()  # the count up to which every change is in memory
        self._counts = store.topic_counts()

    def refresh(self) -> None:
        if not self._store.shared:
            return
        count = self._store.change_count()
        if count <= self._applied:
            return
        with self._lock:
            if count <= self._applied:  # another thread re-read it meanwhile
                return
            counts = self._store.topic_counts()
            topics = counts.keys() | self._counts.keys()
            moved = {topic for topic in topics if counts.get(topic) != self._counts.get(topic)}
            self._apply(moved)
            self._counts, self._applied = counts, count
