"""Back notifications over real HTTP: a live sandbox, the control API's pay action and a notification receiver."""

from __future__ import annotations

from urllib.parse import quote_plus

import requests

from sandbox.gateways.unionpay import codec
from tests.gateways.unionpay.conftest import MER_ID, SANDBOX_KEY, back_out, consume, query, signed, verified


def _post(live, endpoint: str, fields: dict) -> dict:
    reply = requests.post(f"{live.url}/gateway/api/{endpoint}", data=signed(fields), timeout=10)
    assert reply.status_code == 200
    return verified(reply.content.decode("utf-8"))


def test_paid_consume_then_refund_notify_the_back_url(live, sandbox, receiver):
    sandbox.clock.set_mode("manual")
    back_url = f"{receiver.url}/acp/back?shop=1"
    answer = _post(live, "appTransReq.do", consume("LIVE0001", "888", backUrl=back_url, reqReserved="a b+c"))
    assert answer["respCode"] == "00"
    paid = requests.post(f"{live.url}/_sandbox/orders/unionpay/{MER_ID}/LIVE0001/pay", json={}, timeout=10)
    assert paid.status_code == 200

    record = receiver.wait_for(1, timeout=10, path="/acp/back")[0]
    assert record.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = record.form
    assert codec.verify(form, SANDBOX_KEY)
    assert f"signature={quote_plus(form['signature'])}" in record.body.decode()
    if "+" in form["signature"]:
        assert "%2B" in record.body.decode()
    assert (form["txnType"], form["txnSubType"], form["respCode"], form["respMsg"]) == (
        "01",
        "01",
        "00",
        "成功[0000000]",
    )
    assert (form["orderId"], form["txnAmt"], form["settleAmt"], form["merId"]) == ("LIVE0001", "888", "888", MER_ID)
    assert form["reqReserved"] == "a b+c" and form["settleCurrencyCode"] == "156" and "*" in form["accNo"]
    assert len(form["queryId"]) == 21 and len(form["traceNo"]) == 6 and len(form["settleDate"]) == 4

    accepted = _post(live, "backTransReq.do", back_out("04", "LIVEREF01", "88", form["queryId"], backUrl=back_url))
    assert accepted["respCode"] == "00"
    sandbox.advance(5)
    refund = receiver.wait_for(2, timeout=10, path="/acp/back")[1].form
    assert codec.verify(refund, SANDBOX_KEY)
    assert (refund["txnType"], refund["origQryId"], refund["orderId"]) == ("04", form["queryId"], "LIVEREF01")
    assert (refund["queryId"], refund["txnAmt"], refund["respCode"]) == (accepted["queryId"], "88", "00")
    assert _post(live, "queryTrans.do", query("LIVEREF01"))["origRespCode"] == "00"


def test_undo_notifies_txn_type_31(live, sandbox, receiver):
    sandbox.clock.set_mode("manual")
    _post(live, "appTransReq.do", consume("LIVE0002", "500", backUrl=f"{receiver.url}/pay"))
    requests.post(f"{live.url}/_sandbox/orders/unionpay/{MER_ID}/LIVE0002/pay", json={}, timeout=10)
    qid = receiver.wait_for(1, timeout=10, path="/pay")[0].form["queryId"]
    undo = back_out("31", "LIVEUNDO2", "500", qid, backUrl=f"{receiver.url}/undo")
    assert _post(live, "backTransReq.do", undo)["respCode"] == "00"
    sandbox.advance(5)
    form = receiver.wait_for(1, timeout=10, path="/undo")[0].form
    assert codec.verify(form, SANDBOX_KEY)
    assert (form["txnType"], form["origQryId"], form["txnAmt"]) == ("31", qid, "500")


def test_a_back_url_that_never_answers_200_gets_unionpays_retries(live, sandbox, receiver):
    from datetime import datetime
    from itertools import pairwise

    from sandbox.gateways.unionpay.adapter import RETRY_SCHEDULE

    sandbox.clock.set_mode("manual")
    receiver.reply("busy", status=503)
    _post(live, "appTransReq.do", consume("RETRY001", "100", backUrl=f"{receiver.url}/back"))
    requests.post(f"{live.url}/_sandbox/orders/unionpay/{MER_ID}/RETRY001/pay", json={}, timeout=10)
    receiver.wait_for(1, timeout=10, path="/back")
    sandbox.advance(3600)
    [record] = requests.get(f"{live.url}/_sandbox/notifications?out_trade_no=RETRY001", timeout=10).json()[
        "notifications"
    ]
    assert record["status"] == "failed"
    times = [datetime.fromisoformat(a["at"]) for a in record["attempts"]]
    assert [int((b - a).total_seconds()) for a, b in pairwise(times)] == list(RETRY_SCHEDULE)  # 5 sends in all
