import errno
import json
import os
import threading

import pytest
from tinydb import TinyDB

from sandbox.core.store import TinyStore, image, tiny


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


def test_a_flushed_write_is_on_disk_before_flush_returns(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.put("orders", "a", {"x": 1})
    store.flush()  # then the process dies: no close
    assert TinyStore(str(path)).get("orders", "a") == {"x": 1}


def test_concurrent_flushes_share_one_append_and_fsync(tmp_path, monkeypatch):
    store = TinyStore(str(tmp_path / "state.json"))
    first_sync_started, release = threading.Event(), threading.Event()
    syncs = []

    def fdatasync(fd: int) -> None:
        syncs.append(fd)
        if len(syncs) == 1:
            first_sync_started.set()
            release.wait(10)

    monkeypatch.setattr("sandbox.core.store.journal.os.fdatasync", fdatasync)

    def write_and_flush(n: int) -> None:
        store.put("orders", f"k{n}", {"n": n})
        store.flush()

    leader = threading.Thread(target=write_and_flush, args=(0,))
    leader.start()
    assert first_sync_started.wait(10)
    followers = [threading.Thread(target=write_and_flush, args=(n,)) for n in range(1, 9)]
    for thread in followers:
        thread.start()
    while store._journal._recorded < 9:  # every follower has written and is waiting for its flush
        threading.Event().wait(0.001)
    release.set()
    for thread in [leader, *followers]:
        thread.join(10)
    assert len(syncs) == 2  # the leader's, then one for all eight followers
    assert TinyStore(str(tmp_path / "state.json")).count("orders") == 9


def test_a_torn_last_line_is_cut_off_so_the_next_append_starts_clean(tmp_path):
    path = tmp_path / "state.json"
    journal = tmp_path / "state.json.journal"
    store = TinyStore(str(path))
    store.put("orders", "a", {"x": 1})
    store.flush()
    whole = journal.read_bytes()
    with journal.open("ab") as handle:
        handle.write(b'{"t": "orders/0001", "i": "7", "d": {"_key": "torn"')  # the crash tore this append
    revived = TinyStore(str(path))
    assert journal.read_bytes() == whole  # cut off the file, not just skipped
    revived.put("orders", "b", {"x": 2})
    revived.flush()  # and the process dies again
    again = TinyStore(str(path))
    assert [again.get("orders", key) for key in ("a", "b", "torn")] == [{"x": 1}, {"x": 2}, None]


def test_an_unfinished_last_line_is_torn_even_when_it_parses(tmp_path):
    path = tmp_path / "state.json"
    journal = tmp_path / "state.json.journal"
    journal.write_text('{"t": "orders/0001", "i": "1", "d": {"_key": "a"}}\n{"t": "orders/0001", "i": "2"}')
    store = TinyStore(str(path))
    assert journal.read_text() == '{"t": "orders/0001", "i": "1", "d": {"_key": "a"}}\n'
    assert store.get("orders", "a") == {}


def test_writes_made_while_the_file_is_rewritten_stay_in_the_journal(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.put("orders", "before", {"x": 1})
    store.flush()
    lay_out = tiny._lay_out

    def a_write_arrives_meanwhile(*args):
        store.put("orders", "during", {"x": 2})
        store.flush()
        return lay_out(*args)

    monkeypatch.setattr(tiny, "_lay_out", a_write_arrives_meanwhile)
    store.compact(force=True)
    assert "during" not in path.read_text()  # the file is as of the rewrite's start ...
    assert '"during"' in (tmp_path / "state.json.journal").read_text()  # ... the journal keeps what came after
    assert '"before"' not in (tmp_path / "state.json.journal").read_text()
    revived = TinyStore(str(path))  # a crash now
    assert (revived.get("orders", "before"), revived.get("orders", "during")) == ({"x": 1}, {"x": 2})


def test_changes_made_while_the_file_is_rewritten_outlast_the_rewrite(tmp_path, monkeypatch):
    store = TinyStore(str(tmp_path / "state.json"))
    store.add_index("orders", "x", lambda doc: [doc["x"]])
    for key in ("kept", "changed", "deleted"):
        store.put("orders", key, {"x": key})
    lay_out = tiny._lay_out

    def changes_arrive_meanwhile(*args):
        store.put("orders", "changed", {"x": "changed again"})
        store.delete("orders", "deleted")
        store.put("orders", "new", {"x": "new"})
        return lay_out(*args)

    monkeypatch.setattr(tiny, "_lay_out", changes_arrive_meanwhile)
    store.compact(force=True)
    held = store._docs["orders"]
    assert type(held["kept"]) is int and type(held["changed"]) is bytes and "deleted" not in held
    assert [store.get("orders", key) for key in ("kept", "changed", "deleted", "new")] == [
        {"x": "kept"},
        {"x": "changed again"},
        None,
        {"x": "new"},
    ]
    assert store.lookup("orders", "x", "changed again") == [{"x": "changed again"}]
    store.close()
    revived = TinyStore(str(tmp_path / "state.json"))
    assert sorted(revived._docs["orders"]) == ["changed", "kept", "new"]
    assert revived.get("orders", "changed") == {"x": "changed again"}


def test_a_memory_store_holds_text_so_a_dict_read_or_put_cannot_change_it():
    store = TinyStore()
    doc = {"x": 1, "extra": {"handles": ["a"]}}
    store.put("orders", "a", doc)
    doc["extra"]["handles"].append("b")
    store.get("orders", "a")["extra"]["handles"].append("c")
    assert type(store._docs["orders"]["a"]) is bytes
    assert store.get("orders", "a") == {"x": 1, "extra": {"handles": ["a"]}}


def test_a_failed_append_is_undone_and_its_changes_go_with_the_next(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.put("orders", "a", {"x": 1})
    real_write = os.write

    def disk_full(fd: int, data) -> int:
        real_write(fd, bytes(data[:10]))  # part of it reached the file
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sandbox.core.store.journal.os.write", disk_full)
    with pytest.raises(OSError):
        store.flush()
    monkeypatch.setattr("sandbox.core.store.journal.os.write", real_write)
    store.put("orders", "b", {"x": 2})
    store.flush()
    lines = (tmp_path / "state.json.journal").read_text().splitlines()
    assert [json.loads(line)["d"]["_key"] for line in lines] == ["a", "b"]


def test_a_file_store_holds_documents_as_their_json_text_and_a_rewrite_as_ordinals_in_the_file(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    doc = {"x": 1, "subject": "中文"}
    store.put("orders", "a", doc)
    assert store._docs["orders"]["a"] == '{"_key":"a","x":1,"subject":"中文"}'.encode()
    assert store.get("orders", "a") == doc and store.get("orders", "a") is not doc  # each read is a new dict
    store.compact(force=True)
    assert store._docs["orders"]["a"] == 0  # its text lives once, in the file's bytes
    assert store.get("orders", "a") == doc
    store.put("orders", "a", {"x": 2})  # and a change is held as text again, at the same place
    store.close()
    assert list(json.loads(path.read_text())) == [TinyStore._shard("orders", "a")]
    assert TinyStore(str(path)).get("orders", "a") == {"x": 2}


def trade_no_index(doc):
    return [("alipay", doc["trade_no"])]


def other_trade_no_index(doc):
    return [("alipay", doc["trade_no"].lower())]


def test_a_restart_reads_the_index_file_and_parses_no_document(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.add_index("orders", "trade_no", trade_no_index)
    for n in range(50):
        store.put("orders", f"k{n}", {"trade_no": f"T{n % 10}"})  # several keys under one value
    store.close()
    assert (tmp_path / "state.json.index").exists()
    reopened = TinyStore(str(path))
    assert all(type(held) is int for held in reopened._docs["orders"].values())
    reopened.add_index("orders", "trade_no", trade_no_index)
    assert reopened._indexes["orders"]["trade_no"].many  # taken from the index file, not computed
    assert sorted(d["trade_no"] for d in reopened.lookup("orders", "trade_no", ("alipay", "T3"))) == ["T3"] * 5
    reopened.delete("orders", "k3")
    reopened.put("orders", "k13", {"trade_no": "T99"})
    assert len(reopened.lookup("orders", "trade_no", ("alipay", "T3"))) == 3
    assert reopened.lookup("orders", "trade_no", ("alipay", "T99")) == [{"trade_no": "T99"}]


def test_entries_of_another_index_function_are_computed_not_taken(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.add_index("orders", "trade_no", trade_no_index)
    store.put("orders", "a", {"trade_no": "T1"})
    store.close()
    reopened = TinyStore(str(path))
    reopened.add_index("orders", "trade_no", other_trade_no_index)  # the code changed between the two runs
    assert reopened.lookup("orders", "trade_no", ("alipay", "t1")) == [{"trade_no": "T1"}]
    assert reopened.lookup("orders", "trade_no", ("alipay", "T1")) == []


def test_taken_entries_are_corrected_by_the_journal_replayed_after_the_file(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.add_index("orders", "trade_no", trade_no_index)
    for n in range(5):
        store.put("orders", f"k{n}", {"trade_no": f"T{n}"})
    store.close()
    store = TinyStore(str(path))
    store.add_index("orders", "trade_no", trade_no_index)
    store.put("orders", "k1", {"trade_no": "T7"})  # replaced
    store.delete("orders", "k2")
    store.put("orders", "k9", {"trade_no": "T9"})  # new
    store.flush()  # then the process dies: the file and its index file are as before, the journal holds these
    revived = TinyStore(str(path))
    revived.add_index("orders", "trade_no", trade_no_index)
    found = {n: [d["trade_no"] for d in revived.lookup("orders", "trade_no", ("alipay", f"T{n}"))] for n in range(10)}
    assert found == {0: ["T0"], 1: [], 2: [], 3: ["T3"], 4: ["T4"], 5: [], 6: [], 7: ["T7"], 8: [], 9: ["T9"]}
    revived.close()
    again = TinyStore(str(path))
    again.add_index("orders", "trade_no", trade_no_index)
    assert sorted(d["trade_no"] for d in again.all("orders")) == ["T0", "T3", "T4", "T7", "T9"]
    assert again.lookup("orders", "trade_no", ("alipay", "T7")) == [{"trade_no": "T7"}]


def test_a_file_changed_behind_its_index_file_is_read_whole_and_soon_rewritten(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.add_index("orders", "trade_no", trade_no_index)
    store.put("orders", "a", {"trade_no": "T1"})
    store.close()
    TinyDB(str(path)).table(TinyStore._shard("orders", "b")).insert({"_key": "b", "trade_no": "T2"})  # a user's edit
    edited = TinyStore(str(path))
    edited.add_index("orders", "trade_no", trade_no_index)
    assert edited.lookup("orders", "trade_no", ("alipay", "T2")) == [{"trade_no": "T2"}]
    edited.compact()  # what the background thread does within half a second
    assert image.describes(path)
    assert sorted(TinyStore(str(path))._docs["orders"].items()) in ([("a", 0), ("b", 1)], [("a", 1), ("b", 0)])


def test_an_index_file_that_cannot_be_read_only_costs_a_whole_read(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.put("orders", "a", {"x": 1})
    store.close()
    (tmp_path / "state.json.index").write_bytes(b'{"format": 1, "file": [1, 2')
    assert TinyStore(str(path)).get("orders", "a") == {"x": 1}


def test_documents_read_back_exactly_whatever_json_they_hold(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    odd = {"big": 2**70, "negative": -(2**64), "nan": float("inf"), "surrogate": "\ud800", "text": "中文"}
    store.put("orders", "a", odd)
    store.put("orders", "b", {"x": 1.5, "n": None})
    assert store.get("orders", "a") == odd and type(store.get("orders", "a")["big"]) is int
    store.close()
    reopened = TinyStore(str(path))
    assert reopened.get("orders", "a") == odd and reopened.get("orders", "b") == {"x": 1.5, "n": None}


def test_writes_leave_taken_entries_unmade_until_an_index_is_used(tmp_path):
    path = tmp_path / "state.json"
    store = TinyStore(str(path))
    store.add_index("orders", "trade_no", trade_no_index)
    for n in range(20):
        store.put("orders", f"k{n}", {"trade_no": f"T{n % 4}"})
    store.close()
    reopened = TinyStore(str(path))
    reopened.add_index("orders", "trade_no", trade_no_index)
    reopened.put("orders", "k0", {"trade_no": "T9"})
    reopened.delete("orders", "k1")
    reopened.put("orders", "new", {"trade_no": "T2"})
    assert reopened._indexes["orders"]["trade_no"].pending is not None  # nothing made by the writes
    found = {n: len(reopened.lookup("orders", "trade_no", ("alipay", f"T{n}"))) for n in (0, 1, 2, 3, 9)}
    assert found == {0: 4, 1: 4, 2: 6, 3: 5, 9: 1}
