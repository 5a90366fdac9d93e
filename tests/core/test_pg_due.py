"""The PostgreSQL due queue (store/pg_due.py) on a real server: rows scheduled in the writer's transaction, taken by
exactly one process, free again when their holder's session ends, announced to every process, and the advance lock.

Two PgStore objects on one database stand for two processes: each has its own owner number, lock and listener."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from sandbox.core import payments as payments_module
from sandbox.core.models import Order
from sandbox.core.payments import Payments
from sandbox.core.store import open_store
from sandbox.core.timers import Timers

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=8)))


def rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT namespace, kind, key, owner FROM due_work ORDER BY due_at, id").fetchall()


def test_work_is_taken_earliest_first_once_due_and_gone_once_done(postgres_url, two):
    queue = two[0].due_queue("ns-a")
    assert queue.durable and queue.next_due() is None
    queue.schedule(NOW + timedelta(seconds=30), "notify", "ntf_later")
    queue.schedule(NOW, "expire", "alipay|app|\x00odd\ud800")  # a key PostgreSQL cannot hold as it is
    queue.schedule(NOW - timedelta(seconds=5), "settle", "order-1")
    queue.schedule(NOW - timedelta(seconds=5), "settle", "order-1")  # the same moment again: one row
    two[0].due_queue("ns-b").schedule(NOW - timedelta(days=1), "notify", "elsewhere")
    assert queue.next_due() == NOW - timedelta(seconds=5)

    taken = queue.take_due(NOW)
    assert [(e.kind, e.key, e.due) for e in taken] == [
        ("settle", "order-1", NOW - timedelta(seconds=5)),
        ("expire", "alipay|app|\x00odd\ud800", NOW),
    ]
    assert queue.take_due(NOW) == []  # leased: neither this process nor another takes them again
    assert queue.next_due() == NOW + timedelta(seconds=30)  # what is taken is not waiting
    for entry in taken:
        entry.done()
    assert [(ns, kind, key) for ns, kind, key, _ in rows(postgres_url)] == [
        ("ns-b", "notify", "elsewhere"),
        ("ns-a", "notify", "ntf_later"),
    ]
    queue.clear()
    assert [ns for ns, *_ in rows(postgres_url)] == ["ns-b"]


def test_two_processes_taking_at_once_take_each_row_exactly_once(two):
    queues = [store.due_queue("default") for store in two]
    for n in range(300):
        queues[n % 2].schedule(NOW - timedelta(seconds=n), "notify", f"ntf_{n}")
    start = threading.Barrier(8)

    def take(n: int) -> list[str]:
        start.wait()
        keys = []
        while taken := queues[n % 2].take_due(NOW, 3):
            keys += [entry.key for entry in taken]
        return keys

    with ThreadPoolExecutor(max_workers=8) as pool:
        takes = list(pool.map(take, range(8)))
    every = [key for keys in takes for key in keys]
    assert sorted(every) == sorted(f"ntf_{n}" for n in range(300))  # all taken, none twice
    assert any(takes[0::2]) and any(takes[1::2])  # by both processes


def test_work_held_by_a_process_that_ends_is_taken_over(postgres_url, two):
    holder, other = two
    holder.due_queue("default").schedule(NOW, "notify", "ntf_1")
    [held] = holder.due_queue("default").take_due(NOW)
    assert other.due_queue("default").take_due(NOW) == []  # its holder is alive
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # its session ends, as when its process dies
        admin.execute("SELECT pg_terminate_backend(%s)", (holder._due._conn.info.backend_pid,))
    [taken] = until(lambda: other.due_queue("default").take_due(NOW))
    assert (taken.kind, taken.key) == ("notify", "ntf_1")
    held.done()  # the old holder's late `done` does not drop the new holder's lease
    assert len(rows(postgres_url)) == 1
    taken.done()
    assert rows(postgres_url) == []


def test_a_rolled_back_write_leaves_no_due_row_and_announces_nothing(postgres_url, two):
    heard: list[str] = []
    arrived = threading.Event()
    two[1].on_notice(lambda payload: (heard.append(payload), arrived.set()))
    two[1].start()
    queue = two[0].due_queue("ns-a")
    with pytest.raises(RuntimeError), two[0].transaction():
        queue.schedule(NOW, "expire", "never")
        raise RuntimeError("the write fails")
    assert rows(postgres_url) == []
    with two[0].transaction():
        queue.schedule(NOW, "expire", "kept")
        assert rows(postgres_url) == []  # not before the commit
    assert arrived.wait(5)
    assert heard == [f"due:ns-a:{NOW.isoformat()}"]  # the namespace, and the moment the row falls due
    assert [key for _, _, key, _ in rows(postgres_url)] == ["kept"]


def test_a_rolled_back_order_creation_leaves_no_expiry(postgres_url, two):
    store = two[0]
    payments_module.declare_indexes(store)
    payments = Payments(store, "default", _Clock(), None, store.due_queue("default"), lambda *event: None)
    draft = Order("alipay", "app", "T-1", "", 100, NOW, expires_at=NOW + timedelta(minutes=15))
    with pytest.raises(RuntimeError), store.transaction():
        payments.create(draft, lambda: "2030010122001")
        raise RuntimeError("a later step of the request fails")
    assert store.get("orders", draft.key) is None
    assert rows(postgres_url) == []


def test_a_flush_or_advance_keeps_every_other_background_worker_off_the_namespace(two):
    mine, theirs = two[0].due_queue("ns-a"), two[1].due_queue("ns-a")
    with theirs.background_turn() as granted:
        assert granted
    with mine.exclusive():
        with theirs.background_turn() as granted:
            assert not granted
        with two[1].due_queue("ns-b").background_turn() as granted:
            assert granted  # another namespace is not held up
    with theirs.background_turn() as granted:
        assert granted


def test_work_scheduled_by_one_process_wakes_the_other(two):
    woken = threading.Event()
    two[1].due_queue("ns-a").on_schedule(woken.set)
    two[1].start()
    two[0].due_queue("ns-a").schedule(NOW, "notify", "ntf_1")
    assert woken.wait(5)


def test_a_database_from_before_due_rows_is_rescheduled_once(postgres_url):
    open_store(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:  # as a database of schema version 1 was
        conn.execute("DROP TABLE due_work; DROP SEQUENCE due_owners; UPDATE schema_version SET version = 1")
    migrated, later = open_store(postgres_url), None
    try:
        assert not migrated.due_queue("default").durable  # its documents' due work is rebuilt from them
        later = open_store(postgres_url)
        assert later.due_queue("default").durable
    finally:
        migrated.close()
        if later is not None:
            later.close()


def test_the_in_memory_queue_keeps_its_behaviour():
    timers = Timers()
    woken = []
    timers.on_schedule(lambda: woken.append(1))
    timers.schedule(NOW + timedelta(seconds=1), "notify", "b")
    timers.schedule(NOW, "expire", "a")
    assert not timers.durable and woken == [1, 1] and timers.next_due() == NOW
    assert [(e.kind, e.key) for e in timers.take_due(NOW + timedelta(seconds=1), 1)] == [("expire", "a")]
    assert [(e.kind, e.key) for e in timers.take_due(NOW + timedelta(seconds=1))] == [("notify", "b")]
    assert timers.next_due() is None
    with timers.exclusive(), timers.background_turn() as granted:
        assert granted


def test_the_in_memory_queue_wakes_its_listeners_only_for_a_new_earliest():
    timers = Timers()
    woken = []
    timers.on_schedule(lambda: woken.append(1))
    timers.schedule(NOW + timedelta(hours=2), "expire", "a")  # the first: the worker sleeps until it
    timers.schedule(NOW + timedelta(hours=3), "expire", "b")  # later than what it sleeps until: no wake-up
    timers.schedule(NOW + timedelta(hours=2), "expire", "c")  # as early, not earlier: none either
    timers.schedule(NOW, "notify", "d")  # earlier: wakes it
    assert woken == [1, 1] and timers.next_due() == NOW


def until(probe, seconds: float = 5.0):
    """`probe()` once it answers something true (the server ends a closed session a moment after its client)."""
    deadline = time.monotonic() + seconds
    while not (answer := probe()):
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.02)
    return answer


class _Clock:
    def now(self) -> datetime:
        return NOW
