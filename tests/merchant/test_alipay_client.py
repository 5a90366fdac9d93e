"""The reference merchant client against a live sandbox: the life cycle, and refusing what it must refuse."""

import io
import zipfile
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.merchant.alipay import AlipayApiError, AlipayClient, AlipaySignatureError

APP = "2021000000000001"


def pay(live, out_trade_no: str) -> None:
    answer = requests.post(f"{live.url}/_sandbox/orders/alipay/{APP}/{out_trade_no}/pay", json={}, timeout=5)
    assert answer.status_code == 200, answer.text


def test_life_cycle_with_refunds_and_a_verified_notification(live, receiver, alipay_client):
    alipay_client.create("E-1", 1000, "Tea 茶 {x}", "2088000000000009", notify_url=receiver.url + "/notify")
    pay(live, "E-1")
    notification = alipay_client.verify_notification(receiver.wait_for(1)[0].form)
    assert notification["trade_status"] == "TRADE_SUCCESS"
    assert notification["total_amount"] == "10.00"
    assert notification["subject"] == "Tea 茶 {x}"
    first = alipay_client.refund("E-1", 300, "E-1-r1")
    repeat = alipay_client.refund("E-1", 300, "E-1-r1")
    second = alipay_client.refund("E-1", 700, "E-1-r2")
    assert (first["fund_change"], repeat["fund_change"], second["fund_change"]) == ("Y", "N", "Y")
    assert second["refund_fee"] == "10.00"
    assert alipay_client.query("E-1")["trade_status"] == "TRADE_CLOSED"
    events = [alipay_client.verify_notification(r.form) for r in receiver.wait_for(3)]
    assert [(e["trade_status"], e.get("refund_fee")) for e in events] == [
        ("TRADE_SUCCESS", None),
        ("TRADE_SUCCESS", "3.00"),
        ("TRADE_CLOSED", "10.00"),
    ]
    assert alipay_client.refund_query("E-1", "E-1-r2")["refund_status"] == "REFUND_SUCCESS"


def test_page_pay_returns_the_buyer_with_parameters_that_verify(live, receiver, alipay_client):
    url = alipay_client.page_pay_url("E-2", 1, "x", return_url=receiver.url + "/return?shop=1")
    cashier = requests.get(url, allow_redirects=False, timeout=5)
    assert cashier.status_code == 302
    back = requests.post(
        live.url + cashier.headers["Location"] + "/pay", data={"action": "pay"}, allow_redirects=False, timeout=5
    )
    location = urlsplit(back.headers["Location"])
    assert location.path == "/return"
    query = dict(parse_qsl(location.query))
    assert query.pop("shop") == "1"  # the merchant's own query survives
    assert alipay_client.verify_return(query)["method"] == "alipay.trade.page.pay.return"


def test_a_tampered_notification_is_refused(live, receiver, alipay_client):
    alipay_client.create("E-3", 100, "x", "2088000000000009", notify_url=receiver.url + "/notify")
    pay(live, "E-3")
    form = receiver.wait_for(1)[0].form
    form["total_amount"] = "0.01"
    with pytest.raises(AlipaySignatureError):
        alipay_client.verify_notification(form)


def test_a_notification_signed_for_another_app_is_refused(alipay_client, alipay_demo):
    fields = {"app_id": "2021000000009999", "trade_status": "TRADE_SUCCESS", "out_trade_no": "E-4"}
    key = crypto.load_private_key(alipay_demo.alipay_private_key)
    fields["sign"] = crypto.sign(key, sorted_query(fields).encode())
    fields["sign_type"] = "RSA2"
    with pytest.raises(AlipaySignatureError, match="not 2021000000000001"):
        alipay_client.verify_notification(fields)


def test_an_answer_signed_by_someone_else_is_refused(live, alipay_demo):
    impostor = AlipayClient(APP, alipay_demo.app_private_key, alipay_demo.app_public_key, f"{live.url}/gateway.do")
    with pytest.raises(AlipaySignatureError):
        impostor.query("E-5")


def test_business_failures_raise_with_the_sub_code(alipay_client):
    with pytest.raises(AlipayApiError) as failure:
        alipay_client.query("E-6-missing")
    assert failure.value.sub_code == "ACQ.TRADE_NOT_EXIST"


def test_cert_mode_parameters_are_checked(live, alipay_demo):
    from sandbox.gateways.alipay.keys import cert_sn

    good = AlipayClient(
        APP,
        alipay_demo.app_private_key,
        alipay_demo.alipay_public_key,
        f"{live.url}/gateway.do",
        app_cert_sn=cert_sn(alipay_demo.app_cert),
        alipay_root_cert_sn=cert_sn(alipay_demo.alipay_root_cert),
    )
    good.create("E-7", 100, "x", "2088000000000009")
    wrong = AlipayClient(
        APP,
        alipay_demo.app_private_key,
        alipay_demo.alipay_public_key,
        f"{live.url}/gateway.do",
        app_cert_sn="0" * 32,
        alipay_root_cert_sn=cert_sn(alipay_demo.alipay_root_cert),
    )
    with pytest.raises(AlipayApiError) as failure:
        wrong.query("E-7")
    assert failure.value.sub_code == "isv.app-cert-not-exist"


def test_the_bill_of_a_past_day_lists_its_payments_and_refunds(live, sandbox, alipay_client):
    sandbox.clock.set_mode("manual")
    alipay_client.create("E-8", 500, "bill me", "2088000000000009")
    pay(live, "E-8")
    alipay_client.refund("E-8", 200, "E-8-r1", reason="broken")
    today = sandbox.clock.now().strftime("%Y-%m-%d")
    with pytest.raises(AlipayApiError) as failure:
        alipay_client.bill_download_url(today)
    assert failure.value.sub_code == "isp.bill_not_exist"
    sandbox.advance(86400)
    archive = zipfile.ZipFile(io.BytesIO(alipay_client.download_bill(alipay_client.bill_download_url(today))))
    detail = next(name for name in archive.namelist() if "汇总" not in name)
    text = archive.read(detail).decode("gbk")
    assert "E-8" in text and ",交易," in text and ",退款," in text and "-2.00" in text and "E-8-r1" in text
    month = sandbox.clock.now().strftime("%Y-%m")
    if month != today[:7]:  # the day advanced into a new month: last month's bill is ready too
        alipay_client.bill_download_url(today[:7])
