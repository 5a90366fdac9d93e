"""The Store contract (sandbox.core.store.base), run against both backends: TinyStore in a file, PgStore in a fresh
PostgreSQL database. What one backend does here, the other does too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from sandbox.core.store import open_store

ORDERS = "orders"


def by_trade_no(doc: dict) -> list:
    return [doc["trade_no"]]


@pytest.fixture(params=["tiny", "postgres"])
def opened(request, tmp_path):
    """opened(): a store on this test's data (a file, or a database): a second call reopens it."""
    data = str(tmp_path / "store.json") if request.param == "tiny" else request.getfixturevalue("postgres_url")
    stores = []

    def open_again():
        if stores:
            stores[-1].close()
        stores.append(open_store(data))
        return stores[-1]

    yield open_again
    stores[-1].close()


@pytest.fixture
def store(opened):
    store = opened()
    store.add_index(ORDERS, "trade_no", by_trade_no)
    return store


def test_put_get_and_replace_keep_indexes_in_step(store):
    store.put(ORDERS, "a", {"trade_no": "T1", "status": "pending"})
    store.put(ORDERS, "a", {"trade_no": "T2", "status": "paid"})
    assert store.get(ORDERS, "a") == {"trade_no": "T2", "status": "paid"}
    assert store.lookup(ORDERS, "trade_no", "T1") == []
    assert store.lookup(ORDERS, "trade_no", "T2") == [{"trade_no": "T2", "status": "paid"}]


def test_a_missing_key_reads_as_none_and_deleting_it_does_nothing(store):
    assert store.get(ORDERS, "nope") is None
    store.delete(ORDERS, "nope")
    assert store.count(ORDERS) == 0


def test_delete_and_clear_take_the_index_entries_along(store):
    for n in range(10):
        store.put(ORDERS, f"k{n}", {"trade_no": f"T{n}"})
    store.delete(ORDERS, "k3")
    assert store.get(ORDERS, "k3") is None
    assert store.lookup(ORDERS, "trade_no", "T3") == []
    assert store.count(ORDERS) == 9
    store.clear(ORDERS)
    assert store.all(ORDERS) == [] and store.count(ORDERS) == 0
    assert store.lookup(ORDERS, "trade_no", "T4") == []


def test_collections_are_apart(store):
    store.put(ORDERS, "same", {"trade_no": "T1"})
    store.put("notifications", "same", {"trade_no": "other"})
    store.clear("notifications")
    assert store.get(ORDERS, "same") == {"trade_no": "T1"}


def test_an_index_takes_tuples_several_values_per_document_and_repeats(store):
    store.add_index(ORDERS, "refund", lambda d: [(d["gateway"], r) for r in d["refunds"]])
    store.put(ORDERS, "a", {"trade_no": "T1", "gateway": "alipay", "refunds": ["R1", "R2", "R2"]})
    store.put(ORDERS, "b", {"trade_no": "T2", "gateway": "wechatpay", "refunds": ["R1"]})
    assert [d["trade_no"] for d in store.lookup(ORDERS, "refund", ("alipay", "R2"))] == ["T1"]
    assert [d["trade_no"] for d in store.lookup(ORDERS, "refund", ("wechatpay", "R1"))] == ["T2"]
    assert [d["trade_no"] for d in store.lookup(ORDERS, "refund", ("alipay", "R1"))] == ["T1"]
    store.put(ORDERS, "a", {"trade_no": "T1", "gateway": "alipay", "refunds": ["R1"]})
    assert store.lookup(ORDERS, "refund", ("alipay", "R2")) == []


def test_a_lookup_by_an_index_never_declared_is_a_key_error(store):
    with pytest.raises(KeyError):
        store.lookup(ORDERS, "handle", "x")


def test_an_index_declared_after_the_documents_finds_them_and_so_it_does_after_a_reopen(opened):
    store = opened()
    store.put(ORDERS, "a", {"trade_no": "T1", "buyer": "B1"})
    store.add_index(ORDERS, "buyer", lambda d: [d["buyer"]])
    assert store.lookup(ORDERS, "buyer", "B1") == [{"trade_no": "T1", "buyer": "B1"}]
    store = opened()
    store.add_index(ORDERS, "buyer", lambda d: [d["buyer"]])
    store.add_index(ORDERS, "trade_no", by_trade_no)
    assert store.lookup(ORDERS, "trade_no", "T1") == store.lookup(ORDERS, "buyer", "B1") == [store.get(ORDERS, "a")]


def test_scan_compares_top_level_fields_for_equality(store):
    docs = {
        "a": {"trade_no": "T1", "status": "paid", "amount": 5, "tags": ["x", "y"], "flag": True},
        "b": {"trade_no": "T2", "status": "paid", "amount": 7, "tags": ["x"], "flag": False},
        "c": {"trade_no": "T3", "status": "closed", "amount": 5, "tags": [], "note": None},
    }
    for key, doc in docs.items():
        store.put(ORDERS, key, doc)

    def scanned(**equals) -> list[str]:
        return sorted(d["trade_no"] for d in store.scan(ORDERS, **equals))

    assert scanned() == ["T1", "T2", "T3"]
    assert scanned(status="paid") == ["T1", "T2"]
    assert scanned(status="paid", amount=5) == ["T1"]
    assert scanned(tags=["x"]) == ["T2"]  # equal, not merely contained
    assert scanned(flag=False) == ["T2"]
    assert scanned(note=None) == ["T1", "T2", "T3"]  # a missing field equals None, as dict.get has it
    assert scanned(status="refunded") == []


def test_documents_and_keys_read_back_exactly_as_put(store_data):
    # TinyStore in memory here: its file cannot hold a lone surrogate (JSON text is written as UTF-8).
    store = open_store(store_data)
    store.add_index(ORDERS, "trade_no", by_trade_no)
    odd = {
        "text": "中文 ümlaut \x00 nul",
        "surrogate": "\ud800 lone",
        "nested": {"list": [1, 2.5, None, True, {"deep": "x"}], "empty": {}},
        "big": 2**62,
    }
    keys = ["plain", "with \x00 nul", '"quoted"', '"with \\u0000 nul"']
    for n, key in enumerate(keys):
        store.put(ORDERS, key, {**odd, "trade_no": f"T{n}"})
    store.put("other", "look-alike", {"$paysandbox:json": "{}"})
    for n, key in enumerate(keys):
        assert store.get(ORDERS, key) == {**odd, "trade_no": f"T{n}"}
        assert store.lookup(ORDERS, "trade_no", f"T{n}") == [{**odd, "trade_no": f"T{n}"}]
    assert store.get("other", "look-alike") == {"$paysandbox:json": "{}"}
    assert len(store.scan(ORDERS, text=odd["text"])) == len(store.scan(ORDERS, surrogate=odd["surrogate"])) == 4
    store.delete(ORDERS, "with \x00 nul")
    assert store.get(ORDERS, "with \x00 nul") is None and store.count(ORDERS) == 3
    store.close()


def test_what_was_stored_is_there_after_a_reopen(opened):
    store = opened()
    store.put(ORDERS, "a", {"trade_no": "T1", "subject": "中文"})
    store.put("notifications", "n1", {"status": "pending"})
    store = opened()
    store.add_index(ORDERS, "trade_no", by_trade_no)
    assert store.get(ORDERS, "a") == {"trade_no": "T1", "subject": "中文"}
    assert store.lookup(ORDERS, "trade_no", "T1")[0]["subject"] == "中文"
    assert store.all("notifications") == [{"status": "pending"}]


def test_a_transaction_reads_its_own_writes_and_nests(store):
    with store.transaction():
        store.put(ORDERS, "a", {"trade_no": "T1"})
        with store.transaction():
            assert store.get(ORDERS, "a") == {"trade_no": "T1"}
            store.put(ORDERS, "b", {"trade_no": "T2"})
        assert store.lookup(ORDERS, "trade_no", "T2") == [{"trade_no": "T2"}]
        assert store.count(ORDERS) == 2
    assert store.count(ORDERS) == 2


def test_threads_never_interleave_a_check_then_write_on_a_key(store):
    store.put("counters", "c", {"n": 0})

    def increment(_) -> None:
        with store.transaction():
            n = store.get("counters", "c")["n"]
            store.put("counters", "c", {"n": n + 1})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(increment, range(80)))
    assert store.get("counters", "c") == {"n": 80}


def test_threads_creating_a_missing_key_create_it_once(store):
    created = []
    start = threading.Barrier(8)

    def create(n: int) -> None:
        start.wait()
        with store.transaction():
            if store.get(ORDERS, "new") is None:
                store.put(ORDERS, "new", {"trade_no": f"T{n}"})
                created.append(n)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(8)))
    assert len(created) == 1
    assert store.lookup(ORDERS, "trade_no", f"T{created[0]}") == [store.get(ORDERS, "new")]
