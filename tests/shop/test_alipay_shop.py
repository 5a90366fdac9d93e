"""The demo shop's Alipay integration over real HTTP: the sandbox notifies the shop, the buyer is a requests session.

What a correct integration must do, each checked against the real sandbox: credit on a verified notification only,
credit once whatever arrives twice or at once, reject forged, tampered and mismatched notifications, never believe
the browser's return, query when the notification is lost, close what expires, refund once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from tests.shop.shopping import attempts, buy, decisions, paid, refund, wait_until

APP_ID = "2021000000000001"


@pytest.fixture
def open_cashier(buyer, shop_live):
    """The buyer follows the shop's redirect to Alipay's cashier (only then does the trade exist at Alipay)."""

    def go(no: str) -> None:
        cashier = buyer.get(f"{shop_live.url}/orders/{no}/pay")
        assert cashier.status_code == 200 and "/cashier/alipay/" in cashier.url, cashier.url

    return go


@pytest.fixture
def pay(http, live):
    """The buyer pays, through the control API (the same core call as the cashier's Pay button)."""

    def pay(no: str, outcome: str = "success") -> None:
        reply = http.post(f"{live.url}/_sandbox/orders/alipay/{APP_ID}/{no}/pay", json={"outcome": outcome})
        assert reply.status_code == 200, reply.text

    return pay


def test_a_paid_order_is_credited_by_the_verified_notification(shop_live, shop, buyer, open_cashier, pay):
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)
    assert shop.book.get(no).status == "pending"

    pay(no)

    wait_until(lambda: paid(shop, no), "the notification to credit the order")
    order = shop.book.get(no)
    assert order.paid_by == "notification"
    assert order.txn_id
    steps = shop.journal.for_order(no)
    signed = steps[0]["details"]["signed"]
    assert f'"out_trade_no":"{no}"' in signed["string"] and "sign=" not in signed["string"]
    assert decisions(shop, no) == [f"credited: the order is paid ({order.txn_id})"]
    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "paid"


def test_the_qr_code_checkout_precreates_and_shows_the_code(shop_live, shop, buyer, pay, http):
    no = buy(buyer, shop_live.url, "alipay:qr", "tea")

    page = buyer.get(f"{shop_live.url}/orders/{no}/pay")

    assert page.status_code == 200 and "<svg" in page.text
    code_url = shop.book.get(no).gateway_data["checkout"]["code_url"]
    assert http.get(code_url).status_code == 200  # the buyer scans it
    pay(no)
    wait_until(lambda: paid(shop, no), "the notification")
    request = shop.journal.for_order(no)[0]
    assert request["exchanges"][0]["signed"]["string"].startswith("app_id=2021000000000001&biz_content=")
    assert '"alipay_trade_precreate_response"' in request["exchanges"][0]["response_body"]


def test_a_duplicated_notification_credits_once_and_is_still_acknowledged(
    shop_live, shop, buyer, open_cashier, pay, rule, http, live
):
    rule(match={"gateway": "alipay"}, notify={"duplicate": 2})
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)

    pay(no)

    wait_until(lambda: len(decisions(shop, no)) == 3, "three copies of the notification")
    assert decisions(shop, no)[0].startswith("credited")
    assert (
        decisions(shop, no)[1:]
        == ["already credited: nothing changed (a duplicate, a replay, or the query was first)"] * 2
    )
    wait_until(lambda: len(attempts(http, live.url, no)) == 3, "the sandbox to record three attempts")
    assert all(a["response_body"] == "success" and a["acked"] for a in attempts(http, live.url, no))


def test_simultaneous_replays_of_one_notification_credit_once(
    shop_live, shop, buyer, open_cashier, pay, rule, http, live
):
    rule(match={"gateway": "alipay"}, notify={"drop": 1})  # the first attempt is lost: nothing credited yet
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)
    pay(no)
    record = wait_until(
        lambda: http.get(f"{live.url}/_sandbox/notifications", params={"out_trade_no": no}).json()["notifications"],
        "the notification record",
    )[0]

    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(
            pool.map(lambda _: http.post(f"{live.url}/_sandbox/notifications/{record['id']}/replay"), range(12))
        )

    assert all(reply.status_code == 200 for reply in replies)
    wait_until(lambda: len(decisions(shop, no)) == 12, "twelve replays")
    assert sum(d.startswith("credited") for d in decisions(shop, no)) == 1
    assert paid(shop, no)


@pytest.mark.parametrize(
    ("effect", "reason"),
    [
        ({"tamper": {"amount": 1}}, "does not verify with the Alipay public key"),
        ({"signature": "invalid"}, "does not verify with the Alipay public key"),
        ({"signature": "missing"}, "carries no sign"),
        ({"merchant": "wrong"}, "not 2021000000000001"),
    ],
    ids=["tampered-amount", "bad-signature", "no-signature", "wrong-merchant"],
)
def test_a_forged_notification_is_rejected_logged_and_answered_fail(
    effect, reason, shop_live, shop, buyer, open_cashier, pay, rule, http, live
):
    rule(match={"gateway": "alipay"}, notify=effect)
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)

    pay(no)

    rejected = wait_until(
        lambda: [s for s in shop.journal.for_order(no) if s["verdict"] == "rejected"], "the rejection"
    )
    assert reason in rejected[0]["details"]["reason"]
    assert shop.book.get(no).status == "pending"
    wait_until(lambda: attempts(http, live.url, no), "the sandbox to record the attempt")
    assert attempts(http, live.url, no)[0]["response_body"] == "fail"  # so Alipay retries; nothing was acknowledged
    assert not attempts(http, live.url, no)[0]["acked"]
    log = buyer.get(f"{shop_live.url}/log").text
    assert "Rejected a notification" in log and no in log


def signed_notification(alipay_demo, **fields: str) -> str:
    """A notification signed with the sandbox's TEST-ONLY Alipay key: genuine as far as the signature goes."""
    key = crypto.load_private_key(alipay_demo.alipay_private_key)
    message = {"app_id": APP_ID, "notify_type": "trade_status_sync", "trade_status": "TRADE_SUCCESS", **fields}
    message["sign"] = crypto.sign(key, sorted_query(message, exclude=()).encode(), "SHA256")
    message["sign_type"] = "RSA2"
    return urlencode(message)


def test_a_genuinely_signed_notification_for_another_amount_or_order_is_rejected(
    shop_live, shop, buyer, http, alipay_demo
):
    no = buy(buyer, shop_live.url, "alipay:page")  # 39.90
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    cheaper = http.post(
        f"{shop_live.url}/notify/alipay",
        data=signed_notification(alipay_demo, out_trade_no=no, total_amount="0.01", trade_no="T1"),
        headers=form,
    )
    unknown = http.post(
        f"{shop_live.url}/notify/alipay",
        data=signed_notification(alipay_demo, out_trade_no="PS-NOT-OURS", total_amount="39.90", trade_no="T2"),
        headers=form,
    )

    assert (cheaper.text, unknown.text) == ("fail", "fail")
    assert shop.book.get(no).status == "pending"
    reasons = [s["details"]["reason"] for s in shop.journal.recent("notification")]
    assert "amount mismatch: it says ¥0.01 was paid, the order is for ¥39.90" in reasons
    assert "no order 'PS-NOT-OURS' in this shop" in reasons


@pytest.mark.parametrize(
    "body",
    [b"", b"not a form at all \xff\xfe", b"sign=abc&out_trade_no=" + b"A" * 5000, b"trade_status=TRADE_SUCCESS"],
    ids=["empty", "garbage", "oversized-field", "unsigned"],
)
def test_malformed_notifications_are_answered_fail_never_a_crash(body, shop_live, shop, http):
    reply = http.post(f"{shop_live.url}/notify/alipay", data=body)

    assert (reply.status_code, reply.text) == (200, "fail")
    assert shop.journal.recent("notification")[0]["verdict"] == "rejected"


def test_a_notification_to_an_unknown_gateway_is_a_404(shop_live, http):
    assert http.post(f"{shop_live.url}/notify/paypal", data=b"x").status_code == 404


def test_a_lost_notification_is_covered_by_the_shops_query(
    shop_live, shop, shop_settings, buyer, open_cashier, pay, rule
):
    rule(match={"gateway": "alipay"}, notify={"drop": 1})
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)
    pay(no)
    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "pending"  # not due yet

    shop_settings.query_after = 0  # as if the order page had waited for the notification long enough
    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert (order["status"], order["paid_by"]) == ("paid", "query")
    query = [s for s in shop.journal.for_order(no) if s["kind"] == "query"]
    assert query[0]["details"]["decision"].startswith("credited")
    assert '"trade_status":"TRADE_SUCCESS"' in query[0]["exchanges"][0]["response_body"]


def test_before_the_buyer_opens_the_cashier_the_query_finds_no_trade(shop_live, shop, shop_settings, buyer):
    shop_settings.query_after = 0
    no = buy(buyer, shop_live.url, "alipay:page")

    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert order["status"] == "pending"
    assert [s["details"]["decision"] for s in shop.journal.for_order(no) if s["kind"] == "query"] == [
        "no change (ACQ.TRADE_NOT_EXIST: the cashier was never opened)"
    ]


def test_a_forged_return_is_logged_and_changes_nothing(shop_live, shop, buyer):
    no = buy(buyer, shop_live.url, "alipay:page")
    forged = {"out_trade_no": no, "trade_no": "X", "total_amount": "39.90", "app_id": APP_ID, "sign": "Zm9yZ2Vk"}

    page = buyer.get(f"{shop_live.url}/return/alipay/{no}", params=forged)

    assert page.url.startswith(f"{shop_live.url}/orders/{no}")
    assert 'id="order-status" data-status="pending"' in page.text
    assert "not proof of payment" in page.text
    [step] = [s for s in shop.journal.for_order(no) if s["kind"] == "return"]
    assert step["verdict"] == "rejected" and "does not verify" in step["details"]["reason"]


def test_an_unpaid_order_past_its_deadline_is_closed_at_alipay_and_shown_closed(
    shop_live, shop, shop_settings, buyer, open_cashier, sandbox, http, live
):
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)
    created = datetime.fromisoformat(shop.book.get(no).created_at)
    shop_settings.now = lambda: created + timedelta(minutes=16)

    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    # Closing at Alipay sends TRADE_CLOSED, which may reach the shop before the close call returns: either closes it.
    assert order["status"] == "closed"
    assert order["close_reason"] in ("expired: not paid in time", "closed at the gateway (TRADE_CLOSED)")
    assert "Closed the unpaid order at the gateway" in [s["title"] for s in shop.journal.for_order(no)]
    state = http.get(f"{live.url}/_sandbox/orders/alipay/{APP_ID}/{no}").json()
    assert state["status"] == "closed"  # closed at Alipay first: a late payment cannot land
    page = buyer.get(f"{shop_live.url}/orders/{no}")
    assert "Closed" in page.text and "Pay " not in page.text.split('id="order-status"')[1][:400]


def test_alipay_closing_an_expired_trade_closes_the_shops_order_by_notification(
    shop_live, shop, buyer, open_cashier, sandbox
):
    sandbox.clock.set_mode("manual")
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)

    sandbox.advance(16 * 60)  # past timeout_express=15m on the sandbox clock

    wait_until(lambda: shop.book.get(no).status == "closed", "the TRADE_CLOSED notification")
    assert shop.book.get(no).close_reason == "closed at the gateway (TRADE_CLOSED)"


def test_partial_then_full_refunds_and_a_repeated_click_refunds_once(
    shop_live, shop, buyer, open_cashier, pay, http, live
):
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)
    pay(no)
    wait_until(lambda: paid(shop, no), "the notification")

    refund(buyer, shop_live.url, no, "10.00", "click-1")
    refund(buyer, shop_live.url, no, "10.00", "click-1")  # the same form submitted twice

    assert shop.book.get(no).status == "partially_refunded"
    assert [(r.amount, r.status) for r in shop.book.get(no).refunds] == [(1000, "succeeded")]
    assert len(http.get(f"{live.url}/_sandbox/orders/alipay/{APP_ID}/{no}").json()["refunds"]) == 1

    too_much = refund(buyer, shop_live.url, no, "30.00", "click-2")
    assert "at most 29.90 can be refunded" in too_much
    refund(buyer, shop_live.url, no, "29.90", "click-3")

    order = shop.book.get(no)
    assert (order.status, order.refunded, order.refundable) == ("refunded", 3990, 0)
    assert len(http.get(f"{live.url}/_sandbox/orders/alipay/{APP_ID}/{no}").json()["refunds"]) == 2


def test_a_refund_whose_answer_is_lost_is_retried_with_the_same_number_and_refunds_once(
    shop_live, shop, buyer, open_cashier, pay, rule, http, live
):
    no = buy(buyer, shop_live.url, "alipay:page")
    open_cashier(no)
    pay(no)
    wait_until(lambda: paid(shop, no), "the notification")
    rule(match={"operation": "refund"}, times=1, api={"disconnect": True})  # refunded, but the answer never came
    rule(match={"out_trade_no": no}, notify={"drop": 9})  # and the refund's notification is late

    first = refund(buyer, shop_live.url, no, "5.00", "click-1")
    assert "submit again: it reuses refund number" in first
    [pending] = shop.book.get(no).refunds
    assert pending.status == "requested"

    refund(buyer, shop_live.url, no, "5.00", "click-1")

    [done] = shop.book.get(no).refunds
    assert (done.refund_no, done.status) == (pending.refund_no, "succeeded")
    assert len(http.get(f"{live.url}/_sandbox/orders/alipay/{APP_ID}/{no}").json()["refunds"]) == 1


def test_a_refund_alipay_refuses_is_shown_failed_with_the_reason(shop_live, shop, buyer, open_cashier, pay):
    no = buy(buyer, shop_live.url, "alipay:page", "norefund")  # 6.09: the merchant's balance is not enough
    open_cashier(no)
    pay(no)
    wait_until(lambda: paid(shop, no), "the notification")

    page = refund(buyer, shop_live.url, no, "6.09", "click-1")

    assert "Alipay refused the refund: ACQ." in page
    [failed] = shop.book.get(no).refunds
    assert failed.status == "failed" and failed.reason.startswith("ACQ.")
    assert shop.book.get(no).refundable == 609  # a failed refund does not use up what may be refunded
