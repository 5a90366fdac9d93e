"""The embedded store: documents behind one lock, kept in a TinyDB JSON file, cheap as history grows.

A file store lays the documents out as TinyDB does (a collection spread over many tables, `<collection>/<shard>`, each
document under a numeric id with its `_key`), so TinyDB can read the file, and writes each change to an append-only
journal beside it (store/journal.py). `flush()` is the durability point: it returns once every change made so far is
fsynced, and concurrent callers share one append. The file is rewritten whole in the background when the journal
outgrows it, and on close (so after a clean stop the TinyDB file alone holds everything).

A file store holds each document as its JSON text, parsed when it is read (a read answers a new dict): a document
put is held as the text its journal line carries, one the file holds by its ordinal in the file's bytes (image.py).
So a restart parses no document unless it reads it, and a long history costs its text's size in memory, not several
times that in Python objects. An in-memory store holds each document put as its text too: one bytes object is a
third of the memory of the dicts and strings it encodes, the cyclic garbage collector never walks it, and no caller
can change a stored document through a dict it was handed.

Secondary indexes map a value's JSON text to the key holding it (nearly always one) or to a set of keys. Their entries
are written to the file's index file on each rewrite and taken from it on start, while the function that computed
them is unchanged (fingerprint.py).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import zlib
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from functools import partial

import orjson

from sandbox.core import storefile
from sandbox.core.store import image
from sandbox.core.store.base import IndexFn
from sandbox.core.store.fingerprint import fingerprint
from sandbox.core.store.image import Image, Layout, Loaded
from sandbox.core.store.journal import Journal
from sandbox.core.timers import Timers

log = logging.getLogger("paysandbox.store")
SHARDS = 1024
JSON_ONLY = b" "  # what starts a document's text that only the json module reads back exactly (see document_text)
# A document as held: its JSON text with its _key (as put), its ordinal in the file's bytes (read from the file, or
# written to it by the last rewrite), or a dict (parsed from a file without an index file, until the next rewrite).
Held = dict | bytes | int
Place = tuple[str, str]  # (table, doc id)


class Index:
    """One declared index: value text -> the key holding it (`one`), or the keys when several do (`many`). Entries
    taken from the index file are made when the index is first used (`pending`), so a start pays only for those
    it uses."""

    def __init__(self, fn: IndexFn, fingerprint: str, pending: Callable[[Index], None] | None = None) -> None:
        self.fn, self.fingerprint = fn, fingerprint
        self._one: dict[str, str] = {}
        self._many: dict[str, set[str]] = {}
        self.pending = pending

    @property
    def one(self) -> dict[str, str]:
        self._make()
        return self._one

    @property
    def many(self) -> dict[str, set[str]]:
        self._make()
        return self._many

    def _make(self) -> None:
        if self.pending is not None:
            make, self.pending = self.pending, None
            make(self)

    def take(self, one: dict[str, str], many: dict[str, set[str]]) -> None:
        self._one, self._many = one, many

    def texts(self, doc: dict) -> list[str]:
        return [value_text(value) for value in self.fn(doc)]

    def keys(self, text: str) -> list[str]:
        key = self.one.get(text)
        return [key] if key is not None else list(self.many.get(text, ()))

    def add(self, text: str, key: str) -> None:
        keys = self.many.get(text)
        if keys is not None:
            keys.add(key)
            return
        held = self._one.get(text)
        if held is None:
            self.one[text] = key
        elif held != key:
            del self.one[text]
            self.many[text] = {held, key}

    def remove(self, text: str, key: str) -> None:
        if self.one.get(text) == key:
            del self.one[text]
            return
        keys = self.many.get(text)
        if keys is not None:
            keys.discard(key)
            if len(keys) == 1:
                self.one[text] = keys.pop()
            if not keys:
                del self.many[text]

    def clear(self) -> None:
        self.pending, self._one, self._many = None, {}, {}

    def copy(self) -> image.Entries:
        return self.fingerprint, dict(self.one), {text: list(keys) for text, keys in self.many.items()}


class TinyStore:
    """Documents by collection and key; secondary indexes; one re-entrant lock is every transaction (base.Store)."""

    shared = joined = False  # one process's own: nothing to announce, nothing to adopt

    def __init__(self, path: str | None = None, compact_interval: float = 0.5) -> None:
        self.lock = threading.RLock()
        self.path = path
        self._docs: dict[str, dict[str, Held]] = {}
        self._places: dict[str, dict[str, Place]] = {}  # places of the documents not held by ordinal
        self._next_id: dict[str, int] = {}
        self._indexes: dict[str, dict[str, Index]] = {}
        self._image: Image | None = None  # the file as read or last written, for the documents held by ordinal
        # Until the first rewrite: index entries read from the index file (until declared), and the documents changed
        # since they were computed (key -> what the file held, None if nothing), which their declaration corrects.
        self._persisted: dict[str, dict[str, image.Persisted]] = {}
        self._changed: dict[str, dict[str, Held | None]] = {}
        self._rewrite_wanted = False
        # While a rewrite runs: the keys changed since its snapshot, by collection (the rest it holds by ordinal).
        self._touched: dict[str, set[str]] | None = None
        self._journal = Journal(path) if path else None
        self._compact_interval = compact_interval
        self._compacting = threading.Lock()
        self._closing = threading.Event()
        self._compactor: threading.Thread | None = None
        if self._journal is not None:
            with _no_collection():
                self._load()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One process, one lock: holding it makes the reads and writes inside one step."""
        with self.lock:
            yield

    # -- reading -------------------------------------------------------------------------------

    def get(self, collection: str, key: str) -> dict | None:
        """The stored document (do not mutate it; `put` a new one)."""
        with self.lock:  # a rewrite may change how a document is held
            held = self._docs.get(collection, {}).get(key)
            found = None if held is None else self._text(collection, held)
        return None if found is None else _parse(found)

    def all(self, collection: str) -> list[dict]:
        with self.lock:
            found = [self._text(collection, held) for held in self._docs.get(collection, {}).values()]
        return [_parse(text) for text in found]

    def lookup(self, collection: str, index: str, value: Hashable) -> list[dict]:
        with self.lock:
            docs = self._docs.get(collection, {})
            keys = self._indexes[collection][index].keys(value_text(value))
            found = [self._text(collection, docs[key]) for key in keys if key in docs]
        return [_parse(text) for text in found]

    def scan(self, collection: str, **equals: object) -> list[dict]:
        docs = self.all(collection)
        return [d for d in docs if all(d.get(name) == value for name, value in equals.items())]

    def count(self, collection: str) -> int:
        return len(self._docs.get(collection, {}))

    # -- writing -------------------------------------------------------------------------------

    def add_index(self, collection: str, name: str, fn: IndexFn) -> None:
        with self.lock, _no_collection():
            mark = fingerprint(fn)
            persisted = self._persisted.get(collection, {}).pop(name, None)
            if persisted is not None and persisted.fingerprint == mark:
                index = Index(fn, mark, partial(self._take_entries, collection, persisted))
            else:
                index = Index(fn, mark)
                docs = self._docs.get(collection, {})
                for key, held in docs.items():
                    doc = self._read(collection, held)
                    if type(held) is int:  # parsed once for every index computed: held so until the next rewrite
                        self._places.setdefault(collection, {})[key] = self._image.place(collection, held)
                        docs[key] = doc
                        self._touch(collection, key)
                    for text in index.texts(doc):
                        index.add(text, key)
                self._rewrite_wanted = self._rewrite_wanted or bool(docs and self._journal)
            self._indexes.setdefault(collection, {})[name] = index

    def _take_entries(self, collection: str, persisted: image.Persisted, index: Index) -> None:
        """An index's entries as the index file holds them, corrected for what changed since (the journal)."""
        with self.lock, _no_collection():
            index.take(*persisted.entries(self._image.sections[collection].keys))
            for key, was in self._changed.get(collection, {}).items():
                if was is not None:
                    for text in index.texts(self._read(collection, was)):
                        index.remove(text, key)
                now = self._docs.get(collection, {}).get(key)
                if now is not None:
                    for text in index.texts(self._read(collection, now)):
                        index.add(text, key)

    def put(self, collection: str, key: str, doc: dict) -> None:
        with self.lock:
            docs = self._docs.setdefault(collection, {})
            old = docs.get(key)
            self._note_change(collection, key, old)
            self._touch(collection, key)
            if old is not None:
                self._unindex(collection, key, old)
            held = document_text(key, doc)  # in memory too: one bytes object, nothing for the collector to walk
            if self._journal is not None:
                place = self._places.setdefault(collection, {})[key] = self._place(collection, key, old)
                # Recorded before it can be read: whoever reads it and then flushes makes it durable too.
                self._journal.record((*place, key, held))
            docs[key] = held
            self._index(collection, key, doc)

    def delete(self, collection: str, key: str) -> None:
        with self.lock:
            held = self._docs.get(collection, {}).get(key)
            if held is None:
                return
            self._note_change(collection, key, held)
            self._touch(collection, key)
            self._unindex(collection, key, held)
            if self._journal is not None:
                self._journal.record((*self._place(collection, key, held), None, None))
            del self._docs[collection][key]
            self._places.get(collection, {}).pop(key, None)

    def clear(self, collection: str) -> None:
        with self.lock:
            docs = self._docs.pop(collection, {})
            if self._journal is not None:
                for table in sorted({self._place(collection, key, held)[0] for key, held in docs.items()}):
                    self._journal.record((table,))
            for key, held in docs.items():
                self._note_change(collection, key, held)
                self._touch(collection, key)
            self._places.pop(collection, None)
            for index in self._indexes.get(collection, {}).values():
                index.clear()

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
        """Rewrite the TinyDB file whole (and its index file) when the journal has outgrown it, when the file was read
        without an index file, or when `force`d; and shorten the journal."""
        if self._journal is None or not (force or self._rewrite_wanted or self._journal.grown()):
            return
        with self._compacting:
            with self.lock:
                for collection in self._indexes:
                    self._ready(collection)  # taken entries refer to the file about to be replaced
                # Shallow copies are enough: documents are replaced on write, never changed in place.
                docs = {collection: dict(documents) for collection, documents in self._docs.items()}
                places = {collection: dict(known) for collection, known in self._places.items()}
                next_ids = dict(self._next_id)
                entries = {
                    collection: {name: index.copy() for name, index in indexes.items()}
                    for collection, indexes in self._indexes.items()
                }
                old = self._image
                journal_bytes = self._journal.commit_point()
                self._rewrite_wanted = False
                self._touched = {}
            try:
                # Laying the file out and writing it happens outside the lock: requests go on meanwhile.
                layout = _lay_out(docs, places, old, memoryview(old.contents()) if old is not None else None)
                parts = layout.end(any(docs.values()))
                index_parts = partial(image.index_parts, layout.sections, next_ids, entries)
                fd = self._journal.rewrite(parts, index_parts, journal_bytes)
            except BaseException:
                with self.lock:
                    self._touched = None
                raise
            self._adopt(Image(fd, layout.sections))

    def close(self) -> None:
        self._closing.set()
        if self._compactor is not None:
            self._compactor.join(timeout=30)
            self._compactor = None
        if self._journal is not None:
            self.compact(force=True)
            self._journal.close()
            if self._image is not None:
                self._image.close()
                self._image = None

    def _compact_loop(self) -> None:
        while not self._closing.wait(self._compact_interval):
            try:
                self.flush()  # a write no request or worker flushed (start-up's own) is durable within the interval
                self.compact()
            except OSError:  # a full disk: requests fail on their own flush meanwhile; try again later
                log.exception("writing the store file %s failed", self.path)

    # -- internals -----------------------------------------------------------------------------

    def _load(self) -> None:
        """The file as its index file describes it (documents unparsed), or parsed whole; then the journal over it."""
        fd, changes = self._journal.load()
        if fd is not None:
            loaded = image.read(self._journal.path, fd)
            if loaded is not None:
                self._take_image(loaded)
            else:
                try:
                    raw = storefile.read_all(fd)
                finally:
                    os.close(fd)
                self._take_tables(storefile.parse_tables(self._journal.path, raw))
                self._rewrite_wanted = True  # so the next start finds an index file
        by_place: dict[str, dict[Place, str]] = {}  # of the collections the journal changes, made when first changed
        for change in changes:
            self._replay(change, by_place)

    def _take_image(self, loaded: Loaded) -> None:
        self._image = loaded.image
        self._next_id = dict(loaded.next_ids)
        self._persisted = loaded.persisted
        for collection, section in loaded.image.sections.items():
            self._docs[collection] = dict(zip(section.keys, range(len(section.keys)), strict=True))

    def _take_tables(self, tables: dict) -> None:
        """Take the file's documents as they were parsed: each loses its `_key`, which is its key here."""
        for table, documents in tables.items():
            collection = table.rsplit("/", 1)[0]
            docs = self._docs.setdefault(collection, {})
            places = self._places.setdefault(collection, {})
            for doc_id, doc in documents.items():
                key = doc.pop("_key")
                docs[key] = doc
                places[key] = (table, doc_id)
            self._next_id[table] = max(self._next_id.get(table, 1), max(map(int, documents), default=0) + 1)

    def _replay(self, change: dict, by_place: dict[str, dict[Place, str]]) -> None:
        """One journal change over what is loaded, as TinyDB reads its tables: a put or delete at a place (which
        holds one document), or a dropped table. `by_place` says which document is at a place, and is kept so."""
        table = change["drop"] if "drop" in change else change["t"]
        collection = table.rsplit("/", 1)[0]
        keys_at = by_place.get(collection)
        if keys_at is None:
            keys_at = by_place[collection] = self._keys_by_place(collection)
        if "drop" in change:
            for place in [place for place in keys_at if place[0] == table]:
                self._forget(collection, keys_at.pop(place))
            return
        place = (table, change["i"])
        there = keys_at.pop(place, None)
        if there is not None:
            self._forget(collection, there)
        if "d" in change:
            doc = change["d"]
            key = doc.pop("_key")
            docs = self._docs.setdefault(collection, {})
            if key in docs:  # the same key at another place: the last read wins
                keys_at.pop(self._place(collection, key, docs[key]), None)
                self._forget(collection, key)
            self._note_change(collection, key, None)
            docs[key] = doc
            self._places.setdefault(collection, {})[key] = place
            keys_at[place] = key
            self._next_id[table] = max(self._next_id.get(table, 1), int(place[1]) + 1)

    def _keys_by_place(self, collection: str) -> dict[Place, str]:
        """Which key is at each place (before the journal is replayed: the file's documents only)."""
        found = {place: key for key, place in self._places.get(collection, {}).items()}
        section = self._image.sections.get(collection) if self._image is not None else None
        if section is not None:
            tables = map(section.tables.__getitem__, section.table_of)
            found.update(zip(zip(tables, map(str, section.ids), strict=True), section.keys, strict=True))
        return found

    def _forget(self, collection: str, key: str) -> None:
        held = self._docs[collection].pop(key)
        self._note_change(collection, key, held)
        self._places.get(collection, {}).pop(key, None)

    def _note_change(self, collection: str, key: str, was: Held | None) -> None:
        """Remember what the file held for a key changed while entries of its collection taken from the index file are
        not made yet (declared or not): they are corrected for it when made."""
        pending = any(index.pending is not None for index in self._indexes.get(collection, {}).values())
        if pending or self._persisted.get(collection):
            self._changed.setdefault(collection, {}).setdefault(key, was)

    def _read(self, collection: str, held: Held) -> dict:
        return _parse(self._text(collection, held))

    def _text(self, collection: str, held: Held) -> dict | bytes:
        """A held document's JSON text (a document held as put in memory is itself)."""
        return self._image.text(collection, held) if type(held) is int else held

    def _place(self, collection: str, key: str, held: Held | None) -> Place:
        """Where a document lies in the TinyDB file; a new one gets the next id of its key's shard."""
        if type(held) is int:
            return self._image.place(collection, held)
        places = self._places.setdefault(collection, {})
        place = places.get(key)
        if place is None:
            table = self._shard(collection, key)
            place = places[key] = (table, self._new_id(table))
        return place

    def _new_id(self, table: str) -> str:
        doc_id = self._next_id.get(table, 1)
        self._next_id[table] = doc_id + 1
        return str(doc_id)  # TinyDB keeps document ids as strings in its data

    @staticmethod
    def _shard(collection: str, key: str) -> str:
        return f"{collection}/{zlib.crc32(key.encode('utf-8', 'surrogatepass')) % SHARDS:04d}"

    def _index(self, collection: str, key: str, doc: dict) -> None:
        for index in self._indexes.get(collection, {}).values():
            if index.pending is None:  # else made, when first used, from the file's entries and the changes since
                for text in index.texts(doc):
                    index.add(text, key)

    def _ready(self, collection: str) -> None:
        """Make the collection's indexes taken from the index file before a write changes what they hold."""
        for index in self._indexes.get(collection, {}).values():
            index.one  # noqa: B018 (made when first used)

    def _unindex(self, collection: str, key: str, held: Held) -> None:
        made = [index for index in self._indexes.get(collection, {}).values() if index.pending is None]
        doc = self._read(collection, held) if made else None
        for index in made:
            for text in index.texts(doc):
                index.remove(text, key)

    def _adopt(self, written: Image) -> None:
        """After a rewrite: hold each document unchanged since by its ordinal in the file just written, so its text
        lives once, in the file's bytes, and what was put since the last rewrite is released. The new holdings are
        made before taking the lock (100,000 documents: tens of milliseconds every request would wait for), and only
        the documents changed meanwhile are carried over under it."""
        fresh = {
            collection: dict(zip(section.keys, range(len(section.keys)), strict=True))
            for collection, section in written.sections.items()
        }
        with self.lock:
            for collection in self._indexes:
                self._ready(collection)  # one declared during the rewrite takes entries that refer to the old file
            touched, self._touched = self._touched or {}, None
            for collection, adopted in fresh.items():
                live, places = self._docs.get(collection, {}), self._places.get(collection, {})
                changed = touched.get(collection, set())
                for key in changed:
                    held = live.get(key)
                    if held is None:
                        adopted.pop(key, None)
                    else:
                        adopted[key] = held  # its place stays known
                self._places[collection] = {key: places[key] for key in changed if key in places and key in live}
                if collection in self._docs or adopted:
                    self._docs[collection] = adopted
            old, self._image = self._image, written
            self._persisted, self._changed = {}, {}  # entries not declared by now are computed if ever declared
            if old is not None:
                old.close()

    def _touch(self, collection: str, key: str) -> None:
        """Note a key changed while a rewrite runs: its snapshot is stale, what the store holds now stays."""
        if self._touched is not None:
            self._touched.setdefault(collection, set()).add(key)


def _parse(text: dict | bytes) -> dict:
    """A held document as a new dict (one parsed from a file read whole is itself, until the next rewrite). orjson
    parses a document in a third of the time json takes, and reads what document_text writes as json does; a text it
    would not (marked) goes to json."""
    if type(text) is dict:
        return text
    if text[:1] == JSON_ONLY:
        doc = json.loads(text)
    else:
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError:  # e.g. NaN, which json writes and reads
            doc = json.loads(text)
    del doc["_key"]
    return doc


def value_text(value: Hashable) -> str:
    """An index value's key in the index: its JSON text (a tuple as an array), the same in every process."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def document_text(key: str, doc: dict) -> bytes:
    """A document's JSON text as the TinyDB file and the journal hold it (with its `_key`), by the json module. One
    that orjson would not read back exactly (an integer beyond 64 bits, which it reads as a float; a lone surrogate)
    starts with a space (JSON_ONLY), so `_parse` reads it with json."""
    whole = {"_key": key, **doc}
    text = json.dumps(whole, ensure_ascii=False, separators=(",", ":"))
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a fuzzed request's "\ud800"): escaped, as UTF-8 cannot carry it
        data = json.dumps(whole, separators=(",", ":")).encode()
    try:
        orjson.dumps(whole)  # refuses exactly what it would not read back
    except TypeError:
        return JSON_ONLY + data
    return data


def _lay_out(
    docs: dict[str, dict[str, Held]], places: dict[str, dict[str, Place]], old: Image | None, old_raw: memoryview | None
) -> Layout:
    """The TinyDB file of these documents, a table at a time, each document's text as held (or written anew); those
    held by ordinal are copied from the old file's bytes (`old_raw`)."""
    tables: dict[str, list[tuple[str, str, str, Held]]] = {}
    for collection, documents in docs.items():
        known = places.get(collection, {})
        for key, held in documents.items():
            table, doc_id = old.place(collection, held) if type(held) is int else known[key]
            tables.setdefault(table, []).append((doc_id, collection, key, held))
    layout = Layout()
    for number, (table, entries) in enumerate(tables.items()):
        layout.table(table, first=number == 0)
        for position, (doc_id, collection, key, held) in enumerate(entries):
            if type(held) is int:
                section = old.sections[collection]
                text = old_raw[section.starts[held] : section.ends[held]]
            elif type(held) is bytes:
                text = held
            else:
                text = document_text(key, held)
            layout.document(collection, table, doc_id, key, text, first=position == 0)
    return layout


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
