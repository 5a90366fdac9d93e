"""The demo shop's UnionPay (ACP 5.1.0) integration over real HTTP: the buyer is a requests session that posts the
shop's auto-submitting form to frontTransReq.do and pays on the bank cashier; the sandbox notifies the shop.

What a correct integration must do, each checked against the real sandbox: credit on a verified back notification
only, credit once, reject forged, tampered, mismatched and malformed notifications with a non-200 answer (so
UnionPay retries), never believe the browser's front return, query when the notification is lost, close what
expires, refund once (00 is only "accepted": the refund's notification or a query finishes it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import pytest

from sandbox.merchant.shop.gateways.unionpay import acp_time
from sandbox.merchant.unionpay import digest_hex, signing_string
from tests.shop.shopping import attempts, buy, decisions, paid, refund, steps, wait_until

MER_ID = "777290058110097"
CARD = "6216261000000000018"  # the official demo's debit card: pays
HOLDER = {"name": "全渠道", "idNo": "341126197709218366", "phone": "13552535506"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms_in(html: str) -> list[dict]:
    """The forms of a page, their hidden values unescaped as a browser would post them (&#13; is a CR)."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@pytest.fixture(autouse=True)
def manual_clock(sandbox):
    """Time moves on the sandbox only when a test says so: refunds settle and notifications retry on advance."""
    sandbox.clock.set_mode("manual")


@pytest.fixture
def open_cashier(buyer, shop_live, live):
    """The buyer's browser runs the shop's auto-submitting form: it posts the consume to frontTransReq.do, which
    sends it on to the bank cashier (only then does the consume exist at UnionPay). Answers the cashier's URL."""

    def go(no: str) -> str:
        page = buyer.get(f"{shop_live.url}/orders/{no}/pay")
        [form] = forms_in(page.text)
        assert form["action"] == f"{live.url}/gateway/api/frontTransReq.do"
        cashier = buyer.post(form["action"], data=form["fields"], allow_redirects=False)
        assert cashier.status_code == 302, cashier.text
        return urljoin(live.url, cashier.headers["Location"])

    return go


@pytest.fixture
def pay(http, live):
    """The buyer pays, through the control API (the same core call as the cashier's Pay button)."""

    def pay(no: str) -> None:
        reply = http.post(f"{live.url}/_sandbox/orders/unionpay/{MER_ID}/{no}/pay", json={"outcome": "success"})
        assert reply.status_code == 200, reply.text

    return pay


def pay_by_card(buyer, cashier_url: str, card: str = CARD) -> str:
    """Fill in and submit the cashier's card form; answer the result page."""
    result = buyer.post(f"{cashier_url}/pay", data={"accNo": card, **HOLDER, "smsCode": "111111"})
    assert result.status_code == 200
    return result.text


def sandbox_order(http, live, no: str) -> dict:
    return http.get(f"{live.url}/_sandbox/orders/unionpay/{MER_ID}/{no}").json()


# -- paying ----------------------------------------------------------------------------------------------------


def test_a_card_payment_is_credited_by_the_verified_back_notification(shop_live, shop, buyer, open_cashier, http, live):
    no = buy(buyer, shop_live.url, "unionpay:card")
    order = shop.book.get(no)
    [request] = steps(shop, no, "request")
    fields = request["details"]["fields"]
    # txnTime and payTimeout are the order's own moments in Beijing time: the query rebuilds the same txnTime.
    assert (fields["orderId"], fields["txnAmt"], fields["txnTime"]) == (no, "3990", acp_time(order.created_at))
    assert fields["payTimeout"] == acp_time(order.expires_at)
    assert fields["backUrl"] == f"{shop_live.url}/notify/unionpay"
    assert fields["frontUrl"] == f"{shop_live.url}/return/unionpay/{no}"
    signed = request["details"]["signed"]
    assert f"orderId={no}" in signed["string"] and "signature=" not in signed["string"]
    assert "certId 69629715588" in signed["key"] and len(signed["digest"]) == 64

    cashier = open_cashier(no)
    result = pay_by_card(buyer, cashier)

    assert "Payment successful" in result
    wait_until(lambda: paid(shop, no), "the back notification to credit the order")
    order = shop.book.get(no)
    assert order.paid_by == "notification"
    assert order.txn_id == sandbox_order(http, live, no)["trade_no"]
    assert decisions(shop, no) == [f"credited: the order is paid ({order.txn_id})"]
    [notice] = steps(shop, no, "notification")
    assert notice["title"] == "Notification consume 00"
    assert notice["details"]["verified"]["txnAmt"] == "3990"
    assert "characters)" in notice["details"]["verified"]["signPubKeyCert"]  # cut for the journal
    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "paid"


def test_the_front_return_is_verified_but_is_no_proof_of_payment(shop_live, shop, buyer, open_cashier, rule):
    rule(match={"gateway": "unionpay"}, notify={"drop": 1})  # the back notification is late: only the return came
    no = buy(buyer, shop_live.url, "unionpay:card")
    [front] = forms_in(pay_by_card(buyer, open_cashier(no)))
    assert front["action"] == f"{shop_live.url}/return/unionpay/{no}"

    page = buyer.post(front["action"], data=front["fields"])  # "return to merchant", as the browser posts it

    assert page.url == f"{shop_live.url}/orders/{no}?returned=1"
    assert 'data-status="pending"' in page.text and "not proof of payment" in page.text
    [back] = steps(shop, no, "return")
    assert back["verdict"] == "ok" and back["details"]["decision"].startswith("not proof of payment")
    assert shop.book.get(no).status == "pending"


def test_a_tampered_unsigned_or_misdirected_return_is_logged_rejected_and_changes_nothing(
    shop_live, shop, buyer, open_cashier, rule
):
    rule(match={"gateway": "unionpay"}, notify={"drop": 1})
    no = buy(buyer, shop_live.url, "unionpay:card")
    [front] = forms_in(pay_by_card(buyer, open_cashier(no)))
    other = buy(buyer, shop_live.url, "unionpay:card", "tea")

    tampered = buyer.post(front["action"], data={**front["fields"], "txnAmt": "1"})
    unsigned = buyer.get(front["action"])
    misdirected = buyer.post(f"{shop_live.url}/return/unionpay/{other}", data=front["fields"])  # genuine, for `no`

    for page, order in ((tampered, no), (unsigned, no), (misdirected, other)):
        assert page.url == f"{shop_live.url}/orders/{order}?returned=1" and 'data-status="pending"' in page.text
    reasons = [s["details"]["reason"] for s in steps(shop, no, "return") + steps(shop, other, "return")]
    assert [s["verdict"] for s in steps(shop, no, "return") + steps(shop, other, "return")] == ["rejected"] * 3
    assert "signature check failed" in reasons[0]
    assert "carries no signature" in reasons[1]
    assert reasons[2] == f"the return is for order {no!r}"
    assert (shop.book.get(no).status, shop.book.get(other).status) == ("pending", "pending")


def test_a_duplicated_notification_credits_once_and_both_are_acknowledged(
    shop_live, shop, buyer, open_cashier, pay, rule, http, live
):
    rule(match={"gateway": "unionpay"}, notify={"duplicate": 1})
    no = buy(buyer, shop_live.url, "unionpay:card")
    open_cashier(no)

    pay(no)

    wait_until(lambda: len(decisions(shop, no)) == 2, "two copies of the notification")
    assert decisions(shop, no)[0].startswith("credited")
    assert decisions(shop, no)[1] == "already credited: nothing changed (a duplicate, a replay, or the query was first)"
    wait_until(lambda: len(attempts(http, live.url, no)) == 2, "the sandbox to record both attempts")
    assert [(a["http_status"], a["response_body"], a["acked"]) for a in attempts(http, live.url, no)] == [
        (200, "ok", True)
    ] * 2
    assert shop.book.get(no).paid_by == "notification"


@pytest.mark.parametrize(
    ("effect", "reason"),
    [
        ({"tamper": {"amount": 1}}, "signature check failed"),
        ({"signature": "invalid"}, "signature check failed"),
        ({"signature": "missing"}, "the message carries no signature"),
        ({"merchant": "wrong"}, "merId check failed: the notification is for '777290058119999'"),
    ],
    ids=["tampered-amount", "bad-signature", "no-signature", "wrong-merchant"],
)
def test_a_forged_notification_is_rejected_logged_and_answered_non_200(
    effect, reason, shop_live, shop, buyer, open_cashier, pay, rule, http, live
):
    rule(match={"gateway": "unionpay"}, notify=effect)
    no = buy(buyer, shop_live.url, "unionpay:card")
    open_cashier(no)

    pay(no)

    rejected = wait_until(lambda: [s for s in steps(shop, no, "notification") if s["verdict"] == "rejected"], "it")
    assert reason in rejected[0]["details"]["reason"]
    assert shop.book.get(no).status == "pending"
    [attempt] = wait_until(lambda: attempts(http, live.url, no), "the sandbox to record the attempt")
    # Anything but HTTP 200 makes UnionPay retry: nothing was acknowledged.
    assert attempt["http_status"] == 400 and attempt["response_body"].startswith("rejected: ")
    assert not attempt["acked"]
    log = buyer.get(f"{shop_live.url}/log").text
    assert "Rejected a notification" in log and no in log


def signed_notice(sandbox, **fields: str) -> str:
    """A notification signed with the sandbox's TEST-ONLY UnionPay key: genuine as far as the signature goes."""
    message = {
        "version": "5.1.0",
        "encoding": "UTF-8",
        "signMethod": "01",
        "accessType": "0",
        "bizType": "000201",
        "merId": MER_ID,
        "txnType": "01",
        "txnSubType": "01",
        "respCode": "00",
        "respMsg": "成功[0000000]",
        "txnTime": "20261122120000",
        "queryId": "202611221200000000001",
        "currencyCode": "156",
        **fields,
    }
    return urlencode(sandbox.gateways["unionpay"].keys.signed(message))


def test_a_genuinely_signed_notification_that_does_not_match_the_order_is_rejected(
    shop_live, shop, buyer, http, sandbox
):
    no = buy(buyer, shop_live.url, "unionpay:card")  # 39.90

    cheaper = signed_notice(sandbox, orderId=no, txnAmt="1")
    unknown = signed_notice(sandbox, orderId="PS0000NOTOURS", txnAmt="3990")
    not_fen = signed_notice(sandbox, orderId=no, txnAmt="39.90")
    stray_refund = signed_notice(sandbox, txnType="04", txnSubType="00", orderId="RF0000000001", txnAmt="100")
    other_refund = signed_notice(
        sandbox, txnType="04", txnSubType="00", orderId="RF0000000001", txnAmt="100", reqReserved=no
    )
    replies = [
        http.post(f"{shop_live.url}/notify/unionpay", data=body, headers=FORM)
        for body in (cheaper, unknown, not_fen, stray_refund, other_refund)
    ]

    assert [r.status_code for r in replies] == [400] * 5
    assert shop.book.get(no).status == "pending"
    reasons = [s["details"]["reason"] for s in reversed(shop.journal.recent("notification"))]
    assert reasons == [
        "amount mismatch: it says ¥0.01 was paid, the order is for ¥39.90",
        "no order 'PS0000NOTOURS' in this shop",
        "txnAmt '39.90' is not an amount in fen",
        "a refund without reqReserved: the shop puts its order number there",
        f"order {no} has no refund 'RF0000000001'",
    ]
    assert replies[0].text == f"rejected: {reasons[0]}"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not a form at all \xff\xfe",
        b"signature=abc&orderId=" + b"A" * 5000,
        b"txnType=01&respCode=00&orderId=PS1&txnAmt=1",
        b"signature=%%%&signPubKeyCert=-----BEGIN+CERTIFICATE-----%0Agarbage%0A-----END+CERTIFICATE-----",
        b'{"txnType": "01"}',
    ],
    ids=["empty", "garbage", "oversized-field", "unsigned", "broken-certificate", "json"],
)
def test_malformed_notifications_are_answered_400_never_a_crash(body, shop_live, shop, http):
    reply = http.post(f"{shop_live.url}/notify/unionpay", data=body, headers=FORM)

    assert reply.status_code == 400 and reply.text.startswith("rejected: ")
    assert shop.journal.recent("notification")[0]["verdict"] == "rejected"


# -- the query fallback and expiry ------------------------------------------------------------------------------


def test_a_lost_notification_is_covered_by_the_shops_query(
    shop_live, shop, shop_settings, buyer, open_cashier, pay, rule
):
    rule(match={"gateway": "unionpay"}, notify={"drop": 1})
    no = buy(buyer, shop_live.url, "unionpay:card")
    open_cashier(no)
    pay(no)
    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "pending"  # not due yet

    shop_settings.query_after = 0  # as if the order page had waited for the notification long enough
    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert (order["status"], order["paid_by"]) == ("paid", "query")
    [query] = steps(shop, no, "query")
    assert query["details"]["decision"] == f"credited: the order is paid ({order['txn_id']})"
    [exchange] = query["exchanges"]
    assert exchange["url"].endswith("/gateway/api/queryTrans.do")
    assert f"txnTime={acp_time(order['created_at'])}" in exchange["signed"]["string"]
    assert "origRespCode=00" in exchange["response_body"]


def test_before_the_browser_reaches_unionpay_the_query_finds_no_transaction(shop_live, shop, shop_settings, buyer):
    shop_settings.query_after = 0
    no = buy(buyer, shop_live.url, "unionpay:card")

    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert order["status"] == "pending"
    assert [s["details"]["decision"] for s in steps(shop, no, "query")] == [
        "no change (respCode 34: the consume never reached UnionPay)"
    ]


def test_a_pending_card_stays_pending_until_unionpay_settles_it(
    shop_live, shop, shop_settings, buyer, open_cashier, sandbox
):
    shop_settings.query_after = 0
    no = buy(buyer, shop_live.url, "unionpay:card")

    result = pay_by_card(buyer, open_cashier(no), card="6216261000000000059")  # 05: accepted, paid 30 s later

    assert "processing" in result
    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "pending"
    assert steps(shop, no, "query")[0]["details"]["decision"].startswith("no change (origRespCode 05")
    sandbox.advance(30)
    wait_until(lambda: paid(shop, no), "the back notification once the bank settled")
    assert shop.book.get(no).paid_by == "notification"


def test_a_declined_card_closes_the_order_once_the_query_says_so(shop_live, shop, shop_settings, buyer, open_cashier):
    no = buy(buyer, shop_live.url, "unionpay:card", "mug")

    result = pay_by_card(buyer, open_cashier(no), card="6216261000000000646")  # 64: insufficient balance

    assert "Payment failed" in result
    assert shop.book.get(no).status == "pending"  # UnionPay sends no notification for a failed consume
    shop_settings.query_after = 0
    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()
    assert order["status"] == "closed"
    assert order["close_reason"].startswith("closed at the gateway (origRespCode 64: ")


def test_an_unpaid_order_past_its_deadline_is_shown_closed(
    shop_live, shop, shop_settings, buyer, open_cashier, sandbox, http, live
):
    no = buy(buyer, shop_live.url, "unionpay:card")
    open_cashier(no)
    sandbox.advance(16 * 60)  # past payTimeout on UnionPay's clock: the consume can no longer be paid
    assert sandbox_order(http, live, no)["status"] == "closed"
    created = datetime.fromisoformat(shop.book.get(no).created_at)
    shop_settings.now = lambda: created + timedelta(minutes=16)  # and past the order's deadline on the shop's

    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert order["status"] == "closed"
    assert order["close_reason"].startswith("closed at the gateway (origRespCode 01: ")
    page = buyer.get(f"{shop_live.url}/orders/{no}")
    assert 'data-status="closed"' in page.text and 'id="pay-now"' not in page.text


def test_an_order_never_taken_to_unionpay_expires_without_a_call_to_close(shop_live, shop, shop_settings, buyer):
    no = buy(buyer, shop_live.url, "unionpay:card")
    created = datetime.fromisoformat(shop.book.get(no).created_at)
    shop_settings.now = lambda: created + timedelta(minutes=16)

    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert (order["status"], order["close_reason"]) == ("closed", "expired: not paid in time")
    assert [s["kind"] for s in shop.journal.for_order(no)] == ["request", "query", "close"]
    assert shop.journal.for_order(no)[-1]["exchanges"] == []  # ACP has no close: payTimeout did it


# -- refunds ---------------------------------------------------------------------------------------------------


@pytest.fixture
def paid_order(shop_live, shop, buyer, open_cashier, pay):
    def make(sku: str = "coffee") -> str:
        no = buy(buyer, shop_live.url, "unionpay:card", sku)
        open_cashier(no)
        pay(no)
        wait_until(lambda: paid(shop, no), "the back notification")
        return no

    return make


def refund_status(shop, no: str) -> list[tuple[int, str]]:
    return [(r.amount, r.status) for r in shop.book.get(no).refunds]


def test_partial_then_full_refunds_finish_on_their_notifications(
    shop_live, shop, buyer, paid_order, sandbox, http, live
):
    no = paid_order()

    page = refund(buyer, shop_live.url, no, "10.00", "click-1")

    # respCode 00 only means UnionPay accepted the refund: the shop waits for its notification.
    assert "of ¥10.00: processing" in page
    assert shop.book.get(no).status == "paid" and refund_status(shop, no) == [(1000, "processing")]
    [first] = shop.book.get(no).refunds
    [call] = steps(shop, no, "refund")
    assert call["details"]["outcome"].startswith("processing respCode 00")
    assert f"reqReserved={no}" in call["exchanges"][0]["signed"]["string"]

    sandbox.advance(5)  # the sandbox finishes a refund 5 s after it accepted it, and notifies

    wait_until(lambda: shop.book.get(no).status == "partially_refunded", "the refund's notification")
    assert decisions(shop, no)[-1] == f"refund {first.refund_no} succeeded"
    assert shop.book.get(no).refunds[0].gateway_ref == sandbox_order(http, live, no)["refunds"][0]["refund_id"]

    refund(buyer, shop_live.url, no, "29.90", "click-2")
    sandbox.advance(5)

    wait_until(lambda: shop.book.get(no).status == "refunded", "the second refund's notification")
    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()
    assert (order["status"], order["refunded"], order["refundable"]) == ("refunded", 3990, 0)
    assert len(sandbox_order(http, live, no)["refunds"]) == 2


def test_the_same_refund_submitted_twice_refunds_once(shop_live, shop, buyer, paid_order, http, live):
    no = paid_order()

    refund(buyer, shop_live.url, no, "10.00", "click-1")
    refund(buyer, shop_live.url, no, "10.00", "click-1")  # the same form submitted twice

    assert refund_status(shop, no) == [(1000, "processing")]
    assert len(steps(shop, no, "refund")) == 1
    assert len(sandbox_order(http, live, no)["refunds"]) == 1


def test_a_refund_whose_answer_is_lost_is_retried_with_the_same_number_and_refunds_once(
    shop_live, shop, buyer, paid_order, rule, http, live, sandbox
):
    no = paid_order()
    rule(match={"operation": "refund"}, times=1, api={"disconnect": True})  # accepted, but the answer never came

    first = refund(buyer, shop_live.url, no, "5.00", "click-1")
    assert "submit again: it reuses refund number" in first
    [pending] = shop.book.get(no).refunds
    assert pending.status == "requested"

    refund(buyer, shop_live.url, no, "5.00", "click-1")  # same orderId, same txnTime: UnionPay's same refund

    [again] = shop.book.get(no).refunds
    assert (again.refund_no, again.status) == (pending.refund_no, "processing")
    assert len(sandbox_order(http, live, no)["refunds"]) == 1
    sandbox.advance(5)
    wait_until(lambda: refund_status(shop, no) == [(500, "succeeded")], "the refund's notification")


def test_a_late_refund_notification_is_covered_by_the_refund_query(
    shop_live, shop, shop_settings, buyer, paid_order, rule, sandbox
):
    no = paid_order()
    rule(match={"gateway": "unionpay", "out_trade_no": no}, notify={"drop": 5})
    refund(buyer, shop_live.url, no, "39.90", "click-1")
    sandbox.advance(5)  # refunded at UnionPay; its notification is lost

    assert buyer.get(f"{shop_live.url}/api/orders/{no}").json()["status"] == "paid"  # not due yet
    shop_settings.query_after = 0
    order = buyer.get(f"{shop_live.url}/api/orders/{no}").json()

    assert order["status"] == "refunded"
    assert steps(shop, no, "refund")[-1]["title"].startswith("Asked how refund RF")


def test_a_refund_unionpay_refuses_is_shown_failed_with_the_reason(shop_live, shop, buyer, paid_order):
    no = paid_order("norefund")  # 6.09: the merchant's balance is not enough to refund

    page = refund(buyer, shop_live.url, no, "6.09", "click-1")

    assert "UnionPay card refused the refund: respCode 01: " in page
    [failed] = shop.book.get(no).refunds
    assert failed.status == "failed" and failed.reason.startswith("respCode 01: ")
    assert shop.book.get(no).refundable == 609  # a refused refund does not use up what may be refunded
    assert shop.book.get(no).status == "paid"


# -- what the journal explains -----------------------------------------------------------------------------------


def test_the_journal_shows_what_was_signed_and_the_how_page_renders_it(shop_live, shop, buyer, paid_order):
    no = paid_order()
    refund(buyer, shop_live.url, no, "1.00", "click-1")

    [call] = steps(shop, no, "refund")
    [exchange] = call["exchanges"]
    sent = dict(pair.split("=", 1) for pair in exchange["signed"]["string"].split("&"))
    assert exchange["signed"]["digest"] == digest_hex(sent)
    assert exchange["signed"]["string"] == signing_string(sent)
    order = shop.book.get(no)
    assert (sent["txnType"], sent["orderId"], sent["origQryId"]) == ("04", order.refunds[0].refund_no, order.txn_id)
    how = buyer.get(f"{shop_live.url}/orders/{no}/how").text
    assert "SHA256withRSA (signMethod 01)" in how and "backTransReq.do" in how
