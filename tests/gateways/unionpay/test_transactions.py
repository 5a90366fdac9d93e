"""App consume, query, refund and undo through the Flask test client, on the manual sandbox clock."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.gateways.unionpay.conftest import MER_ID, TXN_TIME, back_out, consume, query


def _paid(acp, client, order_id: str, amount: str = "1000") -> str:
    answer = acp("appTransReq.do", consume(order_id, amount))
    assert answer["respCode"] == "00"
    assert client.post(f"/_sandbox/orders/unionpay/{MER_ID}/{order_id}/pay", json={}).status_code == 200
    return acp("queryTrans.do", query(order_id))["queryId"]


def test_app_consume_answers_tn(acp, manual):
    answer = acp("appTransReq.do", consume("ORDER0001", reqReserved="r1"))
    assert answer["respCode"] == "00" and answer["respMsg"] == "成功[0000000]"
    assert re.fullmatch(r"\d{21}", answer["tn"])
    assert answer["orderId"] == "ORDER0001" and answer["merId"] == MER_ID and answer["txnType"] == "01"
    order = manual.payments.by_handle("unionpay", f"tn:{answer['tn']}")
    assert order.out_trade_no == "ORDER0001" and order.extra["reqReserved"] == "r1"
    assert order.expires_at - manual.clock.now() == timedelta(hours=1)


def test_identical_consume_again_answers_the_same_tn(acp, manual):
    first = acp("appTransReq.do", consume("ORDER0002"))
    assert acp("appTransReq.do", consume("ORDER0002"))["tn"] == first["tn"]


def test_duplicate_order_id_answers_12(acp, manual):
    acp("appTransReq.do", consume("ORDER0003"))
    answer = acp("appTransReq.do", consume("ORDER0003", txnTime="20240102030406"))
    assert answer["respCode"] == "12" and "ORDER0003" in answer["respMsg"]


def test_query_before_and_after_payment(acp, client, manual):
    acp("appTransReq.do", consume("ORDER0004", "1234", reqReserved="keep-me"))
    before = acp("queryTrans.do", query("ORDER0004"))
    assert (before["respCode"], before["origRespCode"]) == ("00", "05")
    assert "accNo" not in before and "settleDate" not in before
    client.post(f"/_sandbox/orders/unionpay/{MER_ID}/ORDER0004/pay", json={})
    after = acp("queryTrans.do", query("ORDER0004"))
    assert (after["respCode"], after["origRespCode"], after["origRespMsg"]) == ("00", "00", "成功[0000000]")
    assert re.fullmatch(r"\d{21}", after["queryId"]) and re.fullmatch(r"\d{6}", after["traceNo"])
    assert re.fullmatch(r"\d{10}", after["traceTime"]) and re.fullmatch(r"\d{4}", after["settleDate"])
    assert after["txnAmt"] == after["settleAmt"] == "1234" and after["currencyCode"] == "156"
    assert after["accNo"] == "621626*********0018" and after["payCardType"] == "01"
    assert after["reqReserved"] == "keep-me" and after["txnTime"] == TXN_TIME
    by_query_id = acp("queryTrans.do", query(queryId=after["queryId"], txn_time=""))
    assert by_query_id["origRespCode"] == "00" and by_query_id["orderId"] == "ORDER0004"


def test_query_unknown_order_answers_34(acp, manual):
    assert acp("queryTrans.do", query("NOSUCHORDER1"))["respCode"] == "34"
    assert acp("queryTrans.do", query(queryId="1" * 21, txn_time=""))["respCode"] == "34"


def test_query_with_another_txn_time_answers_34(acp, manual):
    acp("appTransReq.do", consume("ORDER0005"))
    answer = acp("queryTrans.do", query("ORDER0005", txn_time="20240102030406"))
    assert answer["respCode"] == "34" and TXN_TIME in answer["respMsg"]


def test_unpaid_order_expires_after_the_default_pay_timeout(acp, manual):
    acp("appTransReq.do", consume("ORDER0006"))
    manual.advance(3600)
    assert acp("queryTrans.do", query("ORDER0006"))["origRespCode"] == "01"


def test_pay_timeout_is_honoured(acp, manual):
    moment = (manual.clock.now() + timedelta(minutes=10)).strftime("%Y%m%d%H%M%S")
    acp("appTransReq.do", consume("ORDER0007", payTimeout=moment))
    manual.advance(599)
    assert acp("queryTrans.do", query("ORDER0007"))["origRespCode"] == "05"
    manual.advance(1)
    assert acp("queryTrans.do", query("ORDER0007"))["origRespCode"] == "01"


def test_partial_refunds_then_already_refunded(acp, client, manual):
    qid = _paid(acp, client, "ORDER0010", "1000")
    first = acp("backTransReq.do", back_out("04", "REFUND0011", "300", qid))
    assert (first["respCode"], first["origQryId"], first["txnAmt"]) == ("00", qid, "300")
    assert re.fullmatch(r"\d{21}", first["queryId"]) and first["queryId"] != qid
    pending = acp("queryTrans.do", query("REFUND0011"))
    assert (pending["respCode"], pending["origRespCode"]) == ("00", "05")
    manual.advance(5)
    done = acp("queryTrans.do", query("REFUND0011"))
    assert (done["origRespCode"], done["origQryId"], done["queryId"], done["txnAmt"]) == (
        "00",
        qid,
        first["queryId"],
        "300",
    )
    assert acp("queryTrans.do", query(queryId=first["queryId"], txn_time=""))["orderId"] == "REFUND0011"
    again = acp("backTransReq.do", back_out("04", "REFUND0011", "300", qid))
    assert (again["respCode"], again["queryId"]) == ("00", first["queryId"])
    assert acp("backTransReq.do", back_out("04", "REFUND0011", "200", qid))["respCode"] == "12"
    too_much = acp("backTransReq.do", back_out("04", "REFUND0012", "701", qid))
    assert too_much["respCode"] == "36" and "700" in too_much["respMsg"]
    assert acp("backTransReq.do", back_out("04", "REFUND0013", "700", qid))["respCode"] == "00"
    assert acp("backTransReq.do", back_out("04", "REFUND0014", "1", qid))["respCode"] == "45"
    assert acp("backTransReq.do", back_out("31", "UNDO00015", "1000", qid))["respCode"] == "45"


def test_refund_order_id_of_a_consume_answers_12(acp, client, manual):
    qid = _paid(acp, client, "ORDER0020")
    assert acp("backTransReq.do", back_out("04", "ORDER0020", "1", qid))["respCode"] == "12"
    acp("backTransReq.do", back_out("04", "REFUND0021", "1", qid))
    assert acp("appTransReq.do", consume("REFUND0021"))["respCode"] == "12"


def test_refund_of_unknown_or_unpaid_consume_answers_35(acp, manual):
    assert acp("backTransReq.do", back_out("04", "REFUND0031", "1", "2" * 21))["respCode"] == "35"
    acp("appTransReq.do", consume("ORDER0032"))
    qid = manual.payments.find("unionpay", MER_ID, out_trade_no="ORDER0032").trade_no
    assert acp("backTransReq.do", back_out("04", "REFUND0032", "1", qid))["respCode"] == "35"
    assert acp("backTransReq.do", back_out("31", "UNDO00032", "1000", qid))["respCode"] == "35"


def test_undo_of_a_paid_consume(acp, client, manual):
    qid = _paid(acp, client, "ORDER0040", "1000")
    assert acp("backTransReq.do", back_out("31", "UNDO00041", "999", qid))["respCode"] == "36"
    answer = acp("backTransReq.do", back_out("31", "UNDO00041", "1000", qid))
    assert (answer["respCode"], answer["txnType"], answer["origQryId"]) == ("00", "31", qid)
    manual.advance(5)
    assert acp("queryTrans.do", query("UNDO00041"))["origRespCode"] == "00"
    assert acp("backTransReq.do", back_out("31", "UNDO00042", "1000", qid))["respCode"] == "45"
    assert acp("backTransReq.do", back_out("04", "REFUND0043", "1", qid))["respCode"] == "45"


def test_undo_is_same_day_only_and_after_a_refund_is_45(acp, client, manual):
    qid = _paid(acp, client, "ORDER0050", "1000")
    acp("backTransReq.do", back_out("04", "REFUND0051", "100", qid))
    assert acp("backTransReq.do", back_out("31", "UNDO00052", "1000", qid))["respCode"] == "45"
    other = _paid(acp, client, "ORDER0053", "1000")
    manual.advance(24 * 3600)
    answer = acp("backTransReq.do", back_out("31", "UNDO00054", "1000", other))
    assert answer["respCode"] == "35" and "same-day" in answer["respMsg"]


def test_version_5_0_0_uses_sha1_and_answers_cert_id(acp, manual):
    answer = acp("appTransReq.do", consume("ORDER0060"), version="5.0.0")
    assert answer["respCode"] == "00" and answer["version"] == "5.0.0"
    assert "signPubKeyCert" not in answer and answer["certId"].isdigit()
