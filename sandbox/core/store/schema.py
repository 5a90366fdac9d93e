"""The PostgreSQL store's schema: numbered migrations that each process applies at start, in order, under one lock.

A database records the last migration it ran in `schema_version`. A migration, once released, is never edited: a
change is a new one appended to MIGRATIONS. A database of a newer version than this sandbox knows is refused, since
an older sandbox cannot know what the newer tables mean.

Every process on one database shares its documents and its due work (migration 2: `due_work`, see store/pg_due.py):
expiries, settlements and notification attempts as rows leased by whichever process takes them (FOR UPDATE SKIP
LOCKED), announced with NOTIFY, and free again when their holder's session ends; and what each process keeps in
memory of the shared state (migration 3: `shared_changes`, see store/pg_shared.py): a namespace's clock, the
namespaces, the scenario rules, re-read when another process announces a change.
"""

from __future__ import annotations

import psycopg
from psycopg import errors

from sandbox.core.store.database import DatabaseUnusable, advisory_key, shown

MIGRATIONS: tuple[str, ...] = (
    # 1: documents by (collection, key); the entries of their declared indexes, one row per value, kept in step by
    # every write; and which indexes have been built over the documents that were there before them.
    """
    CREATE TABLE documents (
        collection text NOT NULL,
        key text NOT NULL,
        doc jsonb NOT NULL,
        PRIMARY KEY (collection, key)
    );
    CREATE TABLE index_entries (
        collection text NOT NULL,
        index_name text NOT NULL,
        value text NOT NULL,
        key text NOT NULL,
        PRIMARY KEY (collection, index_name, value, key)
    );
    CREATE INDEX index_entries_of_a_document ON index_entries (collection, key);
    CREATE TABLE built_indexes (
        collection text NOT NULL,
        index_name text NOT NULL,
        PRIMARY KEY (collection, index_name)
    );
    """,
    # 2: due work shared by every process: one row per moment something falls due (an order's expiry or settlement,
    # a refund's settlement, a notification attempt), leased by the process running it (`owner`, whose session
    # holds an advisory lock on it while alive) and deleted once done; owners are numbered by a sequence.
    """
    CREATE TABLE due_work (
        id bigserial PRIMARY KEY,
        namespace text NOT NULL,
        kind text NOT NULL,
        key text NOT NULL,
        due_at timestamptz NOT NULL,
        owner integer,
        UNIQUE (namespace, kind, key, due_at)
    );
    CREATE INDEX due_work_by_moment ON due_work (namespace, due_at);
    CREATE SEQUENCE due_owners AS integer CYCLE;
    """,
    # 3: how many changes each piece of in-process state shared by every process (a namespace's clock, the
    # namespaces, the scenario rules) has had, so each re-reads only what another changed (store/pg_shared.py).
    """
    CREATE TABLE IF NOT EXISTS shared_changes (
        topic text PRIMARY KEY,
        version bigint NOT NULL
    );
    """,
)
LATEST = len(MIGRATIONS)
DUE_WORK = 2  # the version that brought `due_work`
MIGRATION_LOCK = advisory_key("schema")
OWN_DATABASE = "give the sandbox a database of its own (createdb paysandbox)"


def migrate(conn: psycopg.Connection, url: str) -> int:
    """Bring the database up to LATEST (several processes starting at once take turns); answers the version found.

    Raises DatabaseUnusable for a newer schema, for tables of the same names that another program made, and when the
    user may not create tables."""
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            found = row[0] if row else 0
            if found > LATEST:
                raise DatabaseUnusable(
                    shown(url),
                    f"its schema is version {found}, newer than this paysandbox knows (version {LATEST})",
                    "upgrade paysandbox, or point --data at another database",
                )
            for number in range(found + 1, LATEST + 1):
                conn.execute(MIGRATIONS[number - 1])
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (LATEST,))
            elif found < LATEST:
                conn.execute("UPDATE schema_version SET version = %s", (LATEST,))
    except errors.DuplicateTable as exc:
        problem = f"it holds tables paysandbox did not make ({exc.diag.message_primary})"
        raise DatabaseUnusable(shown(url), problem, OWN_DATABASE) from None
    except errors.InsufficientPrivilege as exc:
        problem = f"its user may not create the sandbox's tables ({exc.diag.message_primary})"
        advice = "make the user the database's owner (ALTER DATABASE ... OWNER TO ...), or " + OWN_DATABASE
        raise DatabaseUnusable(shown(url), problem, advice) from None
    return found
