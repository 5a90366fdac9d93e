"""The sandbox's store: one interface (base.Store), and the backend `--data` names.

No `--data`: the embedded TinyDB store in memory. A file path: the same store in that TinyDB JSON file. A
`postgresql://` (or `postgres://`) URL: PgStore in that database, its schema made or migrated at start. psycopg is
imported only then: it would add a seventh of a second to every start.
"""

from __future__ import annotations

from sandbox.core import storefile
from sandbox.core.store.base import IndexFn, Store
from sandbox.core.store.tiny import TinyStore

DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(data: str | None) -> bool:
    return bool(data) and data.startswith(DATABASE_SCHEMES)


def open_store(data: str | None) -> Store:
    """The backend for `--data` (SANDBOX_DATA). Raises StoreFileError (a database's DatabaseUnusable is one) when it
    cannot be used."""
    if is_database_url(data):
        from sandbox.core.store.postgres import PgStore

        return PgStore(data)
    return TinyStore(data)


def check(data: str) -> None:
    """Raise StoreFileError if `--data` cannot be used: a damaged file, or a database that cannot be reached or whose
    schema is newer (an older one is brought up to date, as opening it would)."""
    if not is_database_url(data):
        storefile.check(data)
        return
    from sandbox.core.store.database import connect
    from sandbox.core.store.schema import migrate

    with connect(data) as conn:
        migrate(conn, data)


__all__ = ["IndexFn", "Store", "TinyStore", "check", "is_database_url", "open_store"]
