"""What PgStore adds to the Store contract: holding across processes, rollback, writes committed on return.

Two PgStore objects on one database stand for two processes: each has its own pool and its own in-process lock, so
only PostgreSQL's locks stand between them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from sandbox.core.store import open_store

RULES = "scenarios"


def test_two_processes_never_interleave_a_check_then_write_on_a_key(two):
    two[0].put("counters", "c", {"n": 0})

    def increment(n: int) -> None:
        store = two[n % 2]
        with store.transaction():
            count = store.get("counters", "c")["n"]
            store.put("counters", "c", {"n": count + 1})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(increment, range(60)))
    assert two[1].get("counters", "c") == {"n": 60}


def test_two_processes_creating_a_missing_key_create_it_once(two):
    created = []
    start = threading.Barrier(8)

    def create(n: int) -> None:
        store = two[n % 2]
        start.wait()
        with store.transaction():
            if store.get("orders", "new") is None:
                store.put("orders", "new", {"by": n})
                created.append(n)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(8)))
    assert len(created) == 1 and two[0].get("orders", "new") == {"by": created[0]}


def test_a_collection_read_whole_in_a_transaction_is_held_against_every_writer(two):
    # Taking a one-shot scenario rule: read every rule, spend one use of the first that has any left.
    two[0].put(RULES, "r1", {"id": "r1", "left": 3})
    two[0].put(RULES, "r2", {"id": "r2", "left": 2})
    taken = []

    def take(n: int) -> None:
        store = two[n % 2]
        with store.transaction():
            rule = next((r for r in sorted(store.all(RULES), key=lambda r: r["id"]) if r["left"]), None)
            if rule:
                store.put(RULES, rule["id"], {**rule, "left": rule["left"] - 1})
                taken.append(rule["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(take, range(12)))
    assert sorted(taken) == ["r1"] * 3 + ["r2"] * 2
    assert [r["left"] for r in two[1].all(RULES)] == [0, 0]


def test_a_get_holds_a_key_even_while_it_has_no_document(two, postgres_url):
    first, second = two
    done = threading.Event()
    with first.transaction():
        assert first.get("orders", "k") is None
        writer = threading.Thread(target=lambda: (second.put("orders", "k", {"by": "second"}), done.set()))
        writer.start()
        _wait_until_waiting_for_a_lock(postgres_url)
        assert not done.is_set()
        first.put("orders", "k", {"by": "first"})
    writer.join(timeout=10)
    assert done.is_set() and first.get("orders", "k") == {"by": "second"}  # it went after the holder, not before


def _wait_until_waiting_for_a_lock(url: str) -> None:
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'"
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 10
        while conn.execute(query).fetchone()[0] == 0:
            assert time.monotonic() < deadline, "the second writer never waited for the held key"
            time.sleep(0.01)  # polling for the other thread's state, not waiting out a timer


def test_an_exception_rolls_the_whole_transaction_back(two):
    store, other = two
    store.add_index("orders", "trade_no", lambda d: [d["trade_no"]])
    store.put("orders", "a", {"trade_no": "T1"})
    with pytest.raises(RuntimeError), store.transaction():
        store.put("orders", "a", {"trade_no": "T2"})
        store.put("orders", "b", {"trade_no": "T3"})
        raise RuntimeError("refused halfway")
    assert store.get("orders", "a") == {"trade_no": "T1"} and store.get("orders", "b") is None
    assert store.lookup("orders", "trade_no", "T2") == store.lookup("orders", "trade_no", "T3") == []
    assert other.count("orders") == 1


def test_every_write_is_committed_before_it_returns_and_a_transaction_when_it_ends(two):
    store, other = two
    store.put("orders", "a", {"x": 1})
    assert other.get("orders", "a") == {"x": 1}  # no flush, no close
    with store.transaction():
        store.put("orders", "b", {"x": 2})
        assert other.get("orders", "b") is None
    assert other.get("orders", "b") == {"x": 2}


def test_an_index_is_built_once_for_the_documents_stored_before_it(two, postgres_url):
    first, second = two
    first.put("orders", "a", {"buyer": "B1"})
    first.add_index("orders", "buyer", lambda d: [d["buyer"]])
    second.add_index("orders", "buyer", lambda d: [d["buyer"]])
    second.put("orders", "b", {"buyer": "B1"})
    assert sorted(d["buyer"] for d in first.lookup("orders", "buyer", "B1")) == ["B1", "B1"]
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM index_entries").fetchone()[0] == 2
        assert conn.execute("SELECT index_name FROM built_indexes").fetchall() == [("buyer",)]


def test_keys_postgresql_could_not_hold_as_text_are_kept_apart(two):
    store, other = two
    for key in ["\udc80 lone", "\x00", '"\\u0000"', '"\\udc80 lone"']:
        store.put("orders", key, {"key": key})
    assert [other.get("orders", key)["key"] for key in ["\udc80 lone", "\x00", '"\\u0000"', '"\\udc80 lone"']] == [
        "\udc80 lone",
        "\x00",
        '"\\u0000"',
        '"\\udc80 lone"',
    ]


def test_the_store_names_its_database_without_the_password(postgres_url):
    store = open_store(postgres_url)
    try:
        password = psycopg.conninfo.conninfo_to_dict(postgres_url)["password"]
        assert password not in store.path
        assert store.path == postgres_url.replace(f":{password}@", "@")
    finally:
        store.close()
