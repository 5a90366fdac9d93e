"""Scenario rules on UnionPay, over real HTTP with the reference client: API faults, forged back notifications,
the bank cashier's card payment decided by rules and magic amounts, and lost or repeated deliveries."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import pairwise

import pytest
import requests

from sandbox.gateways.unionpay import magic
from sandbox.gateways.unionpay.adapter import RETRY_SCHEDULE
from sandbox.gateways.unionpay.notify import OTHER_MER_ID
from sandbox.merchant.unionpay import UnionPaySignatureError, outcome

MER_ID = "777290058110097"
DEBIT = "6216261000000000018"
TIMEOUT = 10


# -- helpers ------------------------------------------------------------------------------------------------


def add_rule(live, **rule) -> dict:
    reply = requests.post(f"{live.url}/_sandbox/scenarios", json=rule, timeout=TIMEOUT)
    assert reply.status_code == 201, reply.text
    return reply.json()["scenario"]


def rules(live) -> list[dict]:
    return requests.get(f"{live.url}/_sandbox/scenarios", timeout=TIMEOUT).json()["scenarios"]


def notifications(live, order_id: str) -> list[dict]:
    """The order's notification records, once every attempt on its way is recorded: the merchant has a notification
    before the sandbox has read its answer and written the attempt down, and the flush waits for that."""
    requests.post(f"{live.url}/_sandbox/notifications/flush", timeout=TIMEOUT).raise_for_status()
    url = f"{live.url}/_sandbox/notifications?gateway=unionpay&out_trade_no={order_id}"
    return requests.get(url, timeout=TIMEOUT).json()["notifications"]


def front_consume(bank, live, receiver, order_id: str, amount: int) -> tuple[dict, requests.Response]:
    """The browser posts the merchant's signed consume form; answers the fields and frontTransReq.do's reply."""
    fields = bank.consume_params(order_id, amount, f"{receiver.url}/front", f"{receiver.url}/back")
    reply = requests.post(f"{live.url}/gateway/api/frontTransReq.do", data=fields, allow_redirects=False, timeout=10)
    return fields, reply


def pay_at_cashier(bank, live, receiver, order_id: str, amount: int = 1000, card: str = DEBIT, sms: str = "111111"):
    """Consume, then pay on the bank cashier's card form as the demo card holder: (txnTime, respCode on the page)."""
    fields, reply = front_consume(bank, live, receiver, order_id, amount)
    assert reply.status_code == 302, reply.text[:300]
    query_id = re.search(r"/cashier/unionpay/(\d{21})$", reply.headers["Location"]).group(1)
    form = {"accNo": card, **magic.HOLDER, "smsCode": sms}
    page = requests.post(f"{live.url}/cashier/unionpay/{query_id}/pay", data=form, timeout=TIMEOUT)
    assert page.status_code == 200
    return fields["txnTime"], re.search(r'data-testid="resp-code">([^<]*)<', page.text).group(1)


def paid_consume(bank, live, receiver, order_id: str, amount: int = 1000) -> tuple[str, str]:
    """A consume paid at the cashier: (txnTime, queryId)."""
    txn_time, code = pay_at_cashier(bank, live, receiver, order_id, amount)
    assert code == "00"
    return txn_time, bank.query(order_id, txn_time)["queryId"]


def back_notice(receiver, count: int = 1) -> dict:
    return receiver.wait_for(count, timeout=TIMEOUT, path="/back")[count - 1].form


# -- API faults: error codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["03", "system_error"])
def test_an_api_error_on_a_query_is_a_signed_answer_with_that_resp_code(bank, live, receiver, error):
    txn_time = bank.now()
    bank.app_consume("ERRQUERY01", 1000, f"{receiver.url}/back", txn_time=txn_time)
    rule = add_rule(live, match={"gateway": "unionpay", "operation": "query"}, api={"error": error}, times=1)

    answer = bank.query("ERRQUERY01", txn_time)  # verified: signed like every other answer

    assert answer["respCode"] == "03" and outcome(answer["respCode"]) == "pending"
    assert "sandbox scenario" in answer["respMsg"] and "origRespCode" not in answer
    assert (answer["orderId"], answer["merId"]) == ("ERRQUERY01", MER_ID)
    assert bank.query("ERRQUERY01", txn_time)["respCode"] == "00"  # the one-shot rule is spent
    assert rule["id"] not in [r["id"] for r in rules(live)]


@pytest.mark.parametrize(("processed", "refunds"), [(None, 0), (False, 0), (True, 1)])
def test_a_refund_answered_03_happened_only_when_the_rule_says_processed(
    bank, live, receiver, sandbox, processed, refunds
):
    _, query_id = paid_consume(bank, live, receiver, "REFUND03A1", 1000)
    api = {"error": "03"} if processed is None else {"error": "03", "processed": processed}
    add_rule(live, match={"operation": "refund"}, api=api, times=1)
    refund_time = bank.now()

    answer = bank.refund(query_id, "REFUND03R1", 400, f"{receiver.url}/refund", txn_time=refund_time)

    assert answer["respCode"] == "03"
    order = sandbox.payments.find("unionpay", MER_ID, out_trade_no="REFUND03A1")
    assert len(order.refund_list) == refunds
    found = bank.query("REFUND03R1", refund_time)  # what the merchant does after a 03: query
    assert found["respCode"] == ("00" if refunds else "34")


@pytest.mark.parametrize("how", ["orderId", "refund orderId", "refund queryId"])
def test_a_query_is_matched_by_the_consumes_order_id_however_it_asks(bank, live, receiver, how):
    txn_time, query_id = paid_consume(bank, live, receiver, "QAMATCH001", 1000)
    refund_time = bank.now()
    refund = bank.refund(query_id, "QAREFUND01", 100, f"{receiver.url}/refund", txn_time=refund_time)
    add_rule(live, match={"out_trade_no": "QAMATCH*", "operation": "queryTrans"}, api={"error": "37"})
    asks = {
        "orderId": lambda: bank.query("QAMATCH001", txn_time),
        "refund orderId": lambda: bank.query("QAREFUND01", refund_time),
        "refund queryId": lambda: bank.query("", "", queryId=refund["queryId"]),
    }
    assert asks[how]()["respCode"] == "37"


def test_refund_and_undo_are_matched_by_the_original_consume_and_its_amount(bank, live, receiver):
    _, query_id = paid_consume(bank, live, receiver, "QAUNDO0001", 1234)
    add_rule(live, match={"operation": "undo", "out_trade_no": "QAUNDO*", "amount": 1234}, api={"error": "35"})
    add_rule(live, match={"operation": "refund", "amount": {"min": 2000}}, api={"error": "36"})

    assert bank.undo(query_id, "QAUNDOU001", 1234, f"{receiver.url}/undo")["respCode"] == "35"
    assert bank.refund(query_id, "QAUNDOR001", 34, f"{receiver.url}/refund")["respCode"] == "00"  # 1234 < 2000


def test_an_app_consume_is_matched_by_its_txn_amt(bank, live, receiver, sandbox):
    add_rule(live, match={"operation": "consume", "amount": 1234}, api={"error": "06"})
    assert bank.app_consume("QAAMOUNT01", 1234, f"{receiver.url}/back")["respCode"] == "06"
    assert bank.app_consume("QAAMOUNT02", 1235, f"{receiver.url}/back")["respCode"] == "00"
    assert [o.out_trade_no for o in sandbox.payments.list("unionpay")] == ["QAAMOUNT02"]  # 06 made no order


def test_a_front_consume_refused_by_a_rule_is_the_html_error_page(bank, live, receiver, sandbox):
    add_rule(live, match={"gateway": "unionpay", "operation": "create"}, api={"error": "31"}, times=1)
    _, reply = front_consume(bank, live, receiver, "QAFRONT001", 1000)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert 'data-testid="resp-code">31<' in reply.text and "sandbox scenario" in reply.text
    assert reply.headers["X-Sandbox-Scenario"]
    assert sandbox.payments.list("unionpay") == []


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe not utf-8", b"txnType=01&txnAmt=" + b"9" * 5000, b"txnType=99", b"%%%"],
    ids=["bytes", "huge-amount", "unknown-txn-type", "bad-escapes"],
)
def test_garbage_is_classified_without_an_operation_never_crashing(live, body):
    """A rule naming no operation answers even garbage (so it was classified); one naming a consume does not."""
    add_rule(live, match={"operation": "create", "amount": {"min": 0}}, api={"error": "05"})
    url = f"{live.url}/gateway/api/appTransReq.do"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    native = requests.post(url, data=body, headers=headers, timeout=TIMEOUT)
    assert "X-Sandbox-Scenario" not in native.headers and re.search(r"respCode=1[03]&", native.text)
    add_rule(live, match={"gateway": "unionpay"}, api={"error": "02"})
    assert "respCode=02&" in requests.post(url, data=body, headers=headers, timeout=TIMEOUT).text


# -- API faults: spoiled answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "check"), [("unsigned", "carries no signature"), ("invalid_signature", "does not verify")]
)
def test_an_unsigned_or_spoiled_answer_is_refused_by_the_reference_client(bank, live, receiver, how, check):
    txn_time = bank.now()
    bank.app_consume("SPOILED001", 1000, f"{receiver.url}/back", txn_time=txn_time)
    add_rule(live, match={"operation": "query"}, api={"body": how}, times=1)
    with pytest.raises(UnionPaySignatureError, match=check) as refused:
        bank.query("SPOILED001", txn_time)
    assert refused.value.fields["respCode"] == "00" and refused.value.fields["origRespCode"] == "05"


def test_a_refund_whose_answer_is_spoiled_still_happens(bank, live, receiver, sandbox):
    _, query_id = paid_consume(bank, live, receiver, "SPOILED002", 1000)
    add_rule(live, match={"operation": "refund"}, api={"body": "invalid_signature"}, times=1)
    with pytest.raises(UnionPaySignatureError):
        bank.refund(query_id, "SPOILEDR02", 1000, f"{receiver.url}/refund")
    assert len(sandbox.payments.find("unionpay", MER_ID, out_trade_no="SPOILED002").refund_list) == 1


def test_a_spoiled_front_consume_is_the_usual_redirect(bank, live, receiver):
    """frontTransReq.do answers the browser with a redirect: there is no signature to spoil."""
    add_rule(live, match={"operation": "create"}, api={"body": "unsigned"}, times=1)
    _, reply = front_consume(bank, live, receiver, "SPOILED003", 1000)
    assert reply.status_code == 302 and reply.headers["X-Sandbox-Scenario"]


# -- forged back notifications ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notify", "changed", "check"),
    [
        ({"tamper": {"amount": 1}}, {"txnAmt": "1", "settleAmt": "1"}, "signature check failed"),
        ({"tamper": {"orderId": "SOMEONEELSE1"}}, {"orderId": "SOMEONEELSE1"}, "signature check failed"),
        ({"signature": "invalid"}, {}, "does not verify"),
        ({"signature": "missing"}, {}, "carries no signature"),
    ],
    ids=["tamper-amount", "tamper-wire-field", "signature-invalid", "signature-missing"],
)
def test_a_forged_back_notification_is_refused_by_the_reference_client(bank, live, receiver, notify, changed, check):
    add_rule(live, match={"gateway": "unionpay", "out_trade_no": "FORGED*"}, notify=notify, times=1)
    pay_at_cashier(bank, live, receiver, "FORGED0001", 888)

    form = back_notice(receiver)

    assert {name: form[name] for name in changed} == changed
    assert ("signature" in form) is (notify.get("signature") != "missing")
    with pytest.raises(UnionPaySignatureError, match=check):
        bank.verify_notification(form)
    [record] = notifications(live, "FORGED0001")
    [effect] = notify
    assert record["attempts"][0]["rule"] and record["attempts"][0]["effect"].startswith(f"{effect}: ")


def test_a_notification_for_another_merchant_verifies_but_the_mer_id_check_refuses_it(bank, live, receiver):
    add_rule(live, match={"operation": "notify"}, notify={"merchant": "wrong"}, times=1)
    pay_at_cashier(bank, live, receiver, "WRONGMER01")

    form = back_notice(receiver)

    bank.verify(form)  # signed correctly by the sandbox: only the merId tells the merchant it is not theirs
    assert form["merId"] == OTHER_MER_ID != bank.mer_id
    with pytest.raises(UnionPaySignatureError, match="merId check failed"):
        bank.verify_notification(form)


def test_a_stale_timestamp_does_not_apply_to_unionpay_and_the_attempt_says_why(bank, live, receiver):
    add_rule(live, match={"operation": "notify"}, notify={"timestamp": "stale"}, times=1)
    txn_time, _ = pay_at_cashier(bank, live, receiver, "STALE00001")

    notice = bank.verify_notification(back_notice(receiver))  # unchanged, and genuine

    assert notice["txnTime"] == txn_time
    [record] = notifications(live, "STALE00001")
    assert "does not apply" in record["attempts"][0]["effect"]


@pytest.mark.parametrize(("event", "txn_type", "amount"), [("refund", "04", 300), ("undo", "31", 1000)])
def test_a_refund_or_undo_notification_is_tampered_by_its_event_name(
    bank, live, receiver, sandbox, event, txn_type, amount
):
    _, query_id = paid_consume(bank, live, receiver, "TAMPERREF1", 1000)
    add_rule(live, match={"operation": event}, notify={"tamper": {"amount": 999}}, times=1)
    back_out = bank.undo if event == "undo" else bank.refund
    back_out(query_id, "TAMPERREF2", amount, f"{receiver.url}/{event}")
    sandbox.advance(5)

    form = receiver.wait_for(1, timeout=TIMEOUT, path=f"/{event}")[0].form

    assert (form["txnType"], form["txnAmt"], form["origQryId"]) == (txn_type, "999", query_id)
    with pytest.raises(UnionPaySignatureError):
        bank.verify_notification(form)
    bank.verify_notification(back_notice(receiver))  # the consume's own notification was left alone
    assert [n["event"] for n in notifications(live, "TAMPERREF1")] == ["consume", event]


# -- the card payment at the bank cashier -------------------------------------------------------------------


@pytest.mark.parametrize(("code", "native"), [("64", "64"), ("balance_not_enough", "64"), ("risk_rejected", "38")])
def test_a_rule_fails_the_paying_card_with_its_code(bank, live, receiver, code, native):
    rule = add_rule(live, match={"operation": "pay"}, payment={"outcome": "fail", "code": code}, times=1)

    txn_time, shown = pay_at_cashier(bank, live, receiver, "RULEFAIL01", card=DEBIT)

    assert shown == native
    found = bank.query("RULEFAIL01", txn_time)
    assert (found["respCode"], found["origRespCode"]) == ("00", native)
    assert rule["id"] in found["origRespMsg"]
    assert notifications(live, "RULEFAIL01") == [] and receiver.at("/back") == []


@pytest.mark.parametrize(("then", "code", "final"), [("success", None, "00"), ("fail", "73", "73")])
def test_a_pending_rule_shows_05_and_settles_on_the_sandbox_clock(bank, live, receiver, sandbox, then, code, final):
    payment = {"outcome": "pending", "settle_after": 30, "then": then, **({"code": code} if code else {})}
    add_rule(live, match={"operation": "consume"}, payment=payment, times=1)

    txn_time, shown = pay_at_cashier(bank, live, receiver, "PENDRULE01")

    assert shown == "05"
    assert bank.query("PENDRULE01", txn_time)["origRespCode"] == "05"
    sandbox.advance(29)
    assert bank.query("PENDRULE01", txn_time)["origRespCode"] == "05"
    sandbox.advance(1)
    found = bank.query("PENDRULE01", txn_time)
    assert found["origRespCode"] == final
    if final == "00":
        notice = bank.verify_notification(back_notice(receiver))
        assert notice["accNo"].endswith(DEBIT[-4:]) and found["accNo"] == notice["accNo"]
    else:
        assert notifications(live, "PENDRULE01") == []


@pytest.mark.parametrize(("amount", "first", "after_60s"), [(601, "64", "64"), (602, "05", "00"), (603, "05", "64")])
def test_magic_amounts_decide_the_card_payment(bank, live, receiver, sandbox, amount, first, after_60s):
    txn_time, shown = pay_at_cashier(bank, live, receiver, f"MAGIC00{amount}", amount)
    assert shown == first
    sandbox.advance(60)
    assert bank.query(f"MAGIC00{amount}", txn_time)["origRespCode"] == after_60s


@pytest.mark.parametrize(
    ("card", "payment", "shown"),
    [
        ("6216261000000000646", {"outcome": "success"}, "00"),  # the insufficient-balance card pays
        ("6216261000000000158", {"outcome": "fail", "code": "card_expired"}, "73"),  # the pending card fails now
        ("6216261000000000638", {"outcome": "pending", "settle_after": 10}, "05"),
    ],
)
def test_a_rule_overrides_a_magic_card(bank, live, receiver, sandbox, card, payment, shown):
    add_rule(live, match={"out_trade_no": "OVERRIDE*"}, payment=payment, times=1)
    txn_time, code = pay_at_cashier(bank, live, receiver, "OVERRIDE01", card=card)
    assert code == shown
    sandbox.advance(10)
    found = bank.query("OVERRIDE01", txn_time)
    assert found["origRespCode"] == ("73" if shown == "73" else "00")


def test_a_pending_card_that_fails_reports_its_code_when_it_settles(bank, live, receiver, sandbox):
    txn_time, shown = pay_at_cashier(bank, live, receiver, "CARDPEND01", card="6216261000000000158")
    assert shown == "05"
    sandbox.advance(magic.PENDING_SECONDS)
    found = bank.query("CARDPEND01", txn_time)
    assert found["origRespCode"] == "01" and magic.CARDS["6216261000000000158"].label in found["origRespMsg"]


def test_input_errors_come_before_the_decision_and_spend_no_rule(bank, live, receiver):
    rule = add_rule(live, match={"operation": "pay"}, payment={"outcome": "fail", "code": "64"}, times=1)
    txn_time, shown = pay_at_cashier(bank, live, receiver, "INPUTERR01", sms="000000")
    assert shown == "71"
    assert bank.query("INPUTERR01", txn_time)["origRespCode"] == "71"
    assert [(r["id"], r["remaining"]) for r in rules(live)] == [(rule["id"], 1)]


# -- delivery: lost and repeated back notifications ---------------------------------------------------------


def test_dropped_back_notifications_are_retried_on_unionpays_schedule(bank, live, receiver, sandbox):
    add_rule(live, match={"operation": "notify"}, notify={"drop": 2}, times=1)
    pay_at_cashier(bank, live, receiver, "DROPPED001")
    sandbox.advance(RETRY_SCHEDULE[0])
    assert receiver.at("/back") == []

    sandbox.advance(RETRY_SCHEDULE[1])

    bank.verify_notification(back_notice(receiver))
    [record] = notifications(live, "DROPPED001")
    assert record["status"] == "delivered"
    assert [a["effect"] == "lost" for a in record["attempts"]] == [True, True, False]
    times = [datetime.fromisoformat(a["at"]) for a in record["attempts"]]
    assert [(b - a).total_seconds() for a, b in pairwise(times)] == list(RETRY_SCHEDULE[:2])


def test_a_duplicated_back_notification_arrives_twice_identical(bank, live, receiver):
    add_rule(live, match={"gateway": "unionpay"}, notify={"duplicate": 1}, times=1)
    pay_at_cashier(bank, live, receiver, "DUPLICATE1")

    first, second = receiver.wait_for(2, timeout=TIMEOUT, path="/back")

    assert first.body == second.body
    assert bank.verify_notification(second.form)["orderId"] == "DUPLICATE1"
    # The merchant has both before the sandbox has read its answer to the second: the flush waits for that record.
    requests.post(f"{live.url}/_sandbox/notifications/flush", timeout=TIMEOUT).raise_for_status()
    [record] = notifications(live, "DUPLICATE1")
    assert record["status"] == "delivered" and "duplicate 1 of 1" in record["attempts"][1]["effect"]
