"""python-alipay-sdk 3.4.0 (fzlee), unmodified but for its gateway URL, against the live sandbox.

This SDK sends every call as a GET with all parameters in the query string, \\u-escapes non-ASCII
text in biz_content, finds the signed response text by counting braces naively, and raises on
unsigned answers and on any `error_response` (docs/protocols/alipay.md#endpoint-and-transport,
docs/protocols/alipay.md#sdk-quirks).
"""

from __future__ import annotations

import csv
import io
import zipfile
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from alipay import AliPay, DCAliPay
from alipay.exceptions import AliPayException

BARCODE = "281234567890123456"  # a well-formed payment code with no magic: pays at once
WAIT_THEN_PAY, WAIT_THEN_CANCEL = "280000000000000010", "280000000000000011"
BILL_METHOD = "alipay.data.dataservice.bill.downloadurl.query"


@pytest.fixture
def precreated(alipay, http, notify_url):
    """A QR trade the buyer has scanned (Alipay creates a precreate trade only then)."""

    def precreated(out_trade_no: str, total_amount="10.00", subject: str = "QR order", client=None) -> dict:
        result = (client or alipay).api_alipay_trade_precreate(
            subject=subject, out_trade_no=out_trade_no, total_amount=total_amount, notify_url=notify_url
        )
        assert result["code"] == "10000", result
        scanned = http.get(result["qr_code"])
        assert scanned.status_code == 200, scanned.text
        return result

    return precreated


@pytest.fixture
def paid(alipay, pay, receiver, notify_url):
    """A JSAPI trade, paid by the buyer, whose payment notification has arrived."""

    def paid(out_trade_no: str, total_amount="10.00", subject: str = "JSAPI order") -> dict:
        created = alipay.api_alipay_trade_create(
            subject=subject,
            out_trade_no=out_trade_no,
            total_amount=total_amount,
            notify_url=notify_url,
            buyer_id="2088000000000042",
        )
        assert created["code"] == "10000", created
        already = len(receiver.at("/notify"))
        pay(out_trade_no)
        receiver.wait_for(already + 1, path="/notify")
        return created

    return paid


def verified(client: AliPay, form: dict[str, str]) -> bool:
    """What the SDK's README tells a merchant to do with a notification."""
    data = dict(form)
    signature = data.pop("sign")
    return client.verify(data, signature)


def capture_signing_strings(client: AliPay) -> list[str]:
    """Record what the SDK signs, by wrapping the instance's signer (the SDK's own code still runs)."""
    seen: list[str] = []
    sign = client._sign

    def recording(unsigned_string: str) -> str:
        seen.append(unsigned_string)
        return sign(unsigned_string)

    client._sign = recording
    return seen


# -- creating and querying trades ----------------------------------------------------------------


def test_precreate_returns_a_qr_code_and_the_trade_exists_once_scanned(alipay, http, notify_url):
    result = alipay.api_alipay_trade_precreate(
        subject="QR order", out_trade_no="fz-precreate-1", total_amount=0.01, notify_url=notify_url
    )

    assert result["code"] == "10000"
    assert result["out_trade_no"] == "fz-precreate-1"
    before_scan = alipay.api_alipay_trade_query(out_trade_no="fz-precreate-1")
    assert before_scan["sub_code"] == "ACQ.TRADE_NOT_EXIST"

    assert http.get(result["qr_code"]).status_code == 200
    query = alipay.api_alipay_trade_query(out_trade_no="fz-precreate-1")
    assert query["code"] == "10000"
    assert query["trade_status"] == "WAIT_BUYER_PAY"
    assert query["total_amount"] == "0.01"


def test_create_jsapi_trade_answers_trade_no_and_reports_the_buyer(alipay, notify_url):
    created = alipay.api_alipay_trade_create(
        subject="JSAPI order",
        out_trade_no="fz-create-1",
        total_amount="25.50",
        notify_url=notify_url,
        buyer_id="2088000000000042",
    )

    assert created["code"] == "10000"
    assert created["out_trade_no"] == "fz-create-1"
    by_trade_no = alipay.api_alipay_trade_query(trade_no=created["trade_no"])
    assert by_trade_no["out_trade_no"] == "fz-create-1"
    assert by_trade_no["trade_status"] == "WAIT_BUYER_PAY"
    assert by_trade_no["total_amount"] == "25.50"
    assert by_trade_no["buyer_user_id"] == "2088000000000042"


def test_paid_trade_sends_a_notification_the_sdk_verifies(alipay, precreated, pay, receiver, alipay_demo):
    trade = precreated("fz-notify-1", total_amount="12.34")

    pay("fz-notify-1")
    [received] = receiver.wait_for(1, path="/notify")

    form = received.form
    assert verified(alipay, form)
    assert form["trade_status"] == "TRADE_SUCCESS"
    assert form["out_trade_no"] == trade["out_trade_no"]
    assert form["total_amount"] == "12.34"
    assert form["app_id"] == alipay_demo.app_id
    assert form["sign_type"] == "RSA2"
    query = alipay.api_alipay_trade_query(out_trade_no="fz-notify-1")
    assert query["trade_status"] == "TRADE_SUCCESS"
    assert query["trade_no"] == form["trade_no"]
    assert query["send_pay_date"] == form["gmt_payment"]
    assert query["fund_bill_list"] == [{"fund_channel": "ALIPAYACCOUNT", "amount": "12.34"}]
    assert (form["buyer_id"], form["buyer_logon_id"]) == (query["buyer_user_id"], query["buyer_logon_id"])


def test_tampered_notification_does_not_verify(alipay, precreated, pay, receiver):
    precreated("fz-notify-2", total_amount="1.00")
    pay("fz-notify-2")
    [received] = receiver.wait_for(1, path="/notify")

    form = {**received.form, "total_amount": "1000.00"}

    assert not verified(alipay, form)


def test_subject_with_braces_and_chinese_round_trips(alipay, paid, receiver):
    subject = "测试{a}b}"

    paid("fz-subject-1", total_amount="1.00", subject=subject)

    [received] = receiver.wait_for(1, path="/notify")
    assert received.form["subject"] == subject
    assert verified(alipay, received.form)


# -- refunds --------------------------------------------------------------------------------------


def test_partial_refunds_accumulate_and_a_repeat_moves_no_money(alipay, paid, receiver):
    paid("fz-refund-1", total_amount="10.00")

    first = alipay.api_alipay_trade_refund("3.00", out_trade_no="fz-refund-1", out_request_no="fz-refund-1-r1")
    second = alipay.api_alipay_trade_refund("2.00", out_trade_no="fz-refund-1", out_request_no="fz-refund-1-r2")
    repeat = alipay.api_alipay_trade_refund("3.00", out_trade_no="fz-refund-1", out_request_no="fz-refund-1-r1")

    assert [r["code"] for r in (first, second, repeat)] == ["10000"] * 3
    assert [r["fund_change"] for r in (first, second, repeat)] == ["Y", "Y", "N"]
    assert [r["refund_fee"] for r in (first, second, repeat)] == ["3.00", "5.00", "5.00"]
    notifications = receiver.wait_for(3, path="/notify")
    refunds = [n.form for n in notifications[1:]]
    assert [f["out_biz_no"] for f in refunds] == ["fz-refund-1-r1", "fz-refund-1-r2"]
    assert [f["refund_fee"] for f in refunds] == ["3.00", "5.00"]
    assert all(f["trade_status"] == "TRADE_SUCCESS" and verified(alipay, f) for f in refunds)
    assert alipay.api_alipay_trade_query(out_trade_no="fz-refund-1")["trade_status"] == "TRADE_SUCCESS"


def test_full_refund_closes_the_trade(alipay, paid, receiver):
    paid("fz-refund-2", total_amount="4.00")

    result = alipay.api_alipay_trade_refund("4.00", out_trade_no="fz-refund-2", out_request_no="fz-refund-2-r1")

    assert result["refund_fee"] == "4.00"
    assert alipay.api_alipay_trade_query(out_trade_no="fz-refund-2")["trade_status"] == "TRADE_CLOSED"
    refund_notice = receiver.wait_for(2, path="/notify")[1].form
    assert refund_notice["trade_status"] == "TRADE_CLOSED"
    assert verified(alipay, refund_notice)


def test_fastpay_refund_query_reports_a_known_refund(alipay, paid):
    paid("fz-refund-query-1", total_amount="8.00")
    alipay.api_alipay_trade_refund(
        "2.50", out_trade_no="fz-refund-query-1", out_request_no="fz-rq-1", refund_reason="size"
    )

    result = alipay.api_alipay_trade_fastpay_refund_query("fz-rq-1", out_trade_no="fz-refund-query-1")

    assert result["code"] == "10000"
    assert result["out_request_no"] == "fz-rq-1"
    assert result["refund_amount"] == "2.50"
    assert result["total_amount"] == "8.00"
    assert result["refund_status"] == "REFUND_SUCCESS"


def test_fastpay_refund_query_of_an_unknown_request_succeeds_without_refund_status(alipay, paid):
    paid("fz-refund-query-2", total_amount="8.00")

    result = alipay.api_alipay_trade_fastpay_refund_query("fz-never-made", out_trade_no="fz-refund-query-2")

    assert result["code"] == "10000"
    assert "refund_status" not in result
    assert "refund_amount" not in result


# -- close and cancel -----------------------------------------------------------------------------


def test_close_of_a_pending_trade_closes_it(alipay, precreated):
    trade = precreated("fz-close-1")

    result = alipay.api_alipay_trade_close(out_trade_no="fz-close-1")

    assert result["code"] == "10000"
    assert result["out_trade_no"] == trade["out_trade_no"]
    assert alipay.api_alipay_trade_query(out_trade_no="fz-close-1")["trade_status"] == "TRADE_CLOSED"


def test_cancel_of_a_pending_trade_closes_it(alipay, precreated):
    precreated("fz-cancel-1")

    result = alipay.api_alipay_trade_cancel(out_trade_no="fz-cancel-1")

    assert result["code"] == "10000"
    assert result["action"] == "close"
    assert result["retry_flag"] == "N"
    assert alipay.api_alipay_trade_query(out_trade_no="fz-cancel-1")["trade_status"] == "TRADE_CLOSED"


def test_cancel_of_a_paid_trade_refunds_it(alipay, paid, receiver):
    paid("fz-cancel-2", total_amount="6.00")

    result = alipay.api_alipay_trade_cancel(out_trade_no="fz-cancel-2")

    assert result["code"] == "10000"
    assert result["action"] == "refund"
    assert alipay.api_alipay_trade_query(out_trade_no="fz-cancel-2")["trade_status"] == "TRADE_CLOSED"
    refund_notice = receiver.wait_for(2, path="/notify")[1].form
    assert refund_notice["refund_fee"] == "6.00"
    assert verified(alipay, refund_notice)


# -- barcode (trade.pay) ----------------------------------------------------------------------------


def test_barcode_pay_with_an_ordinary_code_pays_at_once(alipay, notify_url, receiver):
    result = alipay.api_alipay_trade_pay(
        "fz-barcode-1", "bar_code", BARCODE, "Counter sale", total_amount="3.20", notify_url=notify_url
    )

    assert result["code"] == "10000"
    assert result["total_amount"] == "3.20"
    assert result["gmt_payment"]
    assert result["fund_bill_list"] == [{"fund_channel": "ALIPAYACCOUNT", "amount": "3.20"}]
    assert alipay.api_alipay_trade_query(out_trade_no="fz-barcode-1")["trade_status"] == "TRADE_SUCCESS"
    [received] = receiver.wait_for(1, path="/notify")
    assert verified(alipay, received.form)


@pytest.mark.parametrize(
    ("auth_code", "settled_status"),
    [(WAIT_THEN_PAY, "TRADE_SUCCESS"), (WAIT_THEN_CANCEL, "TRADE_CLOSED")],
    ids=["buyer-confirms", "buyer-cancels"],
)
def test_barcode_pay_with_a_waiting_code_answers_10003_and_settles_when_time_passes(
    alipay, sandbox, notify_url, auth_code, settled_status
):
    sandbox.clock.set_mode("manual")

    result = alipay.api_alipay_trade_pay(
        "fz-barcode-wait", "bar_code", auth_code, "Counter sale", total_amount="5.00", notify_url=notify_url
    )

    assert result["code"] == "10003"
    assert alipay.api_alipay_trade_query(out_trade_no="fz-barcode-wait")["trade_status"] == "WAIT_BUYER_PAY"
    sandbox.advance(10)
    assert alipay.api_alipay_trade_query(out_trade_no="fz-barcode-wait")["trade_status"] == settled_status


@pytest.mark.parametrize(
    ("auth_code", "sub_code"),
    [
        ("280000000000000020", "ACQ.BUYER_BALANCE_NOT_ENOUGH"),
        ("280000000000000021", "ACQ.PAYMENT_AUTH_CODE_INVALID"),
        ("280000000000000022", "ACQ.BUYER_ENABLE_STATUS_FORBID"),
        ("123456", "ACQ.PAYMENT_AUTH_CODE_INVALID"),
    ],
    ids=["balance", "expired-code", "frozen-buyer", "not-a-code"],
)
def test_barcode_pay_with_a_declining_code_answers_business_failed(alipay, auth_code, sub_code):
    result = alipay.api_alipay_trade_pay("fz-barcode-no", "bar_code", auth_code, "Counter sale", total_amount="5.00")

    assert result["code"] == "40004"
    assert result["sub_code"] == sub_code
    assert result["sub_msg"]


# -- bills ----------------------------------------------------------------------------------------


def test_bill_download_refuses_today_and_serves_a_gbk_csv_zip_the_day_after(alipay, sandbox, paid, http):
    sandbox.clock.set_mode("manual")
    bill_date = sandbox.clock.now().strftime("%Y-%m-%d")
    paid("fz-bill-1", total_amount="10.00")
    paid("fz-bill-2", total_amount="2.00")
    alipay.api_alipay_trade_refund("4.00", out_trade_no="fz-bill-1", out_request_no="fz-bill-1-r1")

    today = alipay.server_api(BILL_METHOD, {"bill_type": "trade", "bill_date": bill_date})
    assert today["code"] == "40004"
    assert today["sub_code"] == "isp.bill_not_exist"

    sandbox.advance(24 * 3600)
    result = alipay.server_api(BILL_METHOD, {"bill_type": "trade", "bill_date": bill_date})
    assert result["code"] == "10000"
    download = http.get(result["bill_download_url"])
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as bundle:
        [detail] = [name for name in bundle.namelist() if name.endswith("_业务明细.csv")]
        text = bundle.read(detail).decode("gbk")
    rows = [row for row in csv.reader(io.StringIO(text)) if row and not row[0].startswith("#")]
    header, lines = rows[0], rows[1:]
    assert header[:3] == ["支付宝交易号", "商户订单号", "业务类型"]
    assert sorted((line[1], line[2], line[12]) for line in lines) == [
        ("fz-bill-1", "交易", "10.00"),
        ("fz-bill-1", "退款", "-4.00"),
        ("fz-bill-2", "交易", "2.00"),
    ]


# -- browser payments (page.pay, wap.pay) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "product"),
    [("api_alipay_trade_page_pay", "page"), ("api_alipay_trade_wap_pay", "wap")],
    ids=["page.pay", "wap.pay"],
)
def test_browser_pay_url_redirects_to_the_cashier(alipay, gateway_url, http, notify_url, build, product):
    order_string = getattr(alipay, build)(
        subject="Web order",
        out_trade_no=f"fz-{product}-1",
        total_amount="9.90",
        return_url="https://shop.example/return",
        notify_url=notify_url,
    )

    redirect = http.get(gateway_url + "?" + order_string, allow_redirects=False)

    assert redirect.status_code == 302
    cashier = http.get(urljoin(gateway_url, redirect.headers["Location"]))
    assert cashier.status_code == 200
    assert "Web order" in cashier.text
    query = alipay.api_alipay_trade_query(out_trade_no=f"fz-{product}-1")
    assert query["trade_status"] == "WAIT_BUYER_PAY"
    assert redirect.headers["Location"].endswith("/cashier/alipay/" + query["trade_no"])


def test_cashier_payment_returns_to_return_url_with_parameters_the_sdk_verifies(alipay, gateway_url, http, receiver):
    order_string = alipay.api_alipay_trade_page_pay(
        subject="Web order", out_trade_no="fz-return-1", total_amount="9.90", return_url=f"{receiver.url}/return"
    )
    cashier_url = urljoin(
        gateway_url, http.get(gateway_url + "?" + order_string, allow_redirects=False).headers["Location"]
    )

    paid = http.post(cashier_url + "/pay", data={"action": "pay"}, allow_redirects=False)

    assert paid.status_code == 302
    location = urlsplit(paid.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{receiver.url}/return"
    params = dict(parse_qsl(location.query))
    assert params["method"] == "alipay.trade.page.pay.return"
    assert (params["out_trade_no"], params["total_amount"]) == ("fz-return-1", "9.90")
    assert verified(alipay, params)


# -- other signing modes ------------------------------------------------------------------------------


def test_rsa_sha1_mode_signs_requests_responses_and_notifications_with_sha1(
    gateway_url, alipay_demo, precreated, pay, receiver
):
    rsa = AliPay(
        appid=alipay_demo.app_id,
        app_private_key_string=alipay_demo.app_private_key,
        alipay_public_key_string=alipay_demo.alipay_public_key,
        sign_type="RSA",
    )
    rsa._gateway = gateway_url
    precreated("fz-rsa-1", total_amount="1.00", client=rsa)

    pay("fz-rsa-1")

    assert rsa.api_alipay_trade_query(out_trade_no="fz-rsa-1")["trade_status"] == "TRADE_SUCCESS"
    [received] = receiver.wait_for(1, path="/notify")
    assert received.form["sign_type"] == "RSA"
    assert verified(rsa, received.form)


# DCAliPay reads certificates with pyOpenSSL's deprecated X509 API: its warning is the SDK's, not ours.
@pytest.mark.filterwarnings("ignore:X509.get_issuer is deprecated:DeprecationWarning")
def test_cert_mode_with_dcalipay_runs_a_whole_payment(gateway_url, alipay_demo, precreated, pay, receiver):
    dc = DCAliPay(
        appid=alipay_demo.app_id,
        app_private_key_string=alipay_demo.app_private_key,
        app_public_key_cert_string=alipay_demo.app_cert,
        alipay_public_key_cert_string=alipay_demo.alipay_public_key_cert,
        alipay_root_cert_string=alipay_demo.alipay_root_cert,
    )
    dc._gateway = gateway_url
    precreated("fz-cert-1", total_amount="2.00", client=dc)

    pay("fz-cert-1")

    assert dc.api_alipay_trade_query(out_trade_no="fz-cert-1")["trade_status"] == "TRADE_SUCCESS"
    refund = dc.api_alipay_trade_refund("2.00", out_trade_no="fz-cert-1", out_request_no="fz-cert-1-r1")
    assert refund["fund_change"] == "Y"
    notifications = receiver.wait_for(2, path="/notify")
    assert all(verified(dc, n.form) for n in notifications)


# -- errors -----------------------------------------------------------------------------------------


def test_bad_signature_answers_40002_with_the_string_the_sandbox_checked(gateway_url, alipay_demo):
    wrong_key = AliPay(
        appid=alipay_demo.app_id,
        app_private_key_string=alipay_demo.alipay_private_key,  # not the app's key
        alipay_public_key_string=alipay_demo.alipay_public_key,
    )
    wrong_key._gateway = gateway_url
    signed = capture_signing_strings(wrong_key)

    # The subject's braces come back inside sub_msg: the SDK's naive brace counting must survive them.
    result = wrong_key.api_alipay_trade_precreate(subject="测试{a}b}", out_trade_no="fz-badsign-1", total_amount="1")

    assert result["code"] == "40002"
    assert result["sub_code"] == "isv.invalid-signature"
    assert signed[0] in result["sub_msg"]


def test_unknown_app_id_gets_an_unsigned_answer_the_sdk_raises_on(gateway_url, alipay_demo):
    stranger = AliPay(
        appid="2021009999999999",
        app_private_key_string=alipay_demo.app_private_key,
        alipay_public_key_string=alipay_demo.alipay_public_key,
    )
    stranger._gateway = gateway_url

    with pytest.raises(AliPayException, match=r"isv\.invalid-app-id"):
        stranger.api_alipay_trade_query(out_trade_no="fz-whatever")


def test_trade_query_unknown_order_returns_acq_trade_not_exist(alipay):
    result = alipay.api_alipay_trade_query(out_trade_no="fz-no-such-order")

    assert result["code"] == "40004"
    assert result["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_refund_above_what_was_paid_returns_refund_fee_error(alipay, paid):
    paid("fz-overrefund-1", total_amount="5.00")
    alipay.api_alipay_trade_refund("3.00", out_trade_no="fz-overrefund-1", out_request_no="fz-over-r1")

    result = alipay.api_alipay_trade_refund("2.01", out_trade_no="fz-overrefund-1", out_request_no="fz-over-r2")

    assert result["code"] == "40004"
    assert result["sub_code"] == "ACQ.REASON_TRADE_REFUND_FEE_ERR"


def test_close_of_a_paid_trade_returns_trade_status_error(alipay, paid):
    paid("fz-close-paid-1")

    result = alipay.api_alipay_trade_close(out_trade_no="fz-close-paid-1")

    assert result["code"] == "40004"
    assert result["sub_code"] == "ACQ.TRADE_STATUS_ERROR"


def test_unknown_method_gets_an_error_response_the_sdk_raises_on(alipay):
    with pytest.raises(AliPayException, match=r"isv\.invalid-method"):
        alipay.server_api("alipay.trade.no.such.method", {"out_trade_no": "fz-x"})
