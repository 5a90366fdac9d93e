"""OpenAPI v3 through the real npm `alipay-sdk` 4.x `curl()` (Alipay's own Node SDK), over real HTTP.

The SDK is unmodified: only `endpoint` (and `gateway` for gateway.do) points at the sandbox. It verifies every
2xx answer's signature itself, so every successful call here is also a signature check.
"""

from __future__ import annotations

import io
import zipfile

import pytest
import requests

from sandbox.merchant.alipay_v3 import AlipayV3Client
from tests.nodejs import NodeAlipay, NodeAlipayError

PRECREATE = "/v3/alipay/trade/precreate"
QUERY = "/v3/alipay/trade/query"
BUYER = "2088000000000042"


def precreate(node: NodeAlipay, number: str, notify_url: str = "", amount: str = "9.90") -> dict:
    body = {"out_trade_no": number, "total_amount": amount, "subject": "Coffee"}
    if notify_url:
        body["notify_url"] = notify_url
    return node.curl("POST", PRECREATE, body)


def create(node: NodeAlipay, number: str, notify_url: str = "", amount: str = "9.90") -> dict:
    """A JSAPI order (trade/create): it exists at once, so it can be queried before the buyer pays."""
    body = {"out_trade_no": number, "total_amount": amount, "subject": "Tea", "buyer_id": BUYER}
    if notify_url:
        body["notify_url"] = notify_url
    return node.curl("POST", "/v3/alipay/trade/create", body)


def query(node: NodeAlipay, number: str) -> dict:
    return node.curl("POST", QUERY, {"out_trade_no": number})["data"]


def error_of(call) -> NodeAlipayError:
    with pytest.raises(NodeAlipayError) as caught:
        call()
    return caught.value


def test_precreate_answers_a_bare_signed_object_with_the_scan_page(node_alipay, live):
    answer = precreate(node_alipay, "V3-PRE-1")
    assert answer["status"] == 200
    assert answer["data"]["out_trade_no"] == "V3-PRE-1"
    assert answer["data"]["qr_code"].startswith(f"{live.url}/cashier/alipay/qr/")
    assert set(answer["data"]) == {"out_trade_no", "qr_code"}  # no <method>_response wrapper, no code, no sign


def test_a_precreated_trade_does_not_exist_until_the_buyer_scans_it(node_alipay):
    precreate(node_alipay, "V3-PRE-2")
    error = error_of(lambda: query(node_alipay, "V3-PRE-2"))
    assert (error.status, error.code) == (400, "ACQ.TRADE_NOT_EXIST")
    assert "scanned the QR code" in error.message


def test_a_v3_order_paid_by_the_buyer_is_notified_and_queried_on_both_protocols(
    node_alipay, alipay, pay, receiver, alipay_demo
):
    create(node_alipay, "V3-LIFE-1", notify_url=f"{receiver.url}/notify")
    assert query(node_alipay, "V3-LIFE-1")["trade_status"] == "WAIT_BUYER_PAY"
    pay("V3-LIFE-1")
    [notification] = receiver.wait_for(1)
    fields = dict(notification.form)
    assert node_alipay.check_notify_sign(fields)  # the SDK's own notification check (RSA2 form post, as gateway.do)
    assert fields["trade_status"] == "TRADE_SUCCESS" and fields["app_id"] == alipay_demo.app_id
    v3 = query(node_alipay, "V3-LIFE-1")
    classic = alipay.api_alipay_trade_query(out_trade_no="V3-LIFE-1")  # python-alipay-sdk on gateway.do
    assert v3["trade_status"] == classic["trade_status"] == "TRADE_SUCCESS"
    assert v3["trade_no"] == classic["trade_no"] == fields["trade_no"]
    assert v3["total_amount"] == "9.90" and v3["send_pay_date"]


def test_an_order_created_on_gateway_do_is_refunded_on_v3(node_alipay, alipay, pay):
    alipay.api_alipay_trade_create(
        subject="Cake", out_trade_no="V3-CROSS-1", total_amount="20.00", buyer_id=BUYER, notify_url=""
    )
    pay("V3-CROSS-1")
    refund = node_alipay.curl(
        "POST",
        "/v3/alipay/trade/refund",
        {"out_trade_no": "V3-CROSS-1", "refund_amount": "5.00", "out_request_no": "R1"},
    )["data"]
    assert (refund["fund_change"], refund["refund_fee"]) == ("Y", "5.00")
    assert (
        alipay.api_alipay_trade_fastpay_refund_query(out_trade_no="V3-CROSS-1", out_request_no="R1")["refund_status"]
        == "REFUND_SUCCESS"
    )


def test_query_as_a_get_with_the_fields_in_the_query_string_as_javas_client_sends_it(node_alipay):
    create(node_alipay, "V3-GET-1")
    answer = node_alipay.curl("GET", QUERY, query={"out_trade_no": "V3-GET-1"})
    assert answer["data"]["trade_status"] == "WAIT_BUYER_PAY"


def test_partial_refunds_are_idempotent_by_out_request_no_and_queryable(node_alipay, pay):
    create(node_alipay, "V3-REFUND-1", amount="10.00")
    pay("V3-REFUND-1")
    body = {"out_trade_no": "V3-REFUND-1", "refund_amount": "3.00", "out_request_no": "R-A"}
    first = node_alipay.curl("POST", "/v3/alipay/trade/refund", body)["data"]
    again = node_alipay.curl("POST", "/v3/alipay/trade/refund", body)["data"]
    assert (first["fund_change"], again["fund_change"]) == ("Y", "N")
    found = node_alipay.curl(
        "POST", "/v3/alipay/trade/fastpay/refund/query", {"out_trade_no": "V3-REFUND-1", "out_request_no": "R-A"}
    )["data"]
    assert (found["refund_status"], found["refund_amount"]) == ("REFUND_SUCCESS", "3.00")
    too_much = {"out_trade_no": "V3-REFUND-1", "refund_amount": "8.00", "out_request_no": "R-B"}
    error = error_of(lambda: node_alipay.curl("POST", "/v3/alipay/trade/refund", too_much))
    assert (error.status, error.code) == (400, "ACQ.REASON_TRADE_REFUND_FEE_ERR")


def test_close_closes_an_unpaid_trade_and_refuses_a_paid_one(node_alipay, pay):
    create(node_alipay, "V3-CLOSE-1")
    closed = node_alipay.curl("POST", "/v3/alipay/trade/close", {"out_trade_no": "V3-CLOSE-1"})["data"]
    assert closed["out_trade_no"] == "V3-CLOSE-1"
    assert query(node_alipay, "V3-CLOSE-1")["trade_status"] == "TRADE_CLOSED"
    create(node_alipay, "V3-CLOSE-2")
    pay("V3-CLOSE-2")
    error = error_of(lambda: node_alipay.curl("POST", "/v3/alipay/trade/close", {"out_trade_no": "V3-CLOSE-2"}))
    assert (error.status, error.code) == (400, "ACQ.TRADE_STATUS_ERROR")


def test_cancel_closes_an_unpaid_trade_and_refunds_a_paid_one(node_alipay, pay):
    create(node_alipay, "V3-CANCEL-1")
    assert node_alipay.curl("POST", "/v3/alipay/trade/cancel", {"out_trade_no": "V3-CANCEL-1"})["data"]["action"] == (
        "close"
    )
    create(node_alipay, "V3-CANCEL-2")
    pay("V3-CANCEL-2")
    assert node_alipay.curl("POST", "/v3/alipay/trade/cancel", {"out_trade_no": "V3-CANCEL-2"})["data"]["action"] == (
        "refund"
    )
    assert query(node_alipay, "V3-CANCEL-2")["trade_status"] == "TRADE_CLOSED"


def test_a_barcode_payment_pays_at_once_or_answers_202_while_the_buyer_confirms(node_alipay):
    paid = node_alipay.curl(
        "POST",
        "/v3/alipay/trade/pay",
        {
            "out_trade_no": "V3-BAR-1",
            "total_amount": "1.00",
            "subject": "Bun",
            "scene": "bar_code",
            "auth_code": "280000000000000001",
        },
    )
    assert paid["status"] == 200 and paid["data"]["gmt_payment"]
    waiting = node_alipay.curl(
        "POST",
        "/v3/alipay/trade/pay",
        {
            "out_trade_no": "V3-BAR-2",
            "total_amount": "1.00",
            "subject": "Bun",
            "scene": "bar_code",
            "auth_code": "280000000000000010",
        },
    )
    assert waiting["status"] == 202 and "code" not in waiting["data"]  # gateway.do's 10003
    assert query(node_alipay, "V3-BAR-2")["trade_status"] == "WAIT_BUYER_PAY"


def test_a_declined_barcode_payment_is_a_400_with_alipays_code(node_alipay):
    body = {
        "out_trade_no": "V3-BAR-3",
        "total_amount": "1.00",
        "subject": "Bun",
        "scene": "bar_code",
        "auth_code": "280000000000000020",
    }
    error = error_of(lambda: node_alipay.curl("POST", "/v3/alipay/trade/pay", body))
    assert (error.status, error.code) == (400, "ACQ.BUYER_BALANCE_NOT_ENOUGH")
    assert error.links and error.links[0]["link"].startswith("https://opendocs.alipay.com/")


def test_create_needs_a_buyer(node_alipay):
    body = {"out_trade_no": "V3-JSAPI-1", "total_amount": "1.00", "subject": "Bun"}
    error = error_of(lambda: node_alipay.curl("POST", "/v3/alipay/trade/create", body))
    assert (error.status, error.code) == (400, "ACQ.INVALID_PARAMETER")
    assert "buyer_id" in error.message


def test_the_bill_download_url_is_a_get_and_serves_a_real_zip(node_alipay, sandbox, pay):
    create(node_alipay, "V3-BILL-1")
    pay("V3-BILL-1")
    day = sandbox.clock.now().strftime("%Y-%m-%d")
    sandbox.clock.set_mode("manual")
    sandbox.advance(24 * 3600)  # a bill exists once its day has ended
    answer = node_alipay.curl(
        "GET", "/v3/alipay/data/dataservice/bill/downloadurl/query", query={"bill_type": "trade", "bill_date": day}
    )
    url = answer["data"]["bill_download_url"]
    with requests.get(url, timeout=10) as reply:
        assert reply.status_code == 200
        names = zipfile.ZipFile(io.BytesIO(reply.content)).namelist()
    assert any(name.endswith(".csv") for name in names)


def test_certificate_mode_answers_carry_the_alipay_sn_the_sdk_checks(node_alipay_cert):
    node_alipay_cert.curl(
        "POST",
        "/v3/alipay/trade/create",
        {"out_trade_no": "V3-CERT-1", "total_amount": "1.00", "subject": "Bun", "buyer_id": BUYER},
    )
    assert query(node_alipay_cert, "V3-CERT-1")["trade_status"] == "WAIT_BUYER_PAY"


def test_certificate_mode_with_another_apps_certificate_is_refused(live, alipay_demo, alipay_node_script, http):
    other = http.post(
        f"{live.url}/_sandbox/merchants",
        json={"gateway": "alipay", "merchant_id": "2021000000000077", "app_public_key": alipay_demo.app_public_key},
    ).json()
    node = NodeAlipay(
        alipay_node_script,
        appId=alipay_demo.app_id,
        privateKey=alipay_demo.app_private_key,
        appCertContent=other["app_cert"],  # the right key, but the certificate issued to another app
        alipayPublicCertContent=alipay_demo.alipay_public_key_cert,
        alipayRootCertContent=alipay_demo.alipay_root_cert,
        endpoint=live.url,
    )
    error = error_of(lambda: query(node, "V3-CERT-2"))
    assert (error.status, error.code) == (401, "invalid-app-cert-sn")
    assert other["app_cert_sn"] in error.message


def test_a_wrong_private_key_gets_401_with_the_string_verified_and_the_key(live, alipay_node_script, alipay_demo):
    node = NodeAlipay(
        alipay_node_script,
        appId=alipay_demo.app_id,
        privateKey=alipay_demo.alipay_private_key,  # signs with the wrong key
        alipayPublicKey=alipay_demo.alipay_public_key,
        endpoint=live.url,
    )
    error = error_of(lambda: query(node, "V3-SIGN-1"))
    assert (error.status, error.code) == (401, "invalid-signature")
    assert f"app_id={alipay_demo.app_id}" in error.message
    assert '\\nPOST\\n/v3/alipay/trade/query\\n{"out_trade_no":"V3-SIGN-1"}\\n' in error.message
    assert "registered for app_id 2021000000000001 (fingerprint" in error.message


def test_an_unknown_app_id_is_a_400(live, alipay_node_script, alipay_demo):
    node = NodeAlipay(
        alipay_node_script,
        appId="2021009999999999",
        privateKey=alipay_demo.app_private_key,
        alipayPublicKey=alipay_demo.alipay_public_key,
        endpoint=live.url,
    )
    error = error_of(lambda: query(node, "V3-APP-1"))
    assert (error.status, error.code) == (400, "invalid-app-id")


def test_the_sandbox_answers_with_the_sdks_own_signature_error_when_the_alipay_key_is_wrong(
    live, alipay_node_script, alipay_demo
):
    node = NodeAlipay(
        alipay_node_script,
        appId=alipay_demo.app_id,
        privateKey=alipay_demo.app_private_key,
        alipayPublicKey=alipay_demo.app_public_key,  # a shop that pasted its own public key as Alipay's
        endpoint=live.url,
    )
    precreate_error = error_of(lambda: precreate(node, "V3-KEY-1"))
    assert precreate_error.code == "response-signature-verify-error"


def test_page_pay_has_no_v3_route_and_says_where_it_lives(node_alipay):
    error = error_of(lambda: node_alipay.curl("POST", "/v3/alipay/trade/page/pay", {"out_trade_no": "X"}))
    assert (error.status, error.code) == (404, "invalid-method")
    assert "gateway.do" in error.message


def test_the_sdks_deprecated_exec_still_speaks_gateway_do(node_alipay):
    answer = node_alipay.exec(
        "alipay.trade.create",
        {"bizContent": {"out_trade_no": "V3-EXEC-1", "total_amount": "2.00", "subject": "Bun", "buyer_id": BUYER}},
    )
    assert answer["code"] == "10000" and answer["outTradeNo"] == "V3-EXEC-1"
    assert query(node_alipay, "V3-EXEC-1")["trade_status"] == "WAIT_BUYER_PAY"


def test_a_clock_moved_on_by_a_test_still_accepts_the_sdks_real_time_stamps(node_alipay, sandbox):
    sandbox.clock.set_mode("manual")
    sandbox.advance(6 * 3600)
    create(node_alipay, "V3-CLOCK-1")
    assert query(node_alipay, "V3-CLOCK-1")["trade_status"] == "WAIT_BUYER_PAY"


def test_the_reference_v3_client_agrees_with_the_node_sdk(node_alipay, alipay_v3: AlipayV3Client):
    create(node_alipay, "V3-REF-1")
    answer = alipay_v3.call("POST", QUERY, {"out_trade_no": "V3-REF-1"})
    assert (answer.status, answer.data["trade_status"]) == (200, "WAIT_BUYER_PAY")
    by_get = alipay_v3.call("GET", QUERY, query={"out_trade_no": "V3-REF-1"})
    assert by_get.data == answer.data


# -- scenario faults as the SDK meets them (the full matrix is in tests/scenarios) ---------------------


def test_the_sdk_sends_a_call_again_once_when_the_connection_drops(node_alipay, rule, http, live):
    create(node_alipay, "V3-DROP-1")
    rule(match={"operation": "query"}, times=1, api={"disconnect": True})
    assert query(node_alipay, "V3-DROP-1")["trade_status"] == "WAIT_BUYER_PAY"  # the second send was answered
    assert http.get(f"{live.url}/_sandbox/scenarios").json()["scenarios"] == []  # the first one met the rule
    rule(match={"operation": "query"}, times=2, api={"disconnect": True})
    error = error_of(lambda: query(node_alipay, "V3-DROP-1"))
    assert error.status is None and "HttpClient Request error" in error.message


def test_an_unsigned_answer_makes_the_sdk_throw_a_type_error_not_its_own_verify_error(node_alipay, rule):
    create(node_alipay, "V3-UNSIGNED-1")
    rule(match={"operation": "query"}, times=1, api={"body": "unsigned"})
    assert error_of(lambda: query(node_alipay, "V3-UNSIGNED-1")).code == "ERR_INVALID_ARG_TYPE"
    rule(match={"operation": "query"}, times=1, api={"body": "invalid_signature"})
    assert error_of(lambda: query(node_alipay, "V3-UNSIGNED-1")).code == "response-signature-verify-error"


def test_a_scenario_error_code_is_answered_in_v3_form_with_its_status(node_alipay, rule):
    create(node_alipay, "V3-FAULT-1")
    rule(match={"operation": "query"}, times=1, api={"error": "ACQ.SYSTEM_ERROR"})
    error = error_of(lambda: query(node_alipay, "V3-FAULT-1"))
    assert (error.status, error.code) == (500, "ACQ.SYSTEM_ERROR")
    rule(match={"operation": "refund"}, times=1, api={"error": "ACQ.TRADE_STATUS_ERROR"})
    body = {"out_trade_no": "V3-FAULT-1", "refund_amount": "1.00", "out_request_no": "R"}
    error = error_of(lambda: node_alipay.curl("POST", "/v3/alipay/trade/refund", body))
    assert (error.status, error.code) == (400, "ACQ.TRADE_STATUS_ERROR")


def test_the_control_api_says_which_protocol_created_an_order(node_alipay, alipay, http, live, alipay_demo):
    create(node_alipay, "V3-API-1")
    alipay.api_alipay_trade_create(subject="Tea", out_trade_no="V3-API-2", total_amount="1.00", buyer_id=BUYER)
    base = f"{live.url}/_sandbox/orders/alipay/{alipay_demo.app_id}"
    assert http.get(f"{base}/V3-API-1").json()["native"] == {"trade_status": "WAIT_BUYER_PAY", "api": "v3"}
    assert http.get(f"{base}/V3-API-2").json()["native"]["api"] == "gateway.do"
