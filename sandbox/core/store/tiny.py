"""The embedded store: documents in memory behind one lock, kept in a TinyDB JSON file, cheap as history grows.

Each document is held once, in memory, with secondary indexes beside it; reads never touch the disk. A file store
lays the documents out as TinyDB does (a collection spread over many tables, `<collection>/<shard>`, each document
under a numeric id with its `_key`), so TinyDB can read the file, and writes each change to an append-only journal
beside it (store/journal.py). `flush()` is the durability point: it returns once every change made so far is
fsynced, and concurrent callers share one append. The file is rewritten whole in the background when the journal
outgrows it, and on close (so after a clean stop the TinyDB file alone holds everything).
"""

from __future__ import annotations

import gc
import logging
import threading
import zlib
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

from sandbox.core.store.base import IndexFn
from sandbox.core.store.journal import Journal, Tables
from sandbox.core.timers import Timers

log = logging.getLogger("paysandbox.store")
SHARDS = 1024
# An index entry: the one key holding the value (nearly always), or a set of keys when several do.
Keys = str | set[str]


class TinyStore:
    """Documents by collection and key; secondary indexes; one re-entrant lock is every transaction (base.Store)."""

    shared = joined = False  # one process's own: nothing to announce, nothing to adopt

    def __init__(self, path: str | None = None, compact_interval: float = 0.5) -> None:
        self.lock = threading.RLock()
        self.path = path
        self._docs: dict[str, dict[str, dict]] = {}
        self._locations: dict[str, dict[str, tuple[str, str]]] = {}  # collection -> key -> (table, doc id)
        self._next_id: dict[str, int] = {}
        self._indexes: dict[str, dict[str, tuple[IndexFn, dict[Hashable, Keys]]]] = {}
        self._journal = Journal(path) if path else None
        self._compact_interval = compact_interval
        self._closing = threading.Event()
        self._compactor: threading.Thread | None = None
        if self._journal is not None:
            with _no_collection():
                self._load(self._journal.load())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One process, one lock: holding it makes the reads and writes inside one step."""
        with self.lock:
            yield

    # -- reading -------------------------------------------------------------------------------

    def get(self, collection: str, key: str) -> dict | None:
        """The stored document (do not mutate it; `put` a new one)."""
        return self._docs.get(collection, {}).get(key)

    def all(self, collection: str) -> list[dict]:
        with self.lock:
            return list(self._docs.get(collection, {}).values())

    def lookup(self, collection: str, index: str, value: Hashable) -> list[dict]:
        with self.lock:
            _, entries = self._indexes[collection][index]
            held = entries.get(value)
            if held is None:
                return []
            docs = self._docs.get(collection, {})
            return [docs[key] for key in ((held,) if isinstance(held, str) else held) if key in docs]

    def scan(self, collection: str, **equals: object) -> list[dict]:
        with self.lock:
            docs = self._docs.get(collection, {}).values()
            return [d for d in docs if all(d.get(name) == value for name, value in equals.items())]

    def count(self, collection: str) -> int:
        return len(self._docs.get(collection, {}))

    # -- writing -------------------------------------------------------------------------------

    def add_index(self, collection: str, name: str, fn: IndexFn) -> None:
        with self.lock, _no_collection():
            entries: dict[Hashable, Keys] = {}
            self._indexes.setdefault(collection, {})[name] = (fn, entries)
            for key, doc in self._docs.get(collection, {}).items():
                for value in fn(doc):
                    _add(entries, value, key)

    def put(self, collection: str, key: str, doc: dict) -> None:
        with self.lock:
            docs = self._docs.setdefault(collection, {})
            old = docs.get(key)
            if old is not None:
                self._unindex(collection, key, old)
            if self._journal is not None:
                locations = self._locations.setdefault(collection, {})
                if key not in locations:
                    table = self._shard(collection, key)
                    locations[key] = (table, self._new_id(table))
                # Recorded before it can be read: whoever reads it and then flushes makes it durable too.
                self._journal.record((*locations[key], key, doc))
            docs[key] = doc
            self._index(collection, key, doc)

    def delete(self, collection: str, key: str) -> None:
        with self.lock:
            doc = self._docs.get(collection, {}).pop(key, None)
            if doc is None:
                return
            self._unindex(collection, key, doc)
            if self._journal is not None:
                self._journal.record((*self._locations[collection].pop(key), None, None))

    def clear(self, collection: str) -> None:
        with self.lock:
            if self._journal is not None:
                for table in sorted({table for table, _ in self._locations.get(collection, {}).values()}):
                    self._journal.record((table,))
            self._docs.pop(collection, None)
            self._locations.pop(collection, None)
            for _, entries in self._indexes.get(collection, {}).values():
                entries.clear()

    # -- due work ------------------------------------------------------------------------------

    def due_queue(self, namespace: str) -> Timers:
        """In memory: only this process uses the file, and a restart rebuilds the queue from the documents."""
        return Timers()

    def on_notice(self, callback: Callable[[str], None]) -> None:
        """Nothing to hear: no other process shares this store."""

    # -- persistence ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Return once every write made so far is on disk (a no-op in memory). Concurrent callers share one
        append and one fsync, so a request that ends with it costs at most one, and usually shares it."""
        if self._journal is not None:
            self._journal.commit()

    def announce(self, topic: str) -> None:
        """No other process shares the store: nothing to tell."""

    def change_count(self) -> int:
        return 0

    def topic_counts(self) -> dict[str, int]:
        return {}

    def start(self) -> None:
        """Start the background rewrite of the file when the journal outgrows it (file stores only)."""
        if self._journal is None or self._compactor is not None:
            return
        self._closing.clear()
        self._compactor = threading.Thread(target=self._compact_loop, name="paysandbox-store-compact", daemon=True)
        self._compactor.start()

    def compact(self, force: bool = False) -> None:
        """Rewrite the TinyDB file whole when the journal has outgrown it (or `force`), and shorten the journal."""
        if self._journal is None or not (force or self._journal.grown()):
            return
        with self.lock:
            # Shallow copies are enough: documents are replaced on write, never changed in place.
            docs = {collection: dict(documents) for collection, documents in self._docs.items()}
            locations = {collection: dict(places) for collection, places in self._locations.items()}
            journal_bytes = self._journal.commit_point()
        # Laying the tables out and writing them happens outside the lock: requests go on meanwhile.
        self._journal.rewrite(_tables(docs, locations), journal_bytes)

    def close(self) -> None:
        self._closing.set()
        if self._compactor is not None:
            self._compactor.join(timeout=30)
            self._compactor = None
        if self._journal is not None:
            self.compact(force=True)
            self._journal.close()

    def _compact_loop(self) -> None:
        while not self._closing.wait(self._compact_interval):
            try:
                self.flush()  # a write no request or worker flushed (start-up's own) is durable within the interval
                self.compact()
            except OSError:  # a full disk: requests fail on their own flush meanwhile; try again later
                log.exception("writing the store file %s failed", self.path)

    # -- internals -----------------------------------------------------------------------------

    def _load(self, tables: dict) -> None:
        """Take the file's documents as they were read (no copies): each loses its `_key`, which is its key here."""
        for table, documents in tables.items():
            collection = table.rsplit("/", 1)[0]
            docs = self._docs.setdefault(collection, {})
            locations = self._locations.setdefault(collection, {})
            for doc_id, doc in documents.items():
                key = doc.pop("_key")
                docs[key] = doc
                locations[key] = (table, doc_id)
            self._next_id[table] = max(map(int, documents), default=0) + 1

    def _new_id(self, table: str) -> str:
        doc_id = self._next_id.get(table, 1)
        self._next_id[table] = doc_id + 1
        return str(doc_id)  # TinyDB keeps document ids as strings in its data

    @staticmethod
    def _shard(collection: str, key: str) -> str:
        return f"{collection}/{zlib.crc32(key.encode()) % SHARDS:04d}"

    def _index(self, collection: str, key: str, doc: dict) -> None:
        for fn, entries in self._indexes.get(collection, {}).values():
            for value in fn(doc):
                _add(entries, value, key)

    def _unindex(self, collection: str, key: str, doc: dict) -> None:
        for fn, entries in self._indexes.get(collection, {}).values():
            for value in fn(doc):
                _remove(entries, value, key)


@contextmanager
def _no_collection() -> Iterator[None]:
    """Without the cyclic garbage collector: reading a long history makes millions of objects, none of them garbage,
    and the collections they set off cost nearly half the time of parsing them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _add(entries: dict[Hashable, Keys], value: Hashable, key: str) -> None:
    held = entries.get(value)
    if held is None:
        entries[value] = key
    elif isinstance(held, set):
        held.add(key)
    elif held != key:
        entries[value] = {held, key}


def _remove(entries: dict[Hashable, Keys], value: Hashable, key: str) -> None:
    held = entries.get(value)
    if held == key:
        del entries[value]
    elif isinstance(held, set):
        held.discard(key)
        if len(held) == 1:
            entries[value] = held.pop()


def _tables(docs: dict[str, dict[str, dict]], locations: dict[str, dict[str, tuple[str, str]]]) -> Tables:
    """The documents laid out as the TinyDB file holds them: table -> doc id -> (key, document)."""
    tables: Tables = {}
    for collection, documents in docs.items():
        for key, doc in documents.items():
            table, doc_id = locations[collection][key]
            tables.setdefault(table, {})[doc_id] = (key, doc)
    return tables
