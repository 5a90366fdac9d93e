"""Each namespace's clock, kept in a store that several processes share, so it is one clock in all of them.

On a store of one process's own nothing is kept: the clock lives in memory, as it always did. On a shared store the
clock's state is the document `clocks/<namespace>`: every change (set, speed, advance) is made in a transaction that
holds that document, starts from it and writes it back with its version bumped, and is announced (`clock:<name>`),
so the other processes restore it on their next request and their background workers wake. A process that joins
running ones adopts each stored clock; one that starts the sandbox afresh (the first on the database) resets every
clock to its own `--clock`, as a restart does on a file store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.core.clock import Clock
from sandbox.core.store import Store

log = logging.getLogger("paysandbox")
COLLECTION = "clocks"


def topic(namespace: str) -> str:
    return f"clock:{namespace}"


def share(clock: Clock, store: Store, namespace: str, restart: bool) -> None:
    """Make `clock` (as just made from this process's settings) the namespace's one clock in every process: the
    stored one, unless there is none yet or `restart` says this process starts the sandbox afresh."""
    if not store.shared:
        return
    with store.transaction():
        stored = store.get(COLLECTION, namespace)
        if stored is None or restart:
            state = {**clock.state(), "version": (stored["version"] if stored else 0) + 1}
            store.put(COLLECTION, namespace, state)
            store.announce(topic(namespace))
        else:
            state = stored
        clock.restore(state)
    clock.guard_with(lambda: _changing(clock, store, namespace), lambda: reload(clock, store, namespace))


def reload(clock: Clock, store: Store, namespace: str) -> None:
    """Restore the stored clock after another process announced a change to it."""
    stored = store.get(COLLECTION, namespace)
    if stored is not None:
        clock.restore(stored)


def forget(store: Store, namespace: str) -> None:
    """Drop a deleted namespace's stored clock."""
    if store.shared:
        store.delete(COLLECTION, namespace)
        store.announce(topic(namespace))


@contextmanager
def _changing(clock: Clock, store: Store, namespace: str) -> Iterator[None]:
    """One change of the clock, as one transaction: from the stored state (held, so changes through several
    processes queue up), back to it with the version the change bumped."""
    with store.transaction():
        stored = store.get(COLLECTION, namespace)
        if stored is not None:
            clock.restore(stored)
        version = clock.version
        yield
        if clock.version != version:
            store.put(COLLECTION, namespace, clock.state())
            store.announce(topic(namespace))
