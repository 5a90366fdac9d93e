"""The embedded store: TinyDB behind one lock, laid out so that request-path cost stays flat as history grows.

TinyDB's Table rebuilds a whole table on every write and its JSONStorage rewrites the whole file, so
used naively every write costs time proportional to history. Here a collection is spread over many
TinyDB tables (shards) and a write changes one document in place in TinyDB's own data layout; reads
come from an in-memory copy with secondary indexes. A file store keeps the TinyDB JSON file plus an
append-only journal of the changes since it was written: a background flush appends the changes, and
the file is rewritten whole only when the journal outgrows it, and on close (so after a clean stop the
TinyDB file alone holds everything).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import zlib
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage

from sandbox.core import storefile
from sandbox.core.store.base import IndexFn

SHARDS = 1024
MIN_COMPACTION_BYTES = 4 * 1024 * 1024


class JournaledStorage(Storage):
    """TinyDB storage: the TinyDB JSON file, plus `<file>.journal` with one JSON line per change since."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.journal_path = storefile.journal_of(path)
        self._data: dict = {}
        self._pending: list[dict] = []
        self._rewrite = False
        self._base_bytes = 0
        self._journal_bytes = 0
        tables = storefile.read_tables(self.path)  # StoreFileError says what is wrong with a damaged file
        if tables is not None:
            self._data, self._base_bytes = tables, self.path.stat().st_size
        changes = storefile.read_changes(self.journal_path)
        if self.journal_path.exists():
            self._journal_bytes = self.journal_path.stat().st_size
        self._replay(changes)

    def read(self) -> dict:
        return self._data

    def write(self, data: dict) -> None:
        """TinyDB's whole-data write (the Store never makes one): the next flush rewrites the file."""
        self._data = data
        self._rewrite = True

    # -- changes -----------------------------------------------------------------------------------

    def record(self, change: dict) -> None:
        """Remember a change for the next flush: {"t", "i", "d"} put, {"t", "i"} delete, {"drop"} table."""
        self._pending.append(change)

    def take_pending(self) -> list[dict]:
        pending, self._pending = self._pending, []
        return pending

    def needs_compaction(self) -> bool:
        return self._rewrite or self._journal_bytes > max(MIN_COMPACTION_BYTES, self._base_bytes)

    def append(self, changes: list[dict]) -> None:
        text = "".join(json.dumps(change, ensure_ascii=False) + "\n" for change in changes).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.journal_path.open("ab") as handle:
            handle.write(text)
        self._journal_bytes += len(text)

    def compact(self, snapshot: dict) -> None:
        """Write the whole state as the TinyDB file (atomically), then start an empty journal."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(snapshot, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=".paysandbox-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, self.path)
        # A crash before this line only means the journal is replayed over a file that already has it.
        self.journal_path.unlink(missing_ok=True)
        self._base_bytes, self._journal_bytes, self._rewrite = len(text), 0, False

    def _replay(self, changes: list[dict]) -> None:
        for change in changes:
            if "drop" in change:
                self._data.pop(change["drop"], None)
            elif "d" in change:
                self._data.setdefault(change["t"], {})[change["i"]] = change["d"]
            else:
                self._data.get(change["t"], {}).pop(change["i"], None)


class TinyStore:
    """Documents by collection and key; secondary indexes; one re-entrant lock is every transaction (base.Store)."""

    def __init__(self, path: str | None = None, flush_interval: float = 0.5) -> None:
        self.lock = threading.RLock()
        self.path = path
        self._journal: JournaledStorage | None = None
        if path:
            self._db = TinyDB(path, storage=JournaledStorage)
            self._journal = self._db.storage
        else:
            self._db = TinyDB(storage=MemoryStorage)
            self._db.storage.write({})
        # TinyDB's own data ({table: {doc id: document}}), changed in place one document at a time.
        self._tables: dict[str, dict[str, dict]] = self._db.storage.read()
        self._docs: dict[str, dict[str, dict]] = {}
        self._locations: dict[str, dict[str, tuple[str, str]]] = {}  # collection -> key -> (table, doc id)
        self._next_id: dict[str, int] = {}
        self._indexes: dict[str, dict[str, tuple[IndexFn, dict[Hashable, set[str]]]]] = {}
        self._flush_interval = flush_interval
        self._flush_lock = threading.Lock()
        self._closing = threading.Event()
        self._flusher: threading.Thread | None = None
        self._load()

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
            docs = self._docs.get(collection, {})
            return [docs[key] for key in entries.get(value, ()) if key in docs]

    def scan(self, collection: str, **equals: object) -> list[dict]:
        with self.lock:
            docs = self._docs.get(collection, {}).values()
            return [d for d in docs if all(d.get(name) == value for name, value in equals.items())]

    def count(self, collection: str) -> int:
        return len(self._docs.get(collection, {}))

    # -- writing -------------------------------------------------------------------------------

    def add_index(self, collection: str, name: str, fn: IndexFn) -> None:
        with self.lock:
            entries: dict[Hashable, set[str]] = {}
            self._indexes.setdefault(collection, {})[name] = (fn, entries)
            for key, doc in self._docs.get(collection, {}).items():
                for value in fn(doc):
                    entries.setdefault(value, set()).add(key)

    def put(self, collection: str, key: str, doc: dict) -> None:
        with self.lock:
            docs = self._docs.setdefault(collection, {})
            old = docs.get(key)
            if old is not None:
                self._unindex(collection, key, old)
            locations = self._locations.setdefault(collection, {})
            if key not in locations:
                table = self._shard(collection, key)
                locations[key] = (table, self._new_id(table))
            table, doc_id = locations[key]
            stored = {"_key": key, **doc}
            self._tables.setdefault(table, {})[doc_id] = stored
            if self._journal is not None:
                self._journal.record({"t": table, "i": doc_id, "d": stored})
            docs[key] = doc
            self._index(collection, key, doc)

    def delete(self, collection: str, key: str) -> None:
        with self.lock:
            doc = self._docs.get(collection, {}).pop(key, None)
            if doc is None:
                return
            self._unindex(collection, key, doc)
            table, doc_id = self._locations[collection].pop(key)
            self._tables.get(table, {}).pop(doc_id, None)
            if self._journal is not None:
                self._journal.record({"t": table, "i": doc_id})

    def clear(self, collection: str) -> None:
        with self.lock:
            for table in [name for name in self._tables if name.startswith(f"{collection}/")]:
                del self._tables[table]
                if self._journal is not None:
                    self._journal.record({"drop": table})
            self._docs.pop(collection, None)
            self._locations.pop(collection, None)
            for _, entries in self._indexes.get(collection, {}).values():
                entries.clear()

    # -- persistence ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background flush (file stores only)."""
        if self._journal is None or self._flusher is not None:
            return
        self._closing.clear()
        self._flusher = threading.Thread(target=self._flush_loop, name="paysandbox-store-flush", daemon=True)
        self._flusher.start()

    def flush(self, compact: bool = False) -> None:
        """Append what changed to the journal, or rewrite the TinyDB file when the journal has grown."""
        if self._journal is None:
            return
        with self._flush_lock:
            with self.lock:
                changes = self._journal.take_pending()
                compact = compact or self._journal.needs_compaction()
                # Shallow copies are enough: documents are replaced on write, never changed in place.
                snapshot = {name: dict(table) for name, table in self._tables.items()} if compact else None
            # Serialising happens outside the lock, so requests go on meanwhile.
            if snapshot is not None:
                self._journal.compact(snapshot)
            elif changes:
                self._journal.append(changes)

    def close(self) -> None:
        self._closing.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        self.flush(compact=True)

    def _flush_loop(self) -> None:
        while not self._closing.wait(self._flush_interval):
            self.flush()

    # -- internals -----------------------------------------------------------------------------

    def _load(self) -> None:
        for table, documents in self._tables.items():
            collection = table.rsplit("/", 1)[0]
            docs = self._docs.setdefault(collection, {})
            locations = self._locations.setdefault(collection, {})
            for doc_id, stored in documents.items():
                doc = dict(stored)
                key = doc.pop("_key")
                docs[key] = doc
                locations[key] = (table, doc_id)
            self._next_id[table] = max((int(i) for i in documents), default=0) + 1

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
                entries.setdefault(value, set()).add(key)

    def _unindex(self, collection: str, key: str, doc: dict) -> None:
        for fn, entries in self._indexes.get(collection, {}).values():
            for value in fn(doc):
                keys = entries.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del entries[value]
