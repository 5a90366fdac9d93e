"""A namespace's clock kept in a store that two processes share (two PgStores on one database stand for them), and
not kept at all in a store of one process's own."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.core import clocks
from sandbox.core.clock import BEIJING, Clock
from sandbox.core.coherence import Coherence
from sandbox.core.store import TinyStore


def test_the_first_store_opened_is_alone_and_the_next_joins_it(two):
    first, second = two
    assert (first.joined, second.joined) == (False, True)


def test_a_change_through_one_is_restored_by_the_other_once_announced(two):
    first, second = two
    here, there = Clock("manual"), Clock("real")
    clocks.share(here, first, "default", restart=True)
    heard: list[set[str]] = []
    coherence = Coherence(second, heard.append)
    clocks.share(there, second, "default", restart=False)
    assert (there.mode, there.now()) == ("manual", here.now())

    here.advance_to(here.now() + timedelta(hours=1))
    coherence.refresh()
    assert heard == [{"clock:default"}]
    there.reload()
    assert there.now() == here.now()

    there.set_mode("accelerated", 60)  # starts from the stored clock, and keeps it for the other
    here.reload()
    assert (here.mode, here.factor) == ("accelerated", 60.0)
    coherence.refresh()
    assert len(heard) == 2


def test_an_older_state_is_never_restored(two):
    first, _ = two
    clock = Clock("manual")
    clocks.share(clock, first, "default", restart=True)
    old, then = clock.state(), clock.now()
    clock.advance_to(then + timedelta(minutes=5))
    assert not clock.restore(old)
    assert clock.now() == then + timedelta(minutes=5)
    clock.reload()  # the stored state is this one
    assert clock.now() == then + timedelta(minutes=5)


def test_a_store_of_one_process_keeps_no_clock():
    store = TinyStore()
    clock = Clock("manual")
    clocks.share(clock, store, "default", restart=False)
    clock.advance_to(clock.now() + timedelta(hours=1))
    assert store.get(clocks.COLLECTION, "default") is None
    assert (store.change_count(), store.topic_counts()) == (0, {})


def test_a_reset_to_real_time_reaches_the_other_process(two):
    first, second = two
    here, there = Clock("manual"), Clock("manual")
    clocks.share(here, first, "default", restart=True)
    clocks.share(there, second, "default", restart=False)
    here.advance_to(here.now() + timedelta(days=3))
    there.reload()
    assert there.now() > datetime.now(BEIJING) + timedelta(days=2)

    there.reset_to_real()
    here.reload()
    assert (here.mode, here.factor) == ("real", 1.0)
    assert abs(here.now() - datetime.now(BEIJING)) < timedelta(seconds=5)
