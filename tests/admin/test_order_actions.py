"""POST /_sandbox/orders/.../refund and .../close act as the order's merchant, over real HTTP and on both stores: the
gateway's own refund and close run, its refund notifications verify with the real SDK or the reference client, the
merchant's own queries see the result, scenario rules refuse as the gateway would, and the integration report does
not take any of it for the merchant's doing."""

from __future__ import annotations

import json

import pytest

from sandbox.config import Config
from sandbox.merchant.wechatpay_v2 import v2_build_xml, v2_nonce, v2_parse_refund_notification, v2_parse_xml, v2_sign
from tests.conftest import WECHAT_MERCHANT, wechatpayv3_client

APP, MCHID, MER_ID = "2021000000000001", "1900000109", "777290058110097"
MERCHANTS = {"alipay": APP, "wechatpay": MCHID, "unionpay": MER_ID}
NUMBERS = {"alipay": "QA-R-1", "wechatpay": "QA_R-1@a", "unionpay": "QAR00001"}  # each within its gateway's rules


@pytest.fixture
def config(store_data) -> Config:
    return Config(seed=1234, data_path=store_data)


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    sandbox.clock.set_mode("manual")


def call(http, live, method: str, path: str, body: dict | None = None, status: int = 200) -> dict:
    reply = http.request(method, f"{live.url}/_sandbox{path}", json=body, timeout=10)
    assert reply.status_code == status, reply.text
    return reply.json()


def new_order(http, live, receiver, gateway: str, amount: int = 1000, **extra) -> tuple[dict, str]:
    body = {"gateway": gateway, "amount": amount, "notify_url": f"{receiver.url}/notify", **extra}
    if gateway == "unionpay":
        body["return_url"] = f"{receiver.url}/back"
    order = call(http, live, "POST", "/orders", body, 201)
    return order, f"/orders/{gateway}/{order['merchant_id']}/{order['out_trade_no']}"


def paid_order(http, live, receiver, gateway: str, amount: int = 1000) -> tuple[dict, str]:
    order, path = new_order(http, live, receiver, gateway, amount)
    call(http, live, "POST", path + "/pay", {})
    return order, path


def advance(http, live, seconds: int) -> None:
    call(http, live, "POST", "/clock/advance", {"seconds": seconds})


@pytest.mark.parametrize("gateway", list(MERCHANTS))
def test_a_partial_then_a_full_refund_run_the_gateway_s_own_refund(gateway, live, http, receiver, alipay_client, bank):
    receiver.reply("ok" if gateway == "unionpay" else "success")
    order, path = paid_order(http, live, receiver, gateway)
    asked = {"amount": 300, "out_refund_no": NUMBERS[gateway]}
    if gateway != "unionpay":  # ACP has no reason field
        asked["reason"] = "broken"

    first = call(http, live, "POST", path + "/refund", asked, 201)
    assert (first["status"], first["refunded_amount"]) == ("paid", 300)
    made = first["refund"]
    assert (made["out_refund_no"], made["amount"], made["via"]) == (NUMBERS[gateway], 300, "control_api")
    assert first["refunds"] == [made] and "pay_url" in first and "notifications" in first
    assert call(http, live, "POST", path + "/refund", asked, 200)["refund"] == made  # the same refund again

    rest = call(http, live, "POST", path + "/refund", {}, 201)  # what is left, under a number of its own
    assert (rest["refunded_amount"], rest["refund"]["amount"]) == (1000, 700)
    assert rest["status"] == ("refunded" if gateway == "alipay" else "paid")  # till WeChat's and UnionPay's settle
    assert rest["refund"]["out_refund_no"].startswith("SBXR") and len(rest["refund"]["out_refund_no"]) == 26
    numbers = {NUMBERS[gateway]: 300, rest["refund"]["out_refund_no"]: 700}
    advance(http, live, 10)  # WeChat Pay and UnionPay refunds settle 5 s after they were accepted
    assert call(http, live, "GET", path)["status"] == "refunded"

    if gateway == "alipay":
        for number, fen in numbers.items():
            answer = alipay_client.refund_query(order["out_trade_no"], number)
            assert (answer["refund_status"], answer["refund_amount"]) == ("REFUND_SUCCESS", f"{fen // 100}.00")
        assert alipay_client.refund_query(order["out_trade_no"], NUMBERS[gateway])["refund_reason"] == "broken"
        return
    refund_event = "REFUND.SUCCESS" if gateway == "wechatpay" else "txnType=04"
    arrived = receiver.wait_for(2, path="/notify", where=lambda r: refund_event in r.text)
    if gateway == "wechatpay":
        sdk = wechatpayv3_client(live.url, f"{receiver.url}/notify")
        refunds = {(r := sdk.callback(n.headers, n.body)["resource"])["out_refund_no"]: r for n in arrived}
        assert {n: r["amount"]["refund"] for n, r in refunds.items()} == numbers
        assert {r["refund_status"] for r in refunds.values()} == {"SUCCESS"}
        code, text = sdk.query_refund(NUMBERS[gateway])
        assert code == 200 and json.loads(text)["status"] == "SUCCESS"
    else:
        refunds = {(v := bank.verify_notification(n.form))["orderId"]: v for n in arrived}
        assert {n: int(v["txnAmt"]) for n, v in refunds.items()} == numbers
        assert {(v["origQryId"], v["respCode"]) for v in refunds.values()} == {(order["trade_no"], "00")}


def test_a_wechat_v2_order_is_refunded_over_v3_and_its_notification_is_v2_s(live, http, receiver):
    fields = {
        "appid": WECHAT_MERCHANT["appid"],
        "mch_id": MCHID,
        "nonce_str": v2_nonce(),
        "body": "v2 order",
        "out_trade_no": "QA-V2-1",
        "total_fee": "1000",
        "spbill_create_ip": "127.0.0.1",
        "notify_url": f"{receiver.url}/notify",
        "trade_type": "NATIVE",
        "product_id": "1",
    }
    xml = v2_build_xml({**fields, "sign": v2_sign(fields, WECHAT_MERCHANT["api_key"])})
    answer = v2_parse_xml(http.post(f"{live.url}/pay/unifiedorder", data=xml.encode(), timeout=10).text)
    assert answer["result_code"] == "SUCCESS", answer
    path = f"/orders/wechatpay/{MCHID}/QA-V2-1"
    call(http, live, "POST", path + "/pay", {})
    receiver.reply("<xml><return_code>SUCCESS</return_code></xml>")

    made = call(http, live, "POST", path + "/refund", {"amount": 400, "out_refund_no": "QA-V2-R1"}, 201)["refund"]
    assert (made["status"], made["via"]) == ("pending", "control_api")
    advance(http, live, 10)
    [refunded] = receiver.wait_for(1, path="/notify", where=lambda r: "req_info" in r.text)
    fields = v2_parse_refund_notification(
        refunded.body, WECHAT_MERCHANT["api_key"], appid=WECHAT_MERCHANT["appid"], mch_id=MCHID
    )
    assert (fields["out_refund_no"], fields["refund_fee"], fields["refund_status"]) == ("QA-V2-R1", "400", "SUCCESS")


def test_a_refund_rule_s_error_refuses_it_as_the_gateway_would_and_other_api_faults_do_not_apply(
    live, http, receiver, rule
):
    _, path = paid_order(http, live, receiver, "wechatpay")
    lost = rule(match={"operation": "refund"}, times=1, api={"status": 503})  # the wire's load balancer: not here
    broke = rule(match={"operation": "refunds.create"}, times=1, api={"error": "merchant_balance_not_enough"})

    refused = call(http, live, "POST", path + "/refund", {"amount": 100}, 409)["error"]
    assert refused["code"] == "GATEWAY_REFUSED" and "NOT_ENOUGH" in refused["message"]
    assert broke["id"] in refused["message"]
    left = {r["id"]: r["remaining"] for r in call(http, live, "GET", "/scenarios")["scenarios"]}
    assert left == {lost["id"]: 1}  # the error was spent on this refund; the 503 is untouched
    assert call(http, live, "POST", path + "/refund", {"amount": 100}, 201)["refunded_amount"] == 100

    _, magic_path = paid_order(http, live, receiver, "alipay", amount=609)  # refunds are refused at 6.09
    refused = call(http, live, "POST", magic_path + "/refund", {}, 409)["error"]
    assert refused["code"] == "GATEWAY_REFUSED" and "ACQ.SELLER_BALANCE_NOT_ENOUGH" in refused["message"]
    assert call(http, live, "GET", magic_path)["refunds"] == []


def test_a_pending_order_closed_here_cannot_be_paid_by_its_buyer(live, http, receiver):
    order, path = new_order(http, live, receiver, "alipay", return_url=f"{receiver.url}/back")
    refused = call(http, live, "POST", path + "/close", None, 409)["error"]  # Alipay has no trade before the cashier
    assert refused["code"] == "GATEWAY_REFUSED" and "ACQ.TRADE_NOT_EXIST" in refused["message"]
    assert http.get(order["pay_url"], timeout=10).status_code == 200  # the buyer opens the cashier ...
    closed = call(http, live, "POST", path + "/close", {})  # ... and the merchant closes it
    assert (closed["status"], closed["failure"]) == ("closed", {"reason": "closed by merchant", "via": "control_api"})
    assert closed["native"]["trade_status"] == "TRADE_CLOSED"
    http.post(f"{live.url}/cashier/alipay/{order['trade_no']}/pay", data={"action": "pay"}, timeout=10)
    assert call(http, live, "POST", path + "/pay", {}, 409)["error"]["code"] == "ORDER_CLOSED"
    assert call(http, live, "GET", path)["status"] == "closed"
    [ended] = [e for e in call(http, live, "GET", path + "/timeline")["events"] if e["kind"] == "closed"]
    assert ended["title"].endswith("(from the control API)")

    native, path = new_order(http, live, receiver, "wechatpay")
    assert call(http, live, "POST", path + "/close")["status"] == "closed"
    http.post(f"{live.url}/cashier/wechatpay/{native['trade_no']}/pay", data={"action": "pay"}, timeout=10)
    code, text = wechatpayv3_client(live.url, receiver.url).query(out_trade_no=native["out_trade_no"])
    assert code == 200 and json.loads(text)["trade_state"] == "CLOSED"

    _, path = paid_order(http, live, receiver, "wechatpay")
    assert call(http, live, "POST", path + "/close", {}, 409)["error"]["code"] == "ORDER_ALREADY_PAID"
    _, path = new_order(http, live, receiver, "unionpay")
    refused = call(http, live, "POST", path + "/close", {}, 409)["error"]
    assert refused["code"] == "UNSUPPORTED_BY_GATEWAY" and "payTimeout" in refused["message"]
    assert call(http, live, "GET", path)["status"] == "pending"


def test_the_integration_report_does_not_count_what_the_control_api_did(live, http, receiver, rule):
    report = f"/merchants/wechatpay/{MCHID}/report"
    sdk = wechatpayv3_client(live.url, f"{receiver.url}/notify")
    code, _ = sdk.pay(description="faulted", out_trade_no="QA-REP-1", amount={"total": 1000})
    assert code == 200
    path = f"/orders/wechatpay/{MCHID}/QA-REP-1"
    call(http, live, "POST", path + "/pay", {})
    rule(match={"operation": "refund"}, times=1, api={"status": 503})
    refund = {"refund": 100, "total": 1000, "currency": "CNY"}
    # The merchant's own refund meets the fault; a refund through the control API is no follow-up of it.
    assert sdk.refund(out_refund_no="QA-REP-R0", amount=refund, out_trade_no="QA-REP-1")[0] == 503
    call(http, live, "POST", path + "/refund", {"amount": 100}, 201)
    call(http, live, "POST", path + "/refund", {"amount": 200}, 201)
    _, closing = new_order(http, live, receiver, "wechatpay")
    call(http, live, "POST", closing + "/close")

    checks = {c["id"]: c for c in call(http, live, "GET", report)["checks"]}
    assert checks["follows_up_faults"]["status"] == "failed"
    for name in ("refunds_partially", "refunds_repeatedly", "closes_unpaid_orders"):
        assert checks[name]["status"] == "not_exercised", checks[name]

    # The merchant's own calls count as before: its retry of the faulted refund, and a close of its own.
    refund = {"refund": 100, "total": 1000, "currency": "CNY"}
    assert sdk.refund(out_refund_no="QA-REP-R0", amount=refund, out_trade_no="QA-REP-1")[0] == 200
    assert sdk.pay(description="closed", out_trade_no="QA-REP-2", amount={"total": 1000})[0] == 200
    assert sdk.close(out_trade_no="QA-REP-2")[0] == 204
    checks = {c["id"]: c["status"] for c in call(http, live, "GET", report)["checks"]}
    assert (checks["follows_up_faults"], checks["refunds_partially"], checks["closes_unpaid_orders"]) == ("passed",) * 3
