"""TinyDB behind one lock, laid out so that request-path cost stays flat as history grows.

TinyDB rebuilds a whole table on every write and JSONStorage rewrites the whole file, so used naively
its writes cost grows with history. Here every collection is spread over many small TinyDB tables
(shards), reads are served from an in-memory copy with secondary indexes, and the file is written
atomically by a background flush (and on close) rather than on every write.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import zlib
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage

SHARDS = 1024
IndexFn = Callable[[dict], Iterable[Hashable]]


class SnapshotStorage(Storage):
    """TinyDB storage kept in memory and written to a JSON file atomically when flushed."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.dirty = False
        self._data: dict | None = None
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open(encoding="utf-8") as handle:
                self._data = json.load(handle)

    def read(self) -> dict | None:
        return self._data

    def write(self, data: dict) -> None:
        self._data = data
        self.dirty = True

    def flush(self) -> None:
        if not self.dirty or self._data is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".paysandbox-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._data, handle, ensure_ascii=False)
        os.replace(tmp, self.path)
        self.dirty = False


class Store:
    """Documents by collection and key; secondary indexes; one re-entrant lock for every write."""

    def __init__(self, path: str | None = None, flush_interval: float = 0.5) -> None:
        self.lock = threading.RLock()
        self.path = path
        self._storage: SnapshotStorage | None = None
        if path:
            self._db = TinyDB(path, storage=SnapshotStorage)
            self._storage = self._db.storage
        else:
            self._db = TinyDB(storage=MemoryStorage)
        self._docs: dict[str, dict[str, dict]] = {}
        self._doc_ids: dict[str, dict[str, int]] = {}
        self._indexes: dict[str, dict[str, tuple[IndexFn, dict[Hashable, set[str]]]]] = {}
        self._flush_interval = flush_interval
        self._closing = threading.Event()
        self._flusher: threading.Thread | None = None
        self._load()

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
            table = self._db.table(self._shard(collection, key))
            stored = {"_key": key, **doc}
            doc_id = self._doc_ids.setdefault(collection, {}).get(key)
            if doc_id is None:
                self._doc_ids[collection][key] = table.insert(stored)
            else:
                table.update(_replace_with(stored), doc_ids=[doc_id])
            docs[key] = doc
            self._index(collection, key, doc)

    def delete(self, collection: str, key: str) -> None:
        with self.lock:
            doc = self._docs.get(collection, {}).pop(key, None)
            if doc is None:
                return
            self._unindex(collection, key, doc)
            doc_id = self._doc_ids[collection].pop(key)
            self._db.table(self._shard(collection, key)).remove(doc_ids=[doc_id])

    def clear(self, collection: str) -> None:
        with self.lock:
            for shard in range(SHARDS):
                self._db.drop_table(f"{collection}/{shard:04d}")
            self._docs.pop(collection, None)
            self._doc_ids.pop(collection, None)
            for _, entries in self._indexes.get(collection, {}).values():
                entries.clear()

    # -- persistence ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background flush (file stores only)."""
        if self._storage is None or self._flusher is not None:
            return
        self._closing.clear()
        self._flusher = threading.Thread(target=self._flush_loop, name="paysandbox-store-flush", daemon=True)
        self._flusher.start()

    def flush(self) -> None:
        if self._storage is not None:
            with self.lock:
                self._storage.flush()

    def close(self) -> None:
        self._closing.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        self.flush()

    def _flush_loop(self) -> None:
        while not self._closing.wait(self._flush_interval):
            self.flush()

    # -- internals -----------------------------------------------------------------------------

    def _load(self) -> None:
        for table_name in self._db.tables():
            collection = table_name.rsplit("/", 1)[0]
            docs = self._docs.setdefault(collection, {})
            ids = self._doc_ids.setdefault(collection, {})
            for document in self._db.table(table_name).all():
                stored = dict(document)
                key = stored.pop("_key")
                docs[key] = stored
                ids[key] = document.doc_id

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


def _replace_with(new: dict) -> Callable[[dict], None]:
    def replace(document: dict) -> None:
        document.clear()
        document.update(new)

    return replace
