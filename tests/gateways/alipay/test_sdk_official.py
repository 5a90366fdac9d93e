"""The official alipay-sdk-python 3.7.1411 (`alipay.aop.api`), unmodified but for its base URL, against the sandbox.

This SDK POSTs to `server_url?<common params and sign>` with only biz_content in the form body,
sends biz_content with sorted keys and raw UTF-8, returns the inner response text of a signed
envelope (raising on an unsigned one), and leaves `is_success()` to mean "no sub_code"
(docs/protocols/alipay.md#endpoint-and-transport, docs/protocols/alipay.md#the-response-envelope). Its
connection code ignores the port, hence `patch_port_handling`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from urllib.parse import parse_qsl, urljoin, urlsplit

import alipay.aop.api.DefaultAlipayClient as default_client_module
import pytest
import rsa
from alipay.aop.api.domain.AlipayDataDataserviceBillDownloadurlQueryModel import (
    AlipayDataDataserviceBillDownloadurlQueryModel,
)
from alipay.aop.api.domain.AlipayTradeCancelModel import AlipayTradeCancelModel
from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
from alipay.aop.api.domain.AlipayTradeCreateModel import AlipayTradeCreateModel
from alipay.aop.api.domain.AlipayTradeFastpayRefundQueryModel import AlipayTradeFastpayRefundQueryModel
from alipay.aop.api.domain.AlipayTradePagePayModel import AlipayTradePagePayModel
from alipay.aop.api.domain.AlipayTradePayModel import AlipayTradePayModel
from alipay.aop.api.domain.AlipayTradePrecreateModel import AlipayTradePrecreateModel
from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
from alipay.aop.api.domain.AlipayTradeWapPayModel import AlipayTradeWapPayModel
from alipay.aop.api.exception.Exception import ResponseException
from alipay.aop.api.request.AlipayDataDataserviceBillDownloadurlQueryRequest import (
    AlipayDataDataserviceBillDownloadurlQueryRequest,
)
from alipay.aop.api.request.AlipayTradeCancelRequest import AlipayTradeCancelRequest
from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
from alipay.aop.api.request.AlipayTradeCreateRequest import AlipayTradeCreateRequest
from alipay.aop.api.request.AlipayTradeFastpayRefundQueryRequest import AlipayTradeFastpayRefundQueryRequest
from alipay.aop.api.request.AlipayTradePagePayRequest import AlipayTradePagePayRequest
from alipay.aop.api.request.AlipayTradePayRequest import AlipayTradePayRequest
from alipay.aop.api.request.AlipayTradePrecreateRequest import AlipayTradePrecreateRequest
from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
from alipay.aop.api.request.AlipayTradeWapPayRequest import AlipayTradeWapPayRequest
from alipay.aop.api.response.AlipayDataDataserviceBillDownloadurlQueryResponse import (
    AlipayDataDataserviceBillDownloadurlQueryResponse,
)
from alipay.aop.api.response.AlipayResponse import AlipayResponse
from alipay.aop.api.response.AlipayTradeCancelResponse import AlipayTradeCancelResponse
from alipay.aop.api.response.AlipayTradeCloseResponse import AlipayTradeCloseResponse
from alipay.aop.api.response.AlipayTradeCreateResponse import AlipayTradeCreateResponse
from alipay.aop.api.response.AlipayTradeFastpayRefundQueryResponse import AlipayTradeFastpayRefundQueryResponse
from alipay.aop.api.response.AlipayTradePayResponse import AlipayTradePayResponse
from alipay.aop.api.response.AlipayTradePrecreateResponse import AlipayTradePrecreateResponse
from alipay.aop.api.response.AlipayTradeQueryResponse import AlipayTradeQueryResponse
from alipay.aop.api.response.AlipayTradeRefundResponse import AlipayTradeRefundResponse

from tests.gateways.alipay.official_sdk import (
    AnyMethodRequest,
    make_client,
    patch_port_handling,
    read_form,
    verify_notification,
)

BARCODE = "281234567890123456"  # a well-formed payment code with no magic: pays at once
WAIT_THEN_PAY, WAIT_THEN_CANCEL = "280000000000000010", "280000000000000011"

# Each call as a merchant writes it with this SDK: a model, the request class, the response class.
API = {
    "precreate": (AlipayTradePrecreateModel, AlipayTradePrecreateRequest, AlipayTradePrecreateResponse),
    "create": (AlipayTradeCreateModel, AlipayTradeCreateRequest, AlipayTradeCreateResponse),
    "pay": (AlipayTradePayModel, AlipayTradePayRequest, AlipayTradePayResponse),
    "query": (AlipayTradeQueryModel, AlipayTradeQueryRequest, AlipayTradeQueryResponse),
    "refund": (AlipayTradeRefundModel, AlipayTradeRefundRequest, AlipayTradeRefundResponse),
    "refund_query": (
        AlipayTradeFastpayRefundQueryModel,
        AlipayTradeFastpayRefundQueryRequest,
        AlipayTradeFastpayRefundQueryResponse,
    ),
    "close": (AlipayTradeCloseModel, AlipayTradeCloseRequest, AlipayTradeCloseResponse),
    "cancel": (AlipayTradeCancelModel, AlipayTradeCancelRequest, AlipayTradeCancelResponse),
    "bill": (
        AlipayDataDataserviceBillDownloadurlQueryModel,
        AlipayDataDataserviceBillDownloadurlQueryRequest,
        AlipayDataDataserviceBillDownloadurlQueryResponse,
    ),
}


def build(model_class, request_class, notify_url: str = "", return_url: str = "", **fields):
    model = model_class()
    for name, value in fields.items():
        setattr(model, name, value)
    request = request_class(biz_model=model)
    if notify_url:
        request.notify_url = notify_url
    if return_url:
        request.return_url = return_url
    return request


@pytest.fixture
def client(gateway_url, alipay_demo, monkeypatch):
    patch_port_handling(monkeypatch)
    return make_client(gateway_url, alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key)


@pytest.fixture
def api(client):
    """api("query", out_trade_no=...) runs DefaultAlipayClient.execute and parses the answer."""

    def api(name: str, sdk=None, notify_url: str = "", **fields):
        model_class, request_class, response_class = API[name]
        request = build(model_class, request_class, notify_url=notify_url, **fields)
        response = response_class()
        response.parse_response_content((sdk or client).execute(request))
        return response

    return api


@pytest.fixture
def precreated(api, http, notify_url):
    """A QR trade the buyer has scanned (Alipay creates a precreate trade only then)."""

    def precreated(out_trade_no: str, total_amount: str = "10.00", subject: str = "QR order", sdk=None):
        response = api(
            "precreate",
            sdk=sdk,
            notify_url=notify_url,
            out_trade_no=out_trade_no,
            total_amount=total_amount,
            subject=subject,
        )
        assert response.is_success(), response.body
        assert http.get(response.qr_code).status_code == 200
        return response

    return precreated


@pytest.fixture
def paid(api, pay, receiver, notify_url):
    """A JSAPI trade, paid by the buyer, whose payment notification has arrived."""

    def paid(out_trade_no: str, total_amount: str = "10.00", subject: str = "JSAPI order"):
        created = api(
            "create",
            notify_url=notify_url,
            out_trade_no=out_trade_no,
            total_amount=total_amount,
            subject=subject,
            buyer_id="2088000000000042",
        )
        assert created.is_success(), created.body
        already = len(receiver.at("/notify"))
        pay(out_trade_no)
        receiver.wait_for(already + 1, path="/notify")
        return created

    return paid


# -- creating and querying trades ----------------------------------------------------------------


def test_precreate_returns_a_qr_code_and_the_trade_exists_once_scanned(api, http, notify_url):
    response = api("precreate", notify_url=notify_url, out_trade_no="of-precreate-1", total_amount="0.01", subject="QR")

    assert response.is_success()
    assert response.code == "10000"
    assert response.out_trade_no == "of-precreate-1"
    before_scan = api("query", out_trade_no="of-precreate-1")
    assert not before_scan.is_success()
    assert before_scan.sub_code == "ACQ.TRADE_NOT_EXIST"

    assert http.get(response.qr_code).status_code == 200
    query = api("query", out_trade_no="of-precreate-1")
    assert query.is_success()
    assert query.trade_status == "WAIT_BUYER_PAY"
    assert query.total_amount == "0.01"


def test_create_jsapi_trade_answers_trade_no_and_reports_the_buyer(api, notify_url):
    created = api(
        "create",
        notify_url=notify_url,
        out_trade_no="of-create-1",
        total_amount="25.50",
        subject="JSAPI order",
        buyer_id="2088000000000042",
    )

    assert created.is_success()
    assert created.out_trade_no == "of-create-1"
    query = api("query", trade_no=created.trade_no)
    assert query.out_trade_no == "of-create-1"
    assert query.trade_status == "WAIT_BUYER_PAY"
    assert query.buyer_user_id == "2088000000000042"


def test_paid_trade_sends_a_notification_verify_with_rsa_accepts(api, precreated, pay, receiver, alipay_demo):
    precreated("of-notify-1", total_amount="12.34")

    pay("of-notify-1")
    [received] = receiver.wait_for(1, path="/notify")

    form = received.form
    assert verify_notification(form, alipay_demo.alipay_public_key)
    assert form["trade_status"] == "TRADE_SUCCESS"
    assert form["out_trade_no"] == "of-notify-1"
    assert form["total_amount"] == "12.34"
    query = api("query", out_trade_no="of-notify-1")
    assert query.trade_status == "TRADE_SUCCESS"
    assert query.trade_no == form["trade_no"]
    assert query.send_pay_date == form["gmt_payment"]
    assert [(bill.fund_channel, bill.amount) for bill in query.fund_bill_list] == [("ALIPAYACCOUNT", "12.34")]
    assert (form["buyer_id"], form["buyer_logon_id"]) == (query.buyer_user_id, query.buyer_logon_id)


def test_tampered_notification_fails_verify_with_rsa(precreated, pay, receiver, alipay_demo):
    precreated("of-notify-2", total_amount="1.00")
    pay("of-notify-2")
    [received] = receiver.wait_for(1, path="/notify")

    form = {**received.form, "total_amount": "1000.00"}

    # The SDK's verify_with_rsa raises rather than answering False (python-rsa's behaviour).
    with pytest.raises(rsa.VerificationError):
        verify_notification(form, alipay_demo.alipay_public_key)


def test_subject_with_braces_and_chinese_round_trips(paid, receiver, alipay_demo):
    subject = "测试{a}b}"

    paid("of-subject-1", total_amount="1.00", subject=subject)

    [received] = receiver.wait_for(1, path="/notify")
    assert received.form["subject"] == subject
    assert verify_notification(received.form, alipay_demo.alipay_public_key)


# -- refunds --------------------------------------------------------------------------------------


def test_partial_refunds_accumulate_and_a_repeat_moves_no_money(api, paid, receiver, alipay_demo):
    paid("of-refund-1", total_amount="10.00")

    first = api("refund", out_trade_no="of-refund-1", refund_amount="3.00", out_request_no="of-refund-1-r1")
    second = api("refund", out_trade_no="of-refund-1", refund_amount="2.00", out_request_no="of-refund-1-r2")
    repeat = api("refund", out_trade_no="of-refund-1", refund_amount="3.00", out_request_no="of-refund-1-r1")

    assert all(r.is_success() for r in (first, second, repeat))
    assert [r.fund_change for r in (first, second, repeat)] == ["Y", "Y", "N"]
    assert [r.refund_fee for r in (first, second, repeat)] == ["3.00", "5.00", "5.00"]
    refunds = [n.form for n in receiver.wait_for(3, path="/notify")[1:]]
    assert [f["refund_fee"] for f in refunds] == ["3.00", "5.00"]
    assert all(verify_notification(f, alipay_demo.alipay_public_key) for f in refunds)


def test_fastpay_refund_query_reports_a_known_refund(api, paid):
    paid("of-refund-query-1", total_amount="8.00")
    api("refund", out_trade_no="of-refund-query-1", refund_amount="2.50", out_request_no="of-rq-1")

    result = api("refund_query", out_trade_no="of-refund-query-1", out_request_no="of-rq-1")

    assert result.is_success()
    assert result.out_request_no == "of-rq-1"
    assert result.refund_amount == "2.50"
    assert result.total_amount == "8.00"
    assert result.refund_status == "REFUND_SUCCESS"


def test_fastpay_refund_query_of_an_unknown_request_succeeds_without_refund_status(api, paid):
    paid("of-refund-query-2", total_amount="8.00")

    result = api("refund_query", out_trade_no="of-refund-query-2", out_request_no="of-never-made")

    assert result.is_success()
    assert result.code == "10000"
    assert result.refund_status is None
    assert result.refund_amount is None


# -- close and cancel -----------------------------------------------------------------------------


def test_close_of_a_pending_trade_closes_it(api, precreated):
    precreated("of-close-1")

    result = api("close", out_trade_no="of-close-1")

    assert result.is_success()
    assert result.out_trade_no == "of-close-1"
    assert api("query", out_trade_no="of-close-1").trade_status == "TRADE_CLOSED"


def test_cancel_of_a_pending_trade_closes_it(api, precreated):
    precreated("of-cancel-1")

    result = api("cancel", out_trade_no="of-cancel-1")

    assert result.is_success()
    assert (result.action, result.retry_flag) == ("close", "N")
    assert api("query", out_trade_no="of-cancel-1").trade_status == "TRADE_CLOSED"


def test_cancel_of_a_paid_trade_refunds_it(api, paid, receiver, alipay_demo):
    paid("of-cancel-2", total_amount="6.00")

    result = api("cancel", out_trade_no="of-cancel-2")

    assert result.is_success()
    assert result.action == "refund"
    assert api("query", out_trade_no="of-cancel-2").trade_status == "TRADE_CLOSED"
    refund_notice = receiver.wait_for(2, path="/notify")[1].form
    assert refund_notice["refund_fee"] == "6.00"
    assert verify_notification(refund_notice, alipay_demo.alipay_public_key)


# -- barcode (trade.pay) ----------------------------------------------------------------------------


def barcode(api, out_trade_no: str, auth_code: str, notify_url: str = "") -> AlipayTradePayResponse:
    return api(
        "pay",
        notify_url=notify_url,
        out_trade_no=out_trade_no,
        scene="bar_code",
        auth_code=auth_code,
        subject="Counter sale",
        total_amount="3.20",
    )


def test_barcode_pay_with_an_ordinary_code_pays_at_once(api, notify_url, receiver, alipay_demo):
    result = barcode(api, "of-barcode-1", BARCODE, notify_url)

    assert result.is_success()
    assert result.code == "10000"
    assert result.total_amount == "3.20"
    assert result.gmt_payment
    assert api("query", out_trade_no="of-barcode-1").trade_status == "TRADE_SUCCESS"
    [received] = receiver.wait_for(1, path="/notify")
    assert verify_notification(received.form, alipay_demo.alipay_public_key)


@pytest.mark.parametrize(
    ("auth_code", "settled_status"),
    [(WAIT_THEN_PAY, "TRADE_SUCCESS"), (WAIT_THEN_CANCEL, "TRADE_CLOSED")],
    ids=["buyer-confirms", "buyer-cancels"],
)
def test_barcode_pay_with_a_waiting_code_answers_10003_and_settles_when_time_passes(
    api, sandbox, auth_code, settled_status
):
    sandbox.clock.set_mode("manual")

    result = barcode(api, "of-barcode-wait", auth_code)

    assert result.code == "10003"
    assert api("query", out_trade_no="of-barcode-wait").trade_status == "WAIT_BUYER_PAY"
    sandbox.advance(10)
    assert api("query", out_trade_no="of-barcode-wait").trade_status == settled_status


@pytest.mark.parametrize(
    ("auth_code", "sub_code"),
    [
        ("280000000000000020", "ACQ.BUYER_BALANCE_NOT_ENOUGH"),
        ("280000000000000021", "ACQ.PAYMENT_AUTH_CODE_INVALID"),
        ("280000000000000022", "ACQ.BUYER_ENABLE_STATUS_FORBID"),
    ],
    ids=["balance", "expired-code", "frozen-buyer"],
)
def test_barcode_pay_with_a_declining_code_is_not_success(api, auth_code, sub_code):
    result = barcode(api, "of-barcode-no", auth_code)

    assert not result.is_success()
    assert (result.code, result.sub_code) == ("40004", sub_code)
    assert api("query", out_trade_no="of-barcode-no").trade_status == "TRADE_CLOSED"


# -- bills ----------------------------------------------------------------------------------------


def test_bill_download_refuses_today_and_serves_a_gbk_csv_zip_the_day_after(api, sandbox, paid, http):
    sandbox.clock.set_mode("manual")
    bill_date = sandbox.clock.now().strftime("%Y-%m-%d")
    paid("of-bill-1", total_amount="10.00")
    api("refund", out_trade_no="of-bill-1", refund_amount="4.00", out_request_no="of-bill-1-r1")

    today = api("bill", bill_type="trade", bill_date=bill_date)
    assert not today.is_success()
    assert today.sub_code == "isp.bill_not_exist"

    sandbox.advance(24 * 3600)
    result = api("bill", bill_type="trade", bill_date=bill_date)
    assert result.is_success()
    download = http.get(result.bill_download_url)
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as bundle:
        [detail] = [name for name in bundle.namelist() if name.endswith("_业务明细.csv")]
        text = bundle.read(detail).decode("gbk")
    rows = [row for row in csv.reader(io.StringIO(text)) if row and not row[0].startswith("#")]
    assert sorted((line[1], line[2], line[12]) for line in rows[1:]) == [
        ("of-bill-1", "交易", "10.00"),
        ("of-bill-1", "退款", "-4.00"),
    ]


# -- browser payments (page_execute) ------------------------------------------------------------------

BROWSER = {
    "page": (AlipayTradePagePayModel, AlipayTradePagePayRequest, "FAST_INSTANT_TRADE_PAY"),
    "wap": (AlipayTradeWapPayModel, AlipayTradeWapPayRequest, "QUICK_WAP_WAY"),
}


def browser_request(product: str, out_trade_no: str, notify_url: str):
    model_class, request_class, product_code = BROWSER[product]
    return build(
        model_class,
        request_class,
        notify_url=notify_url,
        return_url="https://shop.example/return",
        out_trade_no=out_trade_no,
        total_amount="9.90",
        subject="网页订单 {web}",
        product_code=product_code,
    )


@pytest.mark.parametrize("product", ["page", "wap"])
def test_page_execute_get_url_redirects_to_the_cashier(client, api, http, notify_url, product):
    url = client.page_execute(browser_request(product, f"of-{product}-get", notify_url), http_method="GET")

    redirect = http.get(url, allow_redirects=False)

    assert redirect.status_code == 302
    cashier = http.get(urljoin(url, redirect.headers["Location"]))
    assert cashier.status_code == 200
    assert "网页订单 {web}" in cashier.text
    query = api("query", out_trade_no=f"of-{product}-get")
    assert query.trade_status == "WAIT_BUYER_PAY"
    assert redirect.headers["Location"].endswith("/cashier/alipay/" + query.trade_no)


@pytest.mark.parametrize("product", ["page", "wap"])
def test_page_execute_post_form_redirects_to_the_cashier(client, api, http, notify_url, product):
    page = client.page_execute(browser_request(product, f"of-{product}-post", notify_url))
    action, fields = read_form(page)

    # Submit it as the browser would: the common params and sign stay in the action URL.
    assert set(fields) == {"biz_content"}
    assert "sign" in dict(parse_qsl(urlsplit(action).query))
    redirect = http.post(action, data=fields, allow_redirects=False)

    assert redirect.status_code == 302
    assert http.get(urljoin(action, redirect.headers["Location"])).status_code == 200
    query = api("query", out_trade_no=f"of-{product}-post")
    assert query.trade_status == "WAIT_BUYER_PAY"
    assert query.total_amount == "9.90"


def test_cashier_payment_returns_to_return_url_with_parameters_that_verify(client, http, receiver, alipay_demo):
    request = browser_request("page", "of-return-1", "")
    request.return_url = f"{receiver.url}/return"
    url = client.page_execute(request, http_method="GET")
    cashier_url = urljoin(url, http.get(url, allow_redirects=False).headers["Location"])

    paid = http.post(cashier_url + "/pay", data={"action": "pay"}, allow_redirects=False)

    assert paid.status_code == 302
    location = urlsplit(paid.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{receiver.url}/return"
    params = dict(parse_qsl(location.query))
    assert params["method"] == "alipay.trade.page.pay.return"
    assert (params["out_trade_no"], params["total_amount"]) == ("of-return-1", "9.90")
    assert verify_notification(params, alipay_demo.alipay_public_key)


# -- other signing modes ------------------------------------------------------------------------------


def test_rsa_sha1_mode_signs_requests_responses_and_notifications_with_sha1(
    gateway_url, alipay_demo, api, precreated, pay, receiver
):
    rsa = make_client(
        gateway_url, alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "RSA"
    )
    precreated("of-rsa-1", total_amount="1.00", sdk=rsa)

    pay("of-rsa-1")

    assert api("query", sdk=rsa, out_trade_no="of-rsa-1").trade_status == "TRADE_SUCCESS"
    [received] = receiver.wait_for(1, path="/notify")
    assert received.form["sign_type"] == "RSA"
    assert verify_notification(received.form, alipay_demo.alipay_public_key)


# -- errors -----------------------------------------------------------------------------------------


def test_bad_signature_answers_40002_with_the_string_the_sandbox_checked(gateway_url, alipay_demo, api, monkeypatch):
    wrong_key = make_client(
        gateway_url, alipay_demo.app_id, alipay_demo.alipay_private_key, alipay_demo.alipay_public_key
    )
    signed: list[str] = []
    sign = default_client_module.sign_with_rsa2

    def recording(private_key, sign_content, charset):
        signed.append(sign_content)
        return sign(private_key, sign_content, charset)

    # Wrap the signer where DefaultAlipayClient looks it up, to learn the exact string it signed.
    monkeypatch.setattr(default_client_module, "sign_with_rsa2", recording)

    result = api("precreate", sdk=wrong_key, out_trade_no="of-badsign-1", total_amount="1.00", subject="测试{a}b}")

    assert not result.is_success()
    assert (result.code, result.sub_code) == ("40002", "isv.invalid-signature")
    assert signed[0] in result.sub_msg


def test_unknown_app_id_gets_an_unsigned_answer_the_sdk_refuses(gateway_url, alipay_demo, api):
    stranger = make_client(gateway_url, "2021009999999999", alipay_demo.app_private_key, alipay_demo.alipay_public_key)

    with pytest.raises(ResponseException, match=r"isv\.invalid-app-id"):
        api("query", sdk=stranger, out_trade_no="of-whatever")


def test_trade_query_unknown_order_returns_acq_trade_not_exist(api):
    result = api("query", out_trade_no="of-no-such-order")

    assert not result.is_success()
    assert (result.code, result.sub_code) == ("40004", "ACQ.TRADE_NOT_EXIST")


def test_refund_above_what_was_paid_returns_refund_fee_error(api, paid):
    paid("of-overrefund-1", total_amount="5.00")

    result = api("refund", out_trade_no="of-overrefund-1", refund_amount="5.01", out_request_no="of-over-r1")

    assert not result.is_success()
    assert (result.code, result.sub_code) == ("40004", "ACQ.REASON_TRADE_REFUND_FEE_ERR")


def test_close_of_a_paid_trade_returns_trade_status_error(api, paid):
    paid("of-close-paid-1")

    result = api("close", out_trade_no="of-close-paid-1")

    assert not result.is_success()
    assert (result.code, result.sub_code) == ("40004", "ACQ.TRADE_STATUS_ERROR")


def test_unknown_method_gets_a_signed_error_response(client):
    response = AlipayResponse()

    response.parse_response_content(client.execute(AnyMethodRequest("alipay.trade.no.such.method")))

    assert not response.is_success()
    assert (response.code, response.sub_code) == ("40002", "isv.invalid-method")
