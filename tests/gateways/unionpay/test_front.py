"""frontTransReq.do: a browser's signed consume form -> 302 to the bank cashier, or an HTML error page."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests

from sandbox.gateways.unionpay import magic
from tests.gateways.unionpay.conftest import consume, signed

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "unionpay"
FRONT = "/gateway/api/frontTransReq.do"
CASHIER = re.compile(r"^/cashier/unionpay/(\d{21})$")


def front(order_id: str, **extra: str) -> dict:
    return consume(order_id, channelType="07", frontUrl="http://127.0.0.1:9/acp/front", **extra)


def redirected(reply) -> str:
    assert reply.status_code == 302, reply.get_data(as_text=True)[:500]
    match = CASHIER.match(reply.headers["Location"].replace("http://localhost", ""))
    assert match, reply.headers["Location"]
    return match.group(1)


def error_page(reply) -> tuple[str, str]:
    assert reply.status_code == 200 and reply.content_type.startswith("text/html")
    body = reply.get_data(as_text=True)
    code = re.search(r'data-testid="resp-code">([^<]*)<', body).group(1)
    message = html.unescape(re.search(r'data-testid="resp-msg" class="wrap">([^<]*)<', body).group(1))
    return code, message


def browser_post(live, fields: dict) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.post(live.url + FRONT, data=fields, allow_redirects=False, timeout=10)


# -- the test client ----------------------------------------------------------------------------------------


def test_a_signed_front_consume_creates_the_order_and_redirects_to_the_cashier(client, sandbox):
    form = signed(front("FRONT0001", orderDesc="测试商品", reqReserved="{a=1&b=2}", riskRateInfo="{commodityName=x}"))
    query_id = redirected(client.post(FRONT, data=form))
    order = sandbox.payments.by_trade_no("unionpay", query_id)
    assert (order.product, order.status, order.amount, order.subject) == ("front", "pending", 1000, "测试商品")
    assert order.extra["frontUrl"] == "http://127.0.0.1:9/acp/front"
    assert order.extra["reqReserved"] == "{a=1&b=2}"
    page = client.get(f"/cashier/unionpay/{query_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "FRONT0001" in text and "10.00" in text and "测试商品" in text


def test_the_same_form_posted_again_reopens_the_same_cashier(client):
    form = signed(front("FRONT0002"))
    assert redirected(client.post(FRONT, data=form)) == redirected(client.post(FRONT, data=form))


def test_a_duplicate_order_id_is_12(client, acp):
    redirected(client.post(FRONT, data=signed(front("FRONT0003"))))
    code, message = error_page(client.post(FRONT, data=signed(front("FRONT0003", txnAmt="2000"))))
    assert code == "12" and "FRONT0003" in message
    assert acp("appTransReq.do", consume("APPORDER01"))["respCode"] == "00"
    assert error_page(client.post(FRONT, data=signed(front("APPORDER01"))))[0] == "12"


def test_an_app_consume_reusing_a_front_consumes_order_id_is_12(client, acp):
    """The same orderId, txnTime and amount, but an app consume: another transaction, not a repeat."""
    redirected(client.post(FRONT, data=signed(front("FRONT0009"))))
    answer = acp("appTransReq.do", consume("FRONT0009", amount=front("FRONT0009")["txnAmt"]))
    assert answer["respCode"] == "12"


def test_a_bad_signature_shows_the_string_verified_and_the_cert_id(client):
    form = signed(front("FRONT0004"))
    form["txnAmt"] = "1"  # changed after signing
    code, message = error_page(client.post(FRONT, data=form))
    assert code == "11"
    assert form["certId"] in message
    assert "txnAmt=1&" in message and "frontUrl=http://127.0.0.1:9/acp/front" in message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"frontUrl": None}, "13"),
        ({"frontUrl": "ftp://x"}, "10"),
        ({"channelType": "05"}, "10"),
        ({"txnSubType": "02"}, "10"),
        ({"currencyCode": "840"}, "10"),
        ({"orderId": "BAD-ID-01"}, "10"),
        ({"txnType": "04"}, "32"),
        ({"merId": "999999999999999"}, "31"),
    ],
)
def test_refusals_are_html_error_pages(client, change, code):
    fields = {**front("FRONT0005"), **change}
    reply = client.post(FRONT, data=signed({k: v for k, v in fields.items() if v is not None}))
    assert error_page(reply)[0] == code


def test_a_get_or_an_empty_body_is_an_error_page_not_a_500(client):
    assert error_page(client.get(FRONT))[0] == "10"
    assert error_page(client.post(FRONT, data={}))[0] == "10"


def test_unknown_cashier_is_404(client):
    assert client.get("/cashier/unionpay/000000000000000000000").status_code == 404


def test_the_card_table_and_luhn():
    assert magic.card_for("6216261000000000018").code == "00"
    assert magic.card_for("4111111111111111").code == "00"  # not in the table but Luhn-valid
    assert magic.card_for("4111111111111112") is None  # 61
    series = [number for number in magic.CARDS if number.startswith("6216261000000000")]
    assert len(series) == 7 and all(magic.luhn_ok(number) for number in series)
    assert {magic.CARDS[n].code for n in series} == {"00", "64", "73", "63", "03", "05"}


# -- the live server, the reference client -------------------------------------------------------------------


def test_the_reference_client_form_redirects_to_the_cashier(bank, live, sandbox):
    fields = bank.consume_params("LIVEFRONT01", 1234, live.url + "/front", live.url + "/back", orderDesc="x")
    reply = browser_post(live, fields)
    assert reply.status_code == 302
    query_id = CASHIER.match(reply.headers["Location"].replace(live.url, "")).group(1)
    assert bank.query("LIVEFRONT01", fields["txnTime"])["origRespCode"] == "05"
    assert bank.query("LIVEFRONT01", fields["txnTime"])["queryId"] == query_id


def test_the_reference_client_with_a_bad_signature_gets_11(bank, live):
    fields = bank.consume_params("LIVEFRONT02", 1234, live.url + "/front", live.url + "/back")
    fields["orderDesc"] = "added after signing"
    reply = browser_post(live, fields)
    assert reply.status_code == 200 and "text/html" in reply.headers["Content-Type"]
    assert 'data-testid="resp-code">11<' in reply.text and fields["certId"] in reply.text
