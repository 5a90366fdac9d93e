"""The demo shop's WeChat Pay (API v3) integration over real HTTP: the buyer (plain requests) shops and checks out,
the sandbox's control API plays the buyer's phone, and the sandbox notifies the shop as WeChat would.

What is checked is what the shop decided (its order book, its journal, its JSON) and what it answered the gateway
(the sandbox's record of each notification attempt).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sandbox.core import crypto
from sandbox.merchant.shop.orders import REFUND_FAILED, REFUND_PROCESSING, REFUND_REQUESTED, REFUND_SUCCEEDED
from tests.shop.shopping import attempts, buy, decisions, refund, steps, wait_until

WECHAT = Path(__file__).resolve().parents[2] / "fixtures" / "wechatpay"


@pytest.fixture(autouse=True)
def _manual_clock(sandbox):
    """Time moves only when a test says so: a refund settles (5 s at WeChat) on sandbox.advance."""
    sandbox.clock.set_mode("manual")


@pytest.fixture
def mchid(shop) -> str:
    return shop.integrations["wechatpay"].merchant_id


# -- helpers -----------------------------------------------------------------------------------------------------


def place_order(buyer, shop_live, method: str = "native", sku: str = "coffee") -> str:
    """Add a product, check out with WeChat Pay (the prepay call happens here); answers the order number."""
    return buy(buyer, shop_live.url, f"wechatpay:{method}", sku)


def paid_at_wechat(http, live, mchid: str, no: str, **body) -> dict:
    """The buyer pays on their phone (the control API, as the scan page's Pay button would)."""
    reply = http.post(f"{live.url}/_sandbox/orders/wechatpay/{mchid}/{no}/pay", json={"outcome": "success", **body})
    assert reply.status_code == 200, reply.text
    return reply.json()


def wechat_order(http, live, mchid: str, no: str) -> dict:
    reply = http.get(f"{live.url}/_sandbox/orders/wechatpay/{mchid}/{no}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def status_is(shop, no: str, status: str):
    return lambda: shop.book.get(no).status == status


def refund_flashes(buyer, shop_live, no: str, amount: str, request_id: str) -> list[str]:
    """Submit the order page's refund form; answers the flash messages the shop showed."""
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', refund(buyer, shop_live.url, no, amount, request_id))


# -- paying ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["native", "h5", "jsapi"])
def test_a_checkout_with_the_sandbox_clock_15_minutes_ahead_keeps_the_shops_15_minutes(
    shop_live, shop, buyer, live, http, mchid, sandbox, method
):
    """Regression: the shop sends time_expire on its wall clock (now + 15 minutes); with the sandbox clock moved 15
    minutes on, that deadline was "not in the future" and every prepay a 400 PARAM_ERROR."""
    sandbox.advance(900)
    no = place_order(buyer, shop_live, method)
    assert shop.book.get(no).status == "pending"
    at_wechat = wechat_order(http, live, mchid, no)
    left = datetime.fromisoformat(at_wechat["expires_at"]) - datetime.fromisoformat(at_wechat["created_at"])
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)  # counted from the wall clock the shop used

    paid_at_wechat(http, live, mchid, no)
    wait_until(status_is(shop, no, "paid"), "the TRANSACTION.SUCCESS notification")


def test_native_order_is_paid_by_the_verified_notification(shop_live, shop, buyer, live, http, mchid, sandbox):
    no = place_order(buyer, shop_live)
    order = shop.book.get(no)
    assert (order.gateway, order.method, order.amount, order.status) == ("wechatpay", "native", 3990, "pending")

    qr_page = buyer.get(f"{shop_live.url}/orders/{no}/pay")
    checkout = order.gateway_data["checkout"]
    assert checkout["kind"] == "qr"
    assert checkout["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    scan_page = urlsplit(checkout["open_url"])
    assert f"{scan_page.scheme}://{scan_page.netloc}{scan_page.path}" == f"{live.url}/cashier/wechatpay/native"
    assert parse_qs(scan_page.query)["code_url"] == [checkout["code_url"]]
    assert 'id="open-scan"' in qr_page.text
    assert buyer.get(checkout["open_url"]).status_code == 200  # the sandbox's scan page knows the code_url

    # What WeChat holds: the shop's deadline (time_expire) and notify_url went with the order.
    at_wechat = wechat_order(http, live, mchid, no)
    assert at_wechat["status"] == "pending"
    assert at_wechat["notify_url"] == f"{shop_live.url}/notify/wechatpay"
    assert datetime.fromisoformat(at_wechat["expires_at"]) == datetime.fromisoformat(order.expires_at).replace(
        microsecond=0
    )

    paid_at_wechat(http, live, mchid, no)
    wait_until(status_is(shop, no, "paid"), "the TRANSACTION.SUCCESS notification")

    order = shop.book.get(no)
    assert order.paid_by == "notification"
    assert order.txn_id == wechat_order(http, live, mchid, no)["trade_no"]
    (attempt,) = wait_until(lambda: attempts(http, live.url, no), "the sandbox to record the attempt")
    assert (attempt["http_status"], attempt["acked"]) == (204, True)

    (created,) = steps(shop, no, "request")
    (exchange,) = created["exchanges"]
    assert exchange["status"] == 200
    sent = json.loads(exchange["request_body"])
    assert sent["time_expire"].endswith("+08:00")
    assert sent["notify_url"] == f"{shop_live.url}/notify/wechatpay"
    signed = exchange["signed"]
    assert signed["string"].startswith("POST\n/v3/pay/transactions/native\n")
    assert signed["string"].endswith(f"\n{exchange['request_body']}\n")
    assert signed["algorithm"] == "SHA256withRSA, base64"
    assert "merchant_private_key.pem" in signed["key"]
    assert f'signature="{signed["signature"]}"' in exchange["request_headers"]["Authorization"]
    merchant_key = crypto.load_public_key(sandbox.gateways["wechatpay"].merchant(mchid)["merchant_public_key"])
    assert crypto.verify(merchant_key, signed["string"].encode(), signed["signature"])  # exactly what was signed

    (notified,) = steps(shop, no, "notification")
    assert (notified["title"], notified["verdict"]) == ("Notification TRANSACTION.SUCCESS", "ok")
    assert notified["details"]["decision"].startswith("credited")
    assert notified["details"]["verified"]["out_trade_no"] == no  # the decrypted resource, for the journal

    shown = buyer.get(f"{shop_live.url}/api/orders/{no}").json()
    assert (shown["status"], shown["paid_by"], shown["txn_id"]) == ("paid", "notification", order.txn_id)


def test_a_duplicated_notification_credits_once_and_is_still_acknowledged(
    shop_live, shop, buyer, live, http, mchid, rule
):
    no = place_order(buyer, shop_live)
    rule(match={"out_trade_no": no}, times=1, notify={"duplicate": 1})

    paid_at_wechat(http, live, mchid, no)

    wait_until(lambda: len(steps(shop, no, "notification")) == 2, "the notification and its copy")
    first, copy = steps(shop, no, "notification")
    assert first["details"]["decision"].startswith("credited")
    assert copy["details"]["decision"].startswith("already credited")
    assert copy["verdict"] == "ignored"
    assert shop.book.get(no).status == "paid"
    both = wait_until(lambda: len(attempts(http, live.url, no)) == 2 and attempts(http, live.url, no), "two attempts")
    assert [(a["http_status"], a["acked"]) for a in both] == [(204, True), (204, True)]
    assert {a["trigger"] for a in both} == {"schedule", "duplicate"}


def test_simultaneous_replays_of_one_notification_credit_once(shop_live, shop, buyer, live, http, mchid, rule):
    no = place_order(buyer, shop_live)
    rule(match={"out_trade_no": no}, times=1, notify={"drop": 1})  # the first attempt is lost: nothing credited
    paid_at_wechat(http, live, mchid, no)
    (record,) = wait_until(
        lambda: http.get(f"{live.url}/_sandbox/notifications", params={"out_trade_no": no}).json()["notifications"],
        "the notification record",
    )

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(
            pool.map(lambda _: http.post(f"{live.url}/_sandbox/notifications/{record['id']}/replay"), range(8))
        )

    assert all(reply.status_code == 200 for reply in replies)
    wait_until(lambda: len(decisions(shop, no)) == 8, "eight replays")
    assert sum(d.startswith("credited") for d in decisions(shop, no)) == 1
    assert shop.book.get(no).status == "paid"


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ({"tamper": {"amount": 1}}, "signature does not verify"),
        ({"signature": "invalid"}, "signature does not verify"),
        ({"signature": "missing"}, "Wechatpay-Signature missing"),
        ({"timestamp": "stale"}, "away from this host's clock"),
        ({"merchant": "wrong"}, "is for mchid 1900009999"),
    ],
    ids=["tampered-amount", "bad-signature", "no-signature", "stale", "wrong-merchant"],
)
def test_a_forged_notification_is_rejected_with_400_and_the_order_stays_pending(
    shop_live, shop, buyer, live, http, mchid, rule, forgery, reason
):
    no = place_order(buyer, shop_live)
    rule(match={"out_trade_no": no}, notify=forgery)

    paid_at_wechat(http, live, mchid, no)

    (attempt,) = wait_until(lambda: attempts(http, live.url, no), "the forged notification")
    assert (attempt["http_status"], attempt["acked"]) == (400, False)  # so WeChat would retry
    assert json.loads(attempt["response_body"])["code"] == "FAIL"
    (rejected,) = wait_until(lambda: steps(shop, no, "notification", "rejected"), "the shop's journal step")
    assert reason in rejected["details"]["reason"]
    assert json.loads(attempt["response_body"])["message"] == rejected["details"]["reason"]
    assert shop.book.get(no).status == "pending"
    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "pending"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "text/plain"}, b"not json at all"),
        ({"Content-Type": "application/json"}, b'{"resource_type": "encrypt-resource", "resource": {}}'),
        ({"Content-Type": "application/json"}, b"\xff\xfe not UTF-8"),
        (
            {
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
                "Wechatpay-Signature": "!!not base64!!",
                "Wechatpay-Timestamp": "yesterday",
                "Wechatpay-Nonce": "N",
                "Wechatpay-Serial": "PUB_KEY_ID_0119000000000000000000000000000001",
            },
            b"[]",
        ),
        (
            {
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
                "Wechatpay-Signature": "!!not base64!!",
                "Wechatpay-Timestamp": "{now}",
                "Wechatpay-Nonce": "N",
                "Wechatpay-Serial": "PUB_KEY_ID_0119000000000000000000000000000001",
            },
            b'{"resource": {"algorithm": "AEAD_AES_256_GCM", "nonce": 1, "ciphertext": []}}',
        ),
    ],
    ids=["not-json", "no-headers", "not-utf8", "bad-timestamp", "bad-signature-encoding"],
)
def test_a_malformed_notification_gets_400_fail_never_a_500(shop_live, shop, http, headers, body):
    headers = {k: v.replace("{now}", str(int(time.time()))) for k, v in headers.items()}

    reply = http.post(f"{shop_live.url}/notify/wechatpay", data=body, headers=headers)

    assert reply.status_code == 400, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json()["code"] == "FAIL"
    assert reply.json()["message"]
    (logged,) = shop.journal.recent("notification")
    assert (logged["verdict"], logged["order_no"]) == ("rejected", "")


def genuine_notification(event_type: str, resource: dict) -> tuple[dict, bytes]:
    """A notification as WeChat would send it, signed with the sandbox's TEST-ONLY platform key and encrypted with
    the demo merchant's APIv3 key: everything verifies, so only the shop's own checks can refuse it."""
    apiv3_key = json.loads((WECHAT / "demo" / "merchant.json").read_text())["apiv3_key"]
    nonce = secrets.token_hex(6)
    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(), b"transaction")
    body = json.dumps(
        {
            "id": "EV-TEST",
            "create_time": "2026-01-01T00:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "test",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(sealed).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        }
    ).encode()
    stamp, signer = str(int(time.time())), secrets.token_hex(16)
    key = crypto.load_private_key((WECHAT / "sandbox" / "pub_key_private_key.pem").read_text())
    headers = {
        "Content-Type": "application/json",
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": signer,
        "Wechatpay-Signature": crypto.sign(key, f"{stamp}\n{signer}\n{body.decode()}\n".encode()),
        "Wechatpay-Serial": json.loads((WECHAT / "sandbox" / "platform.json").read_text())["public_key_id"],
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return headers, body


def paid_resource(mchid: str, no: str, total: object) -> dict:
    return {
        "mchid": mchid,
        "out_trade_no": no,
        "transaction_id": "4200000000000000000000000001",
        "trade_state": "SUCCESS",
        "amount": {"total": total, "currency": "CNY"},
    }


@pytest.mark.parametrize(
    ("event", "change", "reason"),
    [
        ("TRANSACTION.SUCCESS", {"amount": {"total": 1}}, "amount mismatch: it says ¥0.01 was paid"),
        ("TRANSACTION.SUCCESS", {"out_trade_no": "PS-NOT-OURS"}, "no order 'PS-NOT-OURS' in this shop"),
        ("TRANSACTION.SUCCESS", {"amount": {"total": "3990"}}, "'3990' is not an amount in fen"),
        ("TRANSACTION.SUCCESS", {"amount": {"total": True}}, "True is not an amount in fen"),
        ("TRANSACTION.SUCCESS", {"amount": None}, "malformed field"),
        ("TRANSACTION.SUCCESS", {"trade_state": "NOTPAY"}, "trade_state 'NOTPAY'"),
        ("TRANSACTION.SUCCESS", {"mchid": None}, "is for mchid None"),
        ("REFUND.SUCCESS", {"out_refund_no": "RF-NOT-OURS", "refund_id": "5030", "amount": {"refund": 1}}, "no refund"),
        ("TRANSACTION.CLOSED", {}, "unknown event_type 'TRANSACTION.CLOSED'"),
    ],
    ids=[
        "amount",
        "unknown-order",
        "amount-as-text",
        "amount-as-bool",
        "no-amount",
        "notpay",
        "no-mchid",
        "unknown-refund",
        "unknown-event",
    ],
)
def test_a_genuinely_signed_notification_that_does_not_match_the_order_is_rejected(
    shop_live, shop, buyer, http, mchid, event, change, reason
):
    no = place_order(buyer, shop_live)
    headers, body = genuine_notification(event, {**paid_resource(mchid, no, 3990), **change})

    reply = http.post(f"{shop_live.url}/notify/wechatpay", data=body, headers=headers)

    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == "FAIL"
    assert reason in reply.json()["message"]
    assert shop.book.get(no).status == "pending"


def test_the_genuine_notification_helper_makes_one_the_shop_believes(shop_live, shop, buyer, http, mchid):
    """The control for the test above: unchanged, the same notification credits the order."""
    no = place_order(buyer, shop_live)
    headers, body = genuine_notification("TRANSACTION.SUCCESS", paid_resource(mchid, no, 3990))

    reply = http.post(f"{shop_live.url}/notify/wechatpay", data=body, headers=headers)

    assert (reply.status_code, reply.text) == (204, "")
    assert shop.book.get(no).status == "paid"


def test_a_lost_notification_is_made_up_for_by_the_shops_query(
    shop_live, shop, shop_settings, buyer, live, http, mchid, rule, sandbox
):
    no = place_order(buyer, shop_live)
    rule(match={"out_trade_no": no}, times=1, notify={"drop": 1})
    paid_at_wechat(http, live, mchid, no)
    (lost,) = wait_until(lambda: attempts(http, live.url, no), "the lost attempt")
    assert lost["effect"] == "lost"
    assert shop.book.get(no).status == "pending"

    shop_settings.query_after = 0  # the order page's poll now asks WeChat instead of waiting

    shown = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert (shown["status"], shown["paid_by"]) == ("paid", "query")
    (query,) = steps(shop, no, "query")
    assert query["details"]["decision"].startswith("credited")
    (exchange,) = query["exchanges"]
    assert exchange["signed"]["string"].startswith(f"GET\n/v3/pay/transactions/out-trade-no/{no}?mchid={mchid}\n")
    assert json.loads(exchange["response_body"])["trade_state"] == "SUCCESS"

    sandbox.advance(15)  # WeChat's retry comes after all: acknowledged, credits nothing
    retried = wait_until(lambda: steps(shop, no, "notification"), "the retry")
    assert retried[0]["details"]["decision"].startswith("already credited")
    assert attempts(http, live.url, no)[-1]["http_status"] == 204


def test_a_query_that_fails_changes_nothing(shop_live, shop, shop_settings, buyer, live, http, mchid, rule):
    no = place_order(buyer, shop_live)
    rule(match={"out_trade_no": no, "operation": "query"}, times=1, api={"status": 503})
    shop_settings.query_after = 0

    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "pending"

    (query,) = steps(shop, no, "query")
    assert query["verdict"] == "failed"
    assert "503" in query["details"]["error"]


def test_a_declined_payment_is_closed_on_the_query(shop_live, shop, shop_settings, buyer, live, http, mchid):
    no = place_order(buyer, shop_live)
    reply = http.post(
        f"{live.url}/_sandbox/orders/wechatpay/{mchid}/{no}/pay", json={"outcome": "fail", "reason": "NOTENOUGH"}
    )
    assert reply.status_code == 200, reply.text
    shop_settings.query_after = 0

    shown = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert shown["status"] == "closed"
    assert "PAYERROR" in shown["close_reason"]


def test_an_order_past_its_deadline_is_closed_at_wechat_then_in_the_shop(
    shop_live, shop, shop_settings, buyer, live, http, mchid
):
    no = place_order(buyer, shop_live)
    deadline = datetime.fromisoformat(shop.book.get(no).expires_at)
    shop_settings.now = lambda: deadline + timedelta(seconds=1)

    shown = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert shown["status"] == "closed"
    assert shown["close_reason"] == "expired: not paid in time"
    (query,) = steps(shop, no, "query")
    assert "NOTPAY" in query["details"]["decision"]
    (close,) = steps(shop, no, "close")
    assert close["verdict"] == "ok"
    (exchange,) = close["exchanges"]
    assert exchange["url"].endswith(f"/v3/pay/transactions/out-trade-no/{no}/close")
    assert exchange["status"] == 204
    assert wechat_order(http, live, mchid, no)["status"] == "closed"
    late = http.post(f"{live.url}/_sandbox/orders/wechatpay/{mchid}/{no}/pay", json={"outcome": "success"})
    assert late.status_code == 409  # no late payment can land on it


# -- H5 and JSAPI ------------------------------------------------------------------------------------------------


def test_h5_sends_the_buyer_to_the_h5_url_and_the_unsigned_return_proves_nothing(
    shop_live, shop, buyer, live, http, mchid
):
    no = place_order(buyer, shop_live, "h5")
    to_wechat = buyer.get(f"{shop_live.url}/orders/{no}/pay", allow_redirects=False)
    assert to_wechat.status_code == 302
    h5_url = to_wechat.headers["Location"]
    assert h5_url.startswith(f"{live.url}/cashier/wechatpay/h5?prepay_id=wx")
    assert parse_qs(urlsplit(h5_url).query)["redirect_url"] == [f"{shop_live.url}/return/wechatpay/{no}"]
    (created,) = steps(shop, no, "request")
    sent = json.loads(created["exchanges"][0]["request_body"])
    assert sent["scene_info"] == {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}}
    assert buyer.get(h5_url).status_code == 200  # the sandbox's H5 page takes the URL as the shop built it

    back = buyer.get(f"{shop_live.url}/return/wechatpay/{no}")  # the buyer comes back before paying

    assert back.url == f"{shop_live.url}/orders/{no}?returned=1"
    assert shop.book.get(no).status == "pending"
    (returned,) = steps(shop, no, "return")
    assert "not proof of payment" in returned["details"]["decision"]

    paid_at_wechat(http, live, mchid, no)
    wait_until(status_is(shop, no, "paid"), "the notification")
    assert shop.book.get(no).paid_by == "notification"


def test_jsapi_hands_the_page_signed_getbrandwcpayrequest_parameters(
    shop_live, shop, buyer, live, http, sandbox, mchid
):
    no = place_order(buyer, shop_live, "jsapi")

    page = buyer.get(f"{shop_live.url}/orders/{no}/pay")

    assert page.status_code == 200
    assert f"{live.url}/cashier/wechatpay/jsbridge.js" in page.text
    params = shop.book.get(no).gateway_data["checkout"]["params"]
    assert params["package"].startswith("prepay_id=wx") and params["signType"] == "RSA"
    signed = "".join(f"{params[k]}\n" for k in ("appId", "timeStamp", "nonceStr", "package"))
    merchant_key = crypto.load_public_key(sandbox.gateways["wechatpay"].merchant(mchid)["merchant_public_key"])
    assert crypto.verify(merchant_key, signed.encode(), params["paySign"])
    request, signing = steps(shop, no, "request")
    assert json.loads(request["exchanges"][0]["request_body"])["payer"]["openid"]
    assert signing["details"]["signed"]["string"] == signed
    assert signing["details"]["signed"]["signature"] == params["paySign"]
    # WeChat's own JSAPI page checks the paySign too (it answers 400 for a wrong one).
    assert http.get(f"{live.url}/cashier/wechatpay/jsapi", params=params).status_code == 200

    paid_at_wechat(http, live, mchid, no)
    wait_until(status_is(shop, no, "paid"), "the notification")


# -- refunds -----------------------------------------------------------------------------------------------------


def paid_order(shop_live, shop, buyer, live, http, mchid, sku: str = "coffee") -> str:
    no = place_order(buyer, shop_live, sku=sku)
    paid_at_wechat(http, live, mchid, no)
    wait_until(status_is(shop, no, "paid"), "the payment's notification")
    return no


def test_a_partial_then_a_full_refund_settle_by_refund_notifications(
    shop_live, shop, buyer, live, http, mchid, sandbox
):
    no = paid_order(shop_live, shop, buyer, live, http, mchid)

    refund_flashes(buyer, shop_live, no, "10.00", "first")

    (first,) = shop.book.get(no).refunds
    assert (first.amount, first.status) == (1000, REFUND_PROCESSING)  # WeChat answers PROCESSING
    assert first.gateway_ref  # refund_id
    assert shop.book.get(no).status == "paid"
    (asked,) = steps(shop, no, "refund")
    (exchange,) = asked["exchanges"]
    sent = json.loads(exchange["request_body"])
    assert sent["out_refund_no"] == first.refund_no
    assert sent["amount"] == {"refund": 1000, "total": 3990, "currency": "CNY"}
    assert sent["notify_url"] == f"{shop_live.url}/notify/wechatpay"
    assert exchange["signed"]["string"].startswith("POST\n/v3/refund/domestic/refunds\n")

    sandbox.advance(5)  # WeChat settles the refund: REFUND.SUCCESS

    wait_until(lambda: len(decisions(shop, no)) == 2, "the REFUND.SUCCESS notification")
    notified = steps(shop, no, "notification")[-1]
    assert notified["title"] == "Notification REFUND.SUCCESS"
    assert notified["details"]["decision"] == f"refund {first.refund_no} succeeded"
    assert shop.book.get(no).refunds[0].status == REFUND_SUCCEEDED
    assert shop.book.get(no).status == "partially_refunded"

    refund_flashes(buyer, shop_live, no, "29.90", "second")
    assert shop.book.get(no).refunds[1].status == REFUND_PROCESSING
    sandbox.advance(5)

    wait_until(status_is(shop, no, "refunded"), "the second REFUND.SUCCESS")
    shown = buyer.get(f"{shop_live.url}/api/orders/{no}").json()
    assert (shown["refunded"], shown["refundable"]) == (3990, 0)
    assert wechat_order(http, live, mchid, no)["refunded_amount"] == 3990
    three = wait_until(
        lambda: len(attempts(http, live.url, no)) == 3 and attempts(http, live.url, no), "three attempts"
    )
    assert [a["http_status"] for a in three] == [204, 204, 204]


def test_the_same_refund_request_twice_refunds_once(shop_live, shop, buyer, live, http, mchid):
    no = paid_order(shop_live, shop, buyer, live, http, mchid)

    refund_flashes(buyer, shop_live, no, "5.00", "double-click")
    refund_flashes(buyer, shop_live, no, "5.00", "double-click")

    (only,) = shop.book.get(no).refunds
    assert only.status == REFUND_PROCESSING
    assert len(steps(shop, no, "refund")) == 1
    assert len(wechat_order(http, live, mchid, no)["refunds"]) == 1


def test_a_refund_whose_answer_was_lost_is_retried_with_the_same_out_refund_no(
    shop_live, shop, buyer, live, http, mchid, rule
):
    no = paid_order(shop_live, shop, buyer, live, http, mchid)
    # A 504 after WeChat took the refund: the shop cannot know, so it changes nothing and says so.
    rule(match={"out_trade_no": no, "operation": "refund"}, times=1, api={"status": 504})

    flashed = refund_flashes(buyer, shop_live, no, "5.00", "retry-me")

    assert "did not confirm the refund" in flashed[0]
    (pending,) = shop.book.get(no).refunds
    assert pending.status == REFUND_REQUESTED
    assert len(wechat_order(http, live, mchid, no)["refunds"]) == 1  # it did happen at WeChat

    refund_flashes(buyer, shop_live, no, "5.00", "retry-me")  # the buyer submits the same form again

    (done,) = shop.book.get(no).refunds
    assert (done.refund_no, done.status) == (pending.refund_no, REFUND_PROCESSING)
    at_wechat = wechat_order(http, live, mchid, no)["refunds"]
    assert len(at_wechat) == 1 and at_wechat[0]["amount"] == 500
    failed, retried = steps(shop, no, "refund")
    assert failed["verdict"] == "failed" and retried["verdict"] == "ok"
    assert json.loads(failed["exchanges"][0]["request_body"]) == json.loads(retried["exchanges"][0]["request_body"])


def test_a_refund_wechat_refuses_is_failed_and_the_order_stays_paid(shop_live, shop, buyer, live, http, mchid):
    no = paid_order(shop_live, shop, buyer, live, http, mchid, sku="norefund")  # 6.09: the balance is not enough

    flashed = refund_flashes(buyer, shop_live, no, "6.09", "refused")

    assert "refused the refund" in flashed[0]
    (refused,) = shop.book.get(no).refunds
    assert refused.status == REFUND_FAILED
    assert refused.reason.startswith("NOT_ENOUGH")
    assert shop.book.get(no).status == "paid"
    assert shop.book.get(no).refundable == 609  # the money is still there to refund


def test_an_abnormal_refund_is_failed_by_its_notification(shop_live, shop, buyer, live, http, mchid):
    no = paid_order(shop_live, shop, buyer, live, http, mchid)
    refund_flashes(buyer, shop_live, no, "39.90", "abnormal")
    (pending,) = shop.book.get(no).refunds

    # The buyer's card was closed meanwhile: WeChat ends the refund ABNORMAL and says so.
    settle = f"{live.url}/_sandbox/orders/wechatpay/{mchid}/{no}/refunds/{pending.refund_no}/settle"
    assert http.post(settle, json={"outcome": "abnormal"}).status_code == 200

    wait_until(lambda: len(decisions(shop, no)) == 2, "the REFUND.ABNORMAL notification")
    assert decisions(shop, no)[-1] == f"refund {pending.refund_no} failed"
    (failed,) = shop.book.get(no).refunds
    assert (failed.status, failed.reason) == (REFUND_FAILED, "ABNORMAL")
    assert shop.book.get(no).status == "paid"


def test_a_late_refund_is_settled_by_the_shops_refund_query(
    shop_live, shop, shop_settings, buyer, live, http, mchid, rule, sandbox
):
    no = paid_order(shop_live, shop, buyer, live, http, mchid)
    rule(match={"out_trade_no": no}, times=1, notify={"drop": 1})  # the REFUND.SUCCESS is lost
    refund_flashes(buyer, shop_live, no, "39.90", "all")
    sandbox.advance(5)
    wait_until(lambda: attempts(http, live.url, no, "REFUND.SUCCESS"), "the lost refund notification")
    assert shop.book.get(no).refunds[0].status == REFUND_PROCESSING

    shop_settings.query_after = 0
    shown = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert shown["status"] == "refunded"
    asked = steps(shop, no, "refund")[-1]
    assert asked["title"].startswith("Asked how refund")
    assert asked["exchanges"][0]["signed"]["string"].startswith("GET\n/v3/refund/domestic/refunds/RF")


def test_the_how_page_shows_what_the_shop_signed_and_verified(shop_live, shop, buyer, live, http, mchid):
    no = paid_order(shop_live, shop, buyer, live, http, mchid)

    page = buyer.get(f"{shop_live.url}/orders/{no}/how")

    assert page.status_code == 200
    assert "/v3/pay/transactions/native" in page.text
    assert "SHA256withRSA" in page.text
    assert "Notification TRANSACTION.SUCCESS" in page.text
