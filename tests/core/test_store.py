import json

from sandbox.core.store import Store


def test_put_get_and_replace_keep_indexes_in_step():
    store = Store()
    store.add_index("orders", "trade_no", lambda d: [d["trade_no"]])
    store.put("orders", "a", {"trade_no": "T1", "status": "pending"})
    store.put("orders", "a", {"trade_no": "T2", "status": "paid"})
    assert store.get("orders", "a") == {"trade_no": "T2", "status": "paid"}
    assert store.lookup("orders", "trade_no", "T1") == []
    assert store.lookup("orders", "trade_no", "T2") == [{"trade_no": "T2", "status": "paid"}]


def test_delete_and_clear():
    store = Store()
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
    store = Store(str(path))
    store.put("orders", "a", {"trade_no": "T1", "subject": "中文"})
    store.put("notifications", "n1", {"status": "pending"})
    store.close()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert any(table.startswith("orders/") for table in document)
    reopened = Store(str(path))
    reopened.add_index("orders", "trade_no", lambda d: [d["trade_no"]])
    assert reopened.get("orders", "a") == {"trade_no": "T1", "subject": "中文"}
    assert reopened.lookup("orders", "trade_no", "T1")[0]["subject"] == "中文"
    reopened.put("orders", "a", {"trade_no": "T1", "subject": "changed"})
    reopened.close()
    assert Store(str(path)).get("orders", "a")["subject"] == "changed"


def test_memory_store_writes_no_file(tmp_path):
    store = Store()
    store.put("orders", "a", {"x": 1})
    store.close()
    assert list(tmp_path.iterdir()) == []


def test_flush_writes_only_when_something_changed(tmp_path):
    path = tmp_path / "state.json"
    store = Store(str(path))
    store.put("orders", "a", {"x": 1})
    store.flush()
    first = path.stat().st_mtime_ns
    store.flush()
    assert path.stat().st_mtime_ns == first
