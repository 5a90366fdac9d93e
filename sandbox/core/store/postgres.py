"""The PostgreSQL store (base.Store): documents as jsonb, index entries in a table kept in step by every write, and
transactions that hold every key they read, so threads and processes sharing one database never interleave a
check-then-write.

Locks are PostgreSQL advisory locks, released when the transaction ends: a key is held (exclusively) by getting or
writing it, whether its document exists or not; a whole collection is held by reading all of it (`all`, `scan`,
`count`) or clearing it, and every key lock takes its collection's lock shared, so the two exclude each other. A
`lookup` holds nothing: get the document it found to hold it.

Due work (expiries, settlements, notification attempts) is kept beside the documents and shared by every process on
the database (pg_due.py): `due_queue(namespace)` hands it out, and `on_notice` hears what other processes announce.

What a transaction announces (a change to state the processes keep in memory) is counted as it commits, and the
store tells whether other processes were already on the database when it opened (store/pg_shared.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, suppress

import psycopg
from psycopg_pool import ConnectionPool

from sandbox.core.store import pg_shared
from sandbox.core.store.base import IndexFn
from sandbox.core.store.database import advisory_key, connect, connection_kwargs, shown
from sandbox.core.store.encoding import WRAPPED, dump_document, index_value, is_plain, load_document, stored_key
from sandbox.core.store.pg_due import PgDue, PgDueQueue
from sandbox.core.store.schema import DUE_WORK, migrate

# A gthread worker's 8 request threads, the notification senders and the clock's worker, each at most one at a time.
POOL_SIZE = 16

Steps = list[tuple[str, object]]  # statements and their parameters, sent together

HOLD_KEY = "SELECT pg_advisory_xact_lock_shared(%s), pg_advisory_xact_lock(%s)"
HOLD_COLLECTION = "SELECT pg_advisory_xact_lock(%s)"
GET = "SELECT doc FROM documents WHERE collection = %s AND key = %s"
# One statement for a document and its index entries: the entries it no longer has go, the new ones come (the two
# sets are disjoint, so the delete and the insert never meet on a row).
PUT = """
WITH document AS (
    INSERT INTO documents (collection, key, doc) VALUES (%(collection)s, %(key)s, %(doc)s::jsonb)
    ON CONFLICT (collection, key) DO UPDATE SET doc = excluded.doc
), stale AS (
    DELETE FROM index_entries
    WHERE collection = %(collection)s AND key = %(key)s
    AND (index_name, value) NOT IN (SELECT * FROM unnest(%(names)s::text[], %(values)s::text[]))
)
INSERT INTO index_entries (collection, index_name, value, key)
SELECT %(collection)s, name, value, %(key)s FROM unnest(%(names)s::text[], %(values)s::text[]) AS entry(name, value)
ON CONFLICT DO NOTHING
"""
DELETE = """
WITH entries AS (DELETE FROM index_entries WHERE collection = %(collection)s AND key = %(key)s)
DELETE FROM documents WHERE collection = %(collection)s AND key = %(key)s
"""
CLEAR = """
WITH entries AS (DELETE FROM index_entries WHERE collection = %(collection)s)
DELETE FROM documents WHERE collection = %(collection)s
"""
LOOKUP = """
SELECT d.doc FROM index_entries e JOIN documents d ON d.collection = e.collection AND d.key = e.key
WHERE e.collection = %s AND e.index_name = %s AND e.value = %s
"""
ALL = "SELECT doc FROM documents WHERE collection = %s"
# A wrapped document (encoding.py) cannot be narrowed by containment: it is always compared in Python.
CONTAINING = "SELECT doc FROM documents WHERE collection = %s AND (doc @> %s::jsonb OR doc ? %s)"
COUNT = "SELECT count(*) FROM documents WHERE collection = %s"
IS_BUILT = "SELECT 1 FROM built_indexes WHERE collection = %s AND index_name = %s"
BUILD = """
INSERT INTO index_entries (collection, index_name, value, key)
SELECT %(collection)s, %(name)s, value, key FROM unnest(%(values)s::text[], %(keys)s::text[]) AS entry(value, key)
ON CONFLICT DO NOTHING
"""
BUILT = "INSERT INTO built_indexes (collection, index_name) VALUES (%s, %s)"


class _Bound(threading.local):
    """This thread's transaction: whether it is in one, its connection once a statement has needed one, the
    advisory locks it holds (each taken once: a lock is kept until the transaction ends), and what to do once it
    commits."""

    active = False
    conn: psycopg.Connection | None = None
    held: set[int]
    after: list[Callable[[], None]]
    topics: set[str]  # what it announces as it commits (pg_shared.py)


class PgStore:
    """Documents by collection and key in PostgreSQL, with declared indexes and holding transactions (base.Store)."""

    shared = True  # every process on the database shares it

    def __init__(self, url: str) -> None:
        self.path = shown(url)  # what the banner and errors show: never the password
        with connect(url) as conn:
            found = migrate(conn, url)
        self._presence = pg_shared.Presence(url)
        self.joined = self._presence.joined
        kwargs = {"autocommit": True, **connection_kwargs(url)}
        self._pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs=kwargs, name="paysandbox", open=True)
        # One transaction at a time within this process, as TinyStore's lock: the core keeps in-process state (the
        # sorted scenario rules) that it changes only inside a transaction. Between processes the database decides.
        self._lock = threading.RLock()
        self._bound = _Bound()
        self._indexes: dict[str, dict[str, IndexFn]] = {}
        # Documents written before the database had due rows: their due work is rescheduled from them once.
        self._due = PgDue(self, url, rebuild=0 < found < DUE_WORK)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT on one pooled connection bound to this thread (ROLLBACK on an exception); an inner
        transaction joins the outer one. The connection is taken, and BEGIN sent, with the first statement: a
        transaction that reads and writes nothing costs nothing."""
        bound = self._bound
        if bound.active:
            yield
            return
        with self._lock:
            bound.active, bound.held, bound.after, bound.topics = True, set(), [], set()
            try:
                yield
            except BaseException:
                self._end(commit=False)
                raise
            else:
                self._end(commit=True)
            finally:
                bound.active = False
            for callback in bound.after:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this thread's transaction has committed (at once outside one); never if it rolls
        back."""
        if self._bound.active:
            self._bound.after.append(callback)
        else:
            callback()

    # -- reading -------------------------------------------------------------------------------

    def get(self, collection: str, key: str) -> dict | None:
        """The stored document; inside a transaction the key is held until it ends, whether the document exists or
        not (the lock comes first, in its own statement, so the read that follows sees the last holder's commit)."""
        hold = self._hold_key(collection, key) if self._bound.active else []
        rows = self._run([*hold, (GET, (collection, stored_key(key)))])
        return load_document(rows[0][0]) if rows else None

    def all(self, collection: str) -> list[dict]:
        return [load_document(row[0]) for row in self._read_collection(collection, ALL, (collection,))]

    def lookup(self, collection: str, index: str, value: Hashable) -> list[dict]:
        self._indexes[collection][index]  # an index never declared is a KeyError, as in TinyStore
        rows = self._run([(LOOKUP, (collection, index, index_value(value)))])
        return [load_document(row[0]) for row in rows]

    def scan(self, collection: str, **equals: object) -> list[dict]:
        """jsonb containment narrows by the string fields (where it is exact); every field is then compared in
        Python, as TinyStore compares them (containment would let a list match a longer one)."""
        strings = {name: value for name, value in equals.items() if isinstance(value, str) and is_plain(value)}
        rows = self._read_collection(collection, CONTAINING, (collection, dump_document(strings), WRAPPED))
        docs = [load_document(row[0]) for row in rows]
        return [d for d in docs if all(d.get(name) == value for name, value in equals.items())]

    def count(self, collection: str) -> int:
        return self._read_collection(collection, COUNT, (collection,))[0][0]

    # -- writing -------------------------------------------------------------------------------

    def add_index(self, collection: str, name: str, fn: IndexFn) -> None:
        """Declare an index; the first process to declare it on this database builds its entries for the documents
        already there (every write after keeps them)."""
        self._indexes.setdefault(collection, {})[name] = fn
        if self._run([(IS_BUILT, (collection, name))]):
            return
        with self.transaction():
            # Held against every writer of the collection, and against another process building the same index.
            if self._run([*self._hold_collection(collection), (IS_BUILT, (collection, name))]):
                return
            values, keys = [], []
            for key, doc in self._run([("SELECT key, doc FROM documents WHERE collection = %s", (collection,))]):
                for value in fn(load_document(doc)):
                    values.append(index_value(value))
                    keys.append(key)  # as stored
            build = {"collection": collection, "name": name, "values": values, "keys": keys}
            self._run([(BUILD, build), (BUILT, (collection, name))])

    def put(self, collection: str, key: str, doc: dict) -> None:
        names, values = [], []
        for name, fn in self._indexes.get(collection, {}).items():
            for value in fn(doc):
                names.append(name)
                values.append(index_value(value))
        params = {"collection": collection, "key": stored_key(key), "doc": dump_document(doc)}
        self._write([*self._hold_key(collection, key), (PUT, {**params, "names": names, "values": values})])

    def delete(self, collection: str, key: str) -> None:
        params = {"collection": collection, "key": stored_key(key)}
        self._write([*self._hold_key(collection, key), (DELETE, params)])

    def clear(self, collection: str) -> None:
        self._write([*self._hold_collection(collection), (CLEAR, {"collection": collection})])

    def write(self, steps: Steps) -> None:
        """Statements of the store's own modules (pg_due.py): in this thread's transaction, else committed at once."""
        self._write(steps)

    def connection(self):
        """A pooled autocommit connection of its own, whatever transaction this thread is in."""
        return self._pool.connection()

    # -- due work and notices --------------------------------------------------------------------

    def due_queue(self, namespace: str) -> PgDueQueue:
        """The namespace's due work, shared by every process on the database (pg_due.py)."""
        return self._due.queue(namespace)

    def on_notice(self, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` for each NOTIFY on the sandbox's channel, from any process (from `start` on)."""
        self._due.on_notice(callback)

    # -- what other processes keep in memory (pg_shared.py) -------------------------------------

    def announce(self, topic: str) -> None:
        """Count a change to `topic` as the transaction commits (at once outside one)."""
        if self._bound.active:
            self._bound.topics.add(topic)
        else:
            self._write(pg_shared.announcing({topic}))

    def change_count(self) -> int:
        with self._pool.connection() as conn:
            return pg_shared.change_count(conn)

    def topic_counts(self) -> dict[str, int]:
        with self._pool.connection() as conn:
            return pg_shared.topic_counts(conn)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Hold this process's owner lock and listen for notices (pg_due.py); the pool keeps its own connections."""
        self._due.start()

    def flush(self) -> None:
        """Nothing to do: every write is committed before it returns."""

    def close(self) -> None:
        self._due.close()
        self._pool.close()
        self._presence.close()

    # -- internals -----------------------------------------------------------------------------

    def _run(self, steps: Steps) -> list[tuple]:
        """The rows of the last statement: on the transaction's connection (BEGIN first, if nothing has needed it
        yet), else autocommitted on a pooled one."""
        bound = self._bound
        if not bound.active:
            with self._pool.connection() as conn:
                return _executed(conn, steps)
        if bound.conn is None:
            bound.conn = self._pool.getconn()
            steps = [("BEGIN", None), *steps]
        return _executed(bound.conn, steps)

    def _write(self, steps: Steps) -> None:
        """Statements that change the store: in the transaction, else in one of their own, committed before this
        returns (a document and its index entries together)."""
        if self._bound.active:
            self._run(steps)
            return
        with self._pool.connection() as conn:
            try:
                _executed(conn, [("BEGIN", None), *steps, ("COMMIT", None)])
            except BaseException:
                _roll_back(conn)
                raise

    def _end(self, commit: bool) -> None:
        """COMMIT (after counting what it announced) or ROLLBACK the thread's transaction, and give its connection
        back (if it ever took one)."""
        bound = self._bound
        topics, bound.topics = bound.topics, set()
        try:
            if commit and topics:
                self._run(pg_shared.announcing(topics))
        except BaseException:
            commit = False
            raise
        finally:
            conn, bound.conn = bound.conn, None
            if conn is not None:
                try:
                    if commit:
                        conn.execute("COMMIT")
                    else:
                        _roll_back(conn)
                finally:
                    self._pool.putconn(conn)

    def _read_collection(self, collection: str, query: str, params: tuple) -> list[tuple]:
        """The rows of a query over a whole collection, held inside a transaction against every writer of it."""
        hold = self._hold_collection(collection) if self._bound.active else []
        return self._run([*hold, (query, params)])

    def _hold_key(self, collection: str, key: str) -> Steps:
        """The statement that holds a key (and its collection, shared), unless this transaction already does."""
        lock = advisory_key("document", collection, stored_key(key))
        return [] if self._already_held(lock) else [(HOLD_KEY, (_collection_lock(collection), lock))]

    def _hold_collection(self, collection: str) -> Steps:
        lock = _collection_lock(collection)
        return [] if self._already_held(lock) else [(HOLD_COLLECTION, (lock,))]

    def _already_held(self, lock: int) -> bool:
        """Whether this thread's transaction holds the lock; it will from the next statement on."""
        bound = self._bound
        if not bound.active:
            return False
        if lock in bound.held:
            return True
        bound.held.add(lock)
        return False


def _executed(conn: psycopg.Connection, steps: Steps) -> list[tuple]:
    """Run the statements in order; answer the rows of the last that returns any."""
    rows: list[tuple] = []
    for query, params in steps:
        cursor = conn.execute(query, params)
        if cursor.description is not None:
            rows = cursor.fetchall()
    return rows


def _roll_back(conn: psycopg.Connection) -> None:
    """End a failed transaction; a connection too broken even for that is the pool's to discard."""
    with suppress(psycopg.Error):
        conn.execute("ROLLBACK")


def _collection_lock(collection: str) -> int:
    return advisory_key("collection", collection)
