"""Scenarios on Alipay, seen through python-alipay-sdk (unmodified but its gateway URL) and the reference client.

API faults, forged and mistimed notifications, and payment outcomes, on the manual clock (no sleeping).
"""

from __future__ import annotations

from urllib.error import HTTPError

import pytest
import requests
from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError

from sandbox.gateways.alipay.notify import OTHER_APP_ID, RETRY_SCHEDULE
from sandbox.merchant.alipay import AlipayClient

APP = "2021000000000001"
BARCODE = "281234567890123456"  # an ordinary payment code: pays at once
MAGIC_DECLINE_CODE = "280000000000000020"  # a magic auth code: ACQ.BUYER_BALANCE_NOT_ENOUGH


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


def create(alipay: AliPay, out_trade_no: str, notify_url: str, total_amount: str = "10.00") -> dict:
    return alipay.api_alipay_trade_create(
        subject="scenario",
        out_trade_no=out_trade_no,
        total_amount=total_amount,
        notify_url=notify_url,
        buyer_id="2088000000000042",
    )


def verified(alipay: AliPay, form: dict[str, str]) -> bool:
    data = dict(form)
    signature = data.pop("sign", "")
    return bool(signature) and alipay.verify(data, signature)


# -- API faults ---------------------------------------------------------------------------------------


def test_python_alipay_sdk_sees_40004_acq_system_error_on_the_faulted_query_only(alipay, rule, notify_url):
    create(alipay, "F-1", notify_url)
    rule(match={"gateway": "alipay", "operation": "query"}, times=1, api={"error": "ACQ.SYSTEM_ERROR"})

    faulted = alipay.api_alipay_trade_query(out_trade_no="F-1")  # signed: the SDK verifies and returns it
    assert (faulted["code"], faulted["sub_code"]) == ("40004", "ACQ.SYSTEM_ERROR")
    assert "scenario" in faulted["sub_msg"]
    assert alipay.api_alipay_trade_query(out_trade_no="F-1")["trade_status"] == "WAIT_BUYER_PAY"


def test_a_neutral_error_code_becomes_alipays_own(alipay, rule, notify_url):
    rule(match={"operation": "alipay.trade.create"}, times=1, api={"error": "system_error"})
    assert create(alipay, "F-2", notify_url)["sub_code"] == "ACQ.SYSTEM_ERROR"


def test_a_503_stops_the_call_before_it_takes_effect(alipay, rule, notify_url, live, http):
    rule(match={"operation": "create"}, times=1, api={"status": 503})
    with pytest.raises(HTTPError) as raised:
        create(alipay, "F-3", notify_url)
    assert raised.value.code == 503
    assert alipay.api_alipay_trade_query(out_trade_no="F-3")["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_a_504_comes_after_the_call_took_effect(alipay, rule, notify_url):
    rule(match={"operation": "create"}, times=1, api={"status": 504})
    with pytest.raises(HTTPError) as raised:
        create(alipay, "F-4", notify_url)
    assert raised.value.code == 504
    assert alipay.api_alipay_trade_query(out_trade_no="F-4")["trade_status"] == "WAIT_BUYER_PAY"


def test_a_refund_whose_answer_is_lost_is_safe_to_send_again(alipay, rule, notify_url, pay, live, http):
    create(alipay, "F-5", notify_url)
    pay("F-5")
    rule(match={"operation": "refund"}, times=1, api={"disconnect": True})
    with pytest.raises(Exception) as raised:  # urllib's RemoteDisconnected, a ConnectionError
        alipay.api_alipay_trade_refund(refund_amount="4.00", out_trade_no="F-5", out_request_no="R-1")
    assert isinstance(raised.value, ConnectionError | OSError)
    again = alipay.api_alipay_trade_refund(refund_amount="4.00", out_trade_no="F-5", out_request_no="R-1")
    assert again["refund_fee"] == "4.00"  # the first one went through; the repeat moved no more money
    order = http.get(f"{live.url}/_sandbox/orders/alipay/{APP}/F-5").json()
    assert [r["amount"] for r in order["refunds"]] == [400]


def test_a_refused_refund_for_the_merchants_balance_creates_no_refund(alipay, rule, notify_url, pay, live, http):
    create(alipay, "F-6", notify_url)
    pay("F-6")
    rule(match={"operation": "refund"}, times=1, api={"error": "merchant_balance_not_enough"})
    refused = alipay.api_alipay_trade_refund(refund_amount="1.00", out_trade_no="F-6", out_request_no="R-1")
    assert refused["sub_code"] == "ACQ.SELLER_BALANCE_NOT_ENOUGH"
    assert http.get(f"{live.url}/_sandbox/orders/alipay/{APP}/F-6").json()["refunds"] == []


@pytest.mark.parametrize(
    ("body", "raised"), [("unsigned", AliPayException), ("invalid_signature", AliPayValidationError)]
)
def test_the_sdk_refuses_an_answer_with_no_or_a_bad_signature(alipay, rule, notify_url, body, raised):
    create(alipay, "F-7", notify_url)
    rule(match={"operation": "query"}, times=1, api={"body": body})
    with pytest.raises(raised):
        alipay.api_alipay_trade_query(out_trade_no="F-7")


def test_a_malformed_answer_is_cut_short(alipay_client, rule, live, http):
    alipay_client.precreate("F-8", 100, "x")
    rule(match={"operation": "query"}, times=1, api={"body": "malformed"})
    reply = http.post(
        alipay_client.gateway_url, data=alipay_client.signed_params("alipay.trade.query", {"out_trade_no": "F-8"})
    )
    assert reply.headers["X-Sandbox-Scenario"].startswith("scn_")
    with pytest.raises(ValueError):
        reply.json()


def test_a_slow_answer_times_the_client_out_while_the_payment_goes_through(live, alipay_demo, rule, sandbox):
    slow = AlipayClient(
        alipay_demo.app_id,
        alipay_demo.app_private_key,
        alipay_demo.alipay_public_key,
        f"{live.url}/gateway.do",
        timeout=0.2,
    )
    rule(match={"operation": "pay"}, times=1, api={"delay": 0.6})
    with pytest.raises(requests.Timeout):
        slow.barcode_pay("F-9", 100, "x", BARCODE)
    assert sandbox.payments.find("alipay", APP, out_trade_no="F-9").status == "paid"


# -- notifications ----------------------------------------------------------------------------------


def paid_notification(alipay, pay, receiver, notify_url, out_trade_no: str) -> dict[str, str]:
    create(alipay, out_trade_no, notify_url)
    pay(out_trade_no)
    return receiver.wait_for(1)[0].form


def test_an_invalid_signature_notification_fails_the_sdks_verify(alipay, rule, pay, receiver, notify_url):
    rule(times=1, notify={"signature": "invalid"})
    assert not verified(alipay, paid_notification(alipay, pay, receiver, notify_url, "N-1"))


def test_a_tampered_amount_fails_the_sdks_verify(alipay, rule, pay, receiver, notify_url):
    rule(times=1, notify={"tamper": {"amount": 1}})
    form = paid_notification(alipay, pay, receiver, notify_url, "N-2")
    assert form["total_amount"] == "0.01"
    assert not verified(alipay, form)


def test_a_missing_signature_leaves_nothing_to_verify(alipay, rule, pay, receiver, notify_url):
    rule(times=1, notify={"signature": "missing"})
    form = paid_notification(alipay, pay, receiver, notify_url, "N-3")
    assert "sign" not in form and "sign_type" not in form


def test_a_notification_for_another_app_verifies_but_names_the_other_app(alipay, rule, pay, receiver, notify_url):
    rule(times=1, notify={"merchant": "wrong"})
    form = paid_notification(alipay, pay, receiver, notify_url, "N-4")
    assert verified(alipay, form)
    assert form["app_id"] == OTHER_APP_ID != APP  # an honest merchant checks app_id too


def test_a_stale_notification_verifies_but_is_a_day_old(alipay, rule, pay, receiver, notify_url, sandbox):
    rule(times=1, notify={"timestamp": "stale"})
    form = paid_notification(alipay, pay, receiver, notify_url, "N-5")
    assert verified(alipay, form)
    assert form["notify_time"] < sandbox.clock.now().strftime("%Y-%m-%d")


def test_the_first_two_attempts_are_lost_and_the_retries_keep_alipays_schedule(
    alipay, rule, pay, receiver, notify_url, sandbox, live, http
):
    scenario = rule(times=1, notify={"drop": 2})
    create(alipay, "N-6", notify_url)
    pay("N-6")
    sandbox.advance(RETRY_SCHEDULE[0] + RETRY_SCHEDULE[1] - 1)
    assert receiver.at("/notify") == []
    sandbox.advance(1)
    assert verified(alipay, receiver.wait_for(1)[0].form)
    [record] = http.get(f"{live.url}/_sandbox/notifications?out_trade_no=N-6").json()["notifications"]
    assert [a["effect"] for a in record["attempts"]] == ["lost", "lost", ""]
    assert {a["rule"] for a in record["attempts"]} == {scenario["id"]}
    assert record["status"] == "delivered"


def test_a_duplicated_notification_arrives_twice_with_the_same_body(alipay, rule, pay, receiver, notify_url):
    rule(times=1, notify={"duplicate": 1})
    create(alipay, "N-7", notify_url)
    pay("N-7")
    first, second = receiver.wait_for(2)
    assert first.body == second.body and verified(alipay, second.form)


def test_a_delayed_notification_arrives_ten_minutes_late(alipay, rule, pay, receiver, notify_url, sandbox):
    rule(times=1, notify={"delay": 600})
    create(alipay, "N-8", notify_url)
    pay("N-8")
    sandbox.advance(599)
    assert receiver.at("/notify") == []
    sandbox.advance(1)
    assert receiver.wait_for(1)[0].form["trade_status"] == "TRADE_SUCCESS"


def test_only_the_notifications_of_matching_orders_are_shaped(alipay, rule, pay, receiver, notify_url):
    rule(match={"out_trade_no": "QA-*"}, notify={"signature": "invalid"})
    assert verified(alipay, paid_notification(alipay, pay, receiver, notify_url, "OK-1"))


# -- payment outcomes ---------------------------------------------------------------------------------


def test_a_rule_declines_a_barcode_payment_with_the_code_it_names(alipay, rule):
    rule(times=1, payment={"outcome": "fail", "code": "ACQ.BUYER_ENABLE_STATUS_FORBID"})
    answer = alipay.api_alipay_trade_pay(
        out_trade_no="P-1", scene="bar_code", auth_code=BARCODE, subject="x", total_amount="1.00"
    )
    assert (answer["code"], answer["sub_code"]) == ("40004", "ACQ.BUYER_ENABLE_STATUS_FORBID")


def test_a_rule_overrides_a_magic_auth_code(alipay, rule):
    rule(times=1, payment={"outcome": "success"})
    answer = alipay.api_alipay_trade_pay(
        out_trade_no="P-2", scene="bar_code", auth_code=MAGIC_DECLINE_CODE, subject="x", total_amount="1.00"
    )
    assert answer["code"] == "10000"


def test_a_pending_payment_answers_10003_then_settles_on_the_clock(alipay, rule, sandbox):
    rule(times=1, payment={"outcome": "pending", "settle_after": 45, "then": "fail"})
    answer = alipay.api_alipay_trade_pay(
        out_trade_no="P-3", scene="bar_code", auth_code=BARCODE, subject="x", total_amount="1.00"
    )
    assert answer["code"] == "10003"
    sandbox.advance(44)
    assert alipay.api_alipay_trade_query(out_trade_no="P-3")["trade_status"] == "WAIT_BUYER_PAY"
    sandbox.advance(1)
    assert alipay.api_alipay_trade_query(out_trade_no="P-3")["trade_status"] == "TRADE_CLOSED"


def test_magic_amount_6_01_declines_with_alipays_balance_code(alipay):
    answer = alipay.api_alipay_trade_pay(
        out_trade_no="P-4", scene="bar_code", auth_code=BARCODE, subject="x", total_amount="6.01"
    )
    assert answer["sub_code"] == "ACQ.BUYER_BALANCE_NOT_ENOUGH"


def test_a_rule_beats_the_buyers_choice_on_the_control_api(alipay, rule, notify_url, live, http):
    create(alipay, "P-5", notify_url)
    rule(match={"out_trade_no": "P-5"}, payment={"outcome": "fail", "code": "ACQ.RISK_CONTROL_REJECT"})
    order = http.post(f"{live.url}/_sandbox/orders/alipay/{APP}/P-5/pay", json={"outcome": "success"}).json()
    assert order["status"] == "failed"
    assert alipay.api_alipay_trade_query(out_trade_no="P-5")["trade_status"] == "TRADE_CLOSED"


def test_a_rule_naming_the_creation_pays_a_qr_order_nobody_scanned(alipay, rule, sandbox, receiver, notify_url):
    rule(match={"operation": "create"}, times=1, payment={"outcome": "success", "settle_after": 30})
    alipay.api_alipay_trade_precreate(subject="x", out_trade_no="P-6", total_amount="1.00", notify_url=notify_url)
    sandbox.advance(29)
    assert alipay.api_alipay_trade_query(out_trade_no="P-6")["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    sandbox.advance(1)
    assert alipay.api_alipay_trade_query(out_trade_no="P-6")["trade_status"] == "TRADE_SUCCESS"
    assert verified(alipay, receiver.wait_for(1)[0].form)
