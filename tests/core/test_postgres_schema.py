"""The PostgreSQL store's schema is made and migrated at start, and a database it cannot use is one clear line."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from sandbox.core.store import open_store
from sandbox.core.store import schema as schema_module
from sandbox.core.store.database import DatabaseUnusable
from tests.postgres import free_port, with_database


def version(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT version FROM schema_version").fetchall()


def refusal(url: str, password: str = "") -> str:
    with pytest.raises(DatabaseUnusable) as refused:
        open_store(url).close()
    line = str(refused.value)
    assert "\n" not in line and "; " in line  # what, why; then what to do
    assert (password or conninfo_to_dict(url).get("password", "never")) not in line
    return line


def test_a_new_database_gets_the_latest_schema(postgres_url):
    open_store(postgres_url).close()
    assert version(postgres_url) == [(schema_module.LATEST,)]


def test_processes_starting_at_once_on_a_new_database_migrate_it_once(postgres_url):
    start = threading.Barrier(6)

    def open_and_close(_) -> None:
        start.wait()
        open_store(postgres_url).close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(open_and_close, range(6)))
    assert version(postgres_url) == [(schema_module.LATEST,)]


def test_an_older_schema_is_migrated_and_keeps_its_documents(postgres_url, monkeypatch):
    store = open_store(postgres_url)
    store.put("orders", "a", {"status": "paid"})
    store.close()
    # The next release's migration, as it will be appended (the due table of the next round, in miniature).
    later = "CREATE TABLE due (kind text NOT NULL, key text NOT NULL, due_at timestamptz NOT NULL)"
    monkeypatch.setattr(schema_module, "MIGRATIONS", (*schema_module.MIGRATIONS, later))
    monkeypatch.setattr(schema_module, "LATEST", schema_module.LATEST + 1)

    store = open_store(postgres_url)
    assert store.get("orders", "a") == {"status": "paid"}
    store.close()
    assert version(postgres_url) == [(schema_module.LATEST,)]
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM due").fetchone() == (0,)


def test_a_newer_schema_is_refused_with_one_line(postgres_url):
    open_store(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    line = refusal(postgres_url)
    assert line.startswith("cannot use the database postgresql://postgres@127.0.0.1:")
    assert f"its schema is version 99, newer than this paysandbox knows (version {schema_module.LATEST})" in line
    assert line.endswith("upgrade paysandbox, or point --data at another database")


def test_a_database_holding_another_programs_tables_is_refused(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE documents (id serial)")
    assert "it holds tables paysandbox did not make" in refusal(postgres_url)


def test_a_user_who_may_not_create_tables_is_told_what_to_grant(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE visitor LOGIN PASSWORD 'visitor-secret'")
    visitor = postgres_url.replace("postgres:", "visitor:").split("@")[0].rsplit(":", 1)[0]
    url = f"{visitor}:visitor-secret@{postgres_url.split('@', 1)[1]}"
    try:
        assert "its user may not create the sandbox's tables (permission denied for schema public)" in refusal(url)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("DROP ROLE visitor")


def test_an_unreachable_server_a_wrong_password_and_a_missing_database_are_each_one_line(postgres_url):
    nobody = f"postgresql://paysandbox:s3cret-pw@127.0.0.1:{free_port()}/paysandbox"
    line = refusal(nobody)
    assert line.startswith(f"cannot use the database postgresql://paysandbox@127.0.0.1:{nobody.rsplit(':', 1)[1]}")
    assert "Connection refused" in line and "check the host, port and database in the URL" in line

    password = conninfo_to_dict(postgres_url)["password"]
    assert "password authentication failed" in refusal(postgres_url.replace(password, "wrong-password"))
    assert "check the user and password in the URL" in refusal(postgres_url.replace(password, "wrong-password"))
    missing = refusal(with_database(postgres_url, "no_such_database"))
    assert 'database "no_such_database" does not exist; create that database' in missing


def test_a_url_postgresql_cannot_read_is_one_line_without_its_password():
    line = refusal("postgresql://user:top-secret@127.0.0.1:5432/db?no_such_option=1", password="top-secret")
    assert line.startswith("cannot use the database postgresql://user@127.0.0.1:5432/db: it is not a URL PostgreSQL")
