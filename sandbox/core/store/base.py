"""What the core asks of a store, whichever backend runs it (the embedded TinyDB file, or PostgreSQL).

Documents are JSON objects by collection and key. Secondary indexes are functions of a document, declared once
(`add_index`) and computed by the store on every write, so any backend can keep them. A `transaction()` makes
what is read and written inside it one all-or-nothing step that no other writer interleaves with: the payment
races (pay versus close, two refunds) are decided inside one. Transactions nest (an inner one joins the outer).

The store also hands out each namespace's due queue (DueQueue): in memory for the embedded store, a table shared by
every process for PostgreSQL, so the core runs due work the same way whichever backend keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from sandbox.core.timers import DueEntry

IndexFn = Callable[[dict], Iterable[Hashable]]


class DueQueue(Protocol):
    """One namespace's due work (expiries, settlements, notification attempts), by moment on its clock."""

    @property
    def durable(self) -> bool:
        """Whether it already holds the stored records' due work at start (else Namespace.reschedule rebuilds it)."""

    def schedule(self, due: datetime, kind: str, key: str) -> None:
        """Add work due at `due`; inside a transaction it is added (and announced) only if that commits."""

    def take_due(self, now: datetime, limit: int | None = None) -> list[DueEntry]:
        """Take work due by `now`, earliest first; nobody else takes it unless this process dies before each
        entry's `done()`."""

    def next_due(self) -> datetime | None:
        """The earliest moment of work this process could take (not what is taken and still running)."""

    def clear(self) -> None: ...

    def on_schedule(self, listener: Callable[[], None]) -> None:
        """Call `listener` when work is scheduled (by any process sharing the queue)."""

    def exclusive(self) -> AbstractContextManager[None]:
        """Held for a flush or advance: no other process runs this namespace's due work meanwhile."""

    def background_turn(self) -> AbstractContextManager[bool]:
        """The background worker's turn at this namespace: False while a flush or advance runs it elsewhere."""


class Store(Protocol):
    path: str | None  # what `--data` named (a file path, a database URL), None in memory
    # Whether other processes may use the store at once (then what one keeps in memory of it, e.g. a namespace's
    # clock, is stored too, and re-read when another announces a change to it), and whether some already were when
    # this one opened it (then it adopts their state rather than resetting it to its own settings).
    shared: bool
    joined: bool

    def transaction(self) -> AbstractContextManager[None]:
        """All reads and writes inside happen as one step; re-entrant within a thread."""

    def get(self, collection: str, key: str) -> dict | None:
        """The stored document (do not mutate it: `put` a new one). Inside a transaction, the key is held until it
        ends, whether the document exists or not, so a check-then-write on it cannot race."""

    def put(self, collection: str, key: str, doc: dict) -> None: ...

    def delete(self, collection: str, key: str) -> None: ...

    def add_index(self, collection: str, name: str, fn: IndexFn) -> None:
        """Declare an index: `fn(doc)` gives the values under which `lookup` finds the document."""

    def lookup(self, collection: str, index: str, value: Hashable) -> list[dict]: ...

    def scan(self, collection: str, **equals: object) -> list[dict]:
        """Every document of the collection whose top-level fields equal the given values (all, without any)."""

    def count(self, collection: str) -> int: ...

    def clear(self, collection: str) -> None: ...

    def due_queue(self, namespace: str) -> DueQueue:
        """The namespace's due queue (one per namespace and store: ask once)."""

    def on_notice(self, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` for each notice another process (or this one) sends about shared state (due
        work, a clock, the namespaces); never called where no other process shares the store."""

    def announce(self, topic: str) -> None:
        """Tell the other processes that the state `topic` names changed, as the transaction commits (a no-op where
        no other process shares the store)."""

    def change_count(self) -> int:
        """How many changes have been announced so far, all topics together: cheap, read once per request (0 where
        no other process shares the store)."""

    def topic_counts(self) -> dict[str, int]:
        """How many changes each topic has had (empty where no other process shares the store)."""

    def start(self) -> None:
        """Start what runs beside requests (a background flush, a listener)."""

    def flush(self) -> None:
        """Make every write so far durable (a no-op where each transaction already is)."""

    def close(self) -> None: ...
