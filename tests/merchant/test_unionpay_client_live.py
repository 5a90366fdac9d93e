"""The reference UnionPay client against the live sandbox: consume, notify, query, refund, undo."""

from pathlib import Path

import requests

from sandbox.merchant.unionpay import outcome

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "unionpay"
MER_ID = "777290058110097"


def pay(live, order_id: str) -> None:
    answer = requests.post(f"{live.url}/_sandbox/orders/unionpay/{MER_ID}/{order_id}/pay", json={}, timeout=5)
    assert answer.status_code == 200, answer.text


def test_consume_notify_query_refund_life_cycle(bank, live, receiver, sandbox):
    answer = bank.app_consume("LIVE0000001", 1000, receiver.url + "/back")
    assert answer["respCode"] == "00" and answer["tn"]
    txn_time = answer["txnTime"]
    assert bank.query("LIVE0000001", txn_time)["origRespCode"] == "05"  # not paid yet
    pay(live, "LIVE0000001")
    notice = bank.verify_notification(receiver.wait_for(1, path="/back")[0].form)  # chain, CN and signature
    assert (notice["respCode"], notice["txnType"], notice["txnAmt"]) == ("00", "01", "1000")
    found = bank.query("LIVE0000001", txn_time)
    assert outcome(found["origRespCode"]) == "success" and found["queryId"] == notice["queryId"]

    refund = bank.refund(notice["queryId"], "LIVEREFUND01", 300, receiver.url + "/back")
    assert refund["respCode"] == "00"  # accepted; the result comes by notification
    sandbox.advance(5)
    refunded = bank.verify_notification(receiver.wait_for(2, path="/back")[1].form)
    assert (refunded["txnType"], refunded["origQryId"], refunded["txnAmt"]) == ("04", notice["queryId"], "300")
    too_much = bank.refund(notice["queryId"], "LIVEREFUND02", 800, receiver.url + "/back")
    assert too_much["respCode"] == "36"


def test_undo_of_a_paid_consume_and_an_unknown_query(bank, live, receiver, sandbox):
    answer = bank.app_consume("LIVE0000002", 500, receiver.url + "/back")
    pay(live, "LIVE0000002")
    paid = bank.verify_notification(receiver.wait_for(1, path="/back")[0].form)
    assert bank.undo(paid["queryId"], "LIVEUNDO0001", 500, receiver.url + "/back")["respCode"] == "00"
    sandbox.advance(5)
    undone = bank.verify_notification(receiver.wait_for(2, path="/back")[1].form)
    assert undone["txnType"] == "31"
    assert bank.query("NOSUCHORDER1", answer["txnTime"])["respCode"] == "34"


def test_a_reused_order_id_is_12_and_an_unsigned_request_is_refused(bank, receiver):
    assert bank.app_consume("LIVE0000003", 100, receiver.url + "/back")["respCode"] == "00"
    assert bank.app_consume("LIVE0000003", 200, receiver.url + "/back")["respCode"] == "12"
