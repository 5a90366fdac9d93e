from tinydb import TinyDB

from sandbox.core.store import TinyStore


def test_put_get_and_replace_keep_indexes_in_step():
    store = TinyStore()
    store.add_index("orders", "trade_no", lambda d: [d["trade_no"]])
    store.put("orders", "a", {"trade_no": "T1", "status": "pending"})
    store.put("orders", "a", {"trade_no": "T2", "status": "paid"})
    assert store.get("orders", "a") == {"trade_no": "T2", "status": "paid"}
    assert store.lookup("orders", "trade_no", "T1") == []
    assert store.lookup("orders", "trade_no", "T2") == [{"trade_no": "T2", "status": "paid"}]


def test_delete_and_clear():
    store = TinyStore()
    store.add_index("orders", "trade_no", lambda d: [d["trade_no"]])
    for n in range(10):
        store.put("orders", f"k{n}", {"trade_no": f"T{n}"})
    store.delete("orders", "k3")
    assert store.get("orders", "k3") is None
    assert store.lookup("orders", "trade_no", "T3") == []
    assert store.count("orders") == 9
    store.clear("orders")
    assert store.all("orders") == []
    assert store.lookup("orders", "trade_no", "T4") == []


def test_file_store_survives_a_restart_and_is_valid_tinydb_json(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.put("orders", "a", {"trade_no": "T1", "subject": "中文"})
    store.put("notifications", "n1", {"status": "pending"})
    store.close()
    assert not (tmp_path / "state.json.journal").exists()  # a clean stop leaves the TinyDB file complete
    assert TinyDB(str(path)).table(TinyStore._shard("orders", "a")).all() == [
        {"_key": "a", "trade_no": "T1", "subject": "中文"}
    ]
    reopened = TinyStore(str(path))
    reopened.add_index("orders", "trade_no", lambda d: [d["trade_no"]])
    assert reopened.get("orders", "a") == {"trade_no": "T1", "subject": "中文"}
    assert reopened.lookup("orders", "trade_no", "T1")[0]["subject"] == "中文"
    reopened.put("orders", "a", {"trade_no": "T1", "subject": "changed"})
    reopened.close()
    assert TinyStore(str(path)).get("orders", "a")["subject"] == "changed"


def test_a_flush_appends_only_the_changes_to_the_journal(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.put("orders", "a", {"x": 1})
    store.put("orders", "b", {"x": 2})
    store.delete("orders", "b")
    store.flush()
    journal = tmp_path / "state.json.journal"
    assert len(journal.read_text().splitlines()) == 3
    assert not path.exists()
    store.flush()
    assert len(journal.read_text().splitlines()) == 3  # nothing changed, nothing written


def test_state_survives_a_crash_from_file_and_journal(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.put("orders", "a", {"x": 1})
    store.close()
    store = TinyStore(str(path))
    store.put("orders", "a", {"x": 2})
    store.put("orders", "b", {"x": 3})
    store.clear("notifications")
    store.flush()  # then the process dies: no close, no compaction
    with (tmp_path / "state.json.journal").open("a") as journal:
        journal.write('{"t": "orders/00')  # and the last append was torn
    revived = TinyStore(str(path))
    assert revived.get("orders", "a") == {"x": 2}
    assert revived.get("orders", "b") == {"x": 3}
    revived.put("orders", "c", {"x": 4})  # new ids do not collide with replayed ones
    assert {k: revived.get("orders", k) for k in "abc"} == {"a": {"x": 2}, "b": {"x": 3}, "c": {"x": 4}}


def test_the_file_is_rewritten_when_the_journal_outgrows_it(tmp_path, monkeypatch):
    monkeypatch.setattr("sandbox.core.store.journal.MIN_COMPACTION_BYTES", 1000)
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    for n in range(40):
        store.put("orders", f"k{n}", {"payload": "x" * 50})
        store.flush()
        store.compact()  # what the background thread does twice a second
    journal = tmp_path / "state.json.journal"
    assert path.exists()
    assert not journal.exists() or journal.stat().st_size < path.stat().st_size
    assert TinyStore(str(path)).count("orders") == 40


def test_memory_store_writes_no_file(tmp_path):
    store = TinyStore()
    store.put("orders", "a", {"x": 1})
    store.close()
    assert list(tmp_path.iterdir()) == []
