"""Bad input to the v2 endpoints always gets WeChat's own XML answer, never a 500 or an HTML page.

Requests are written and signed with wechatpy's own helpers (dict_to_xml, calculate_signature) as the demo
merchant, then exactly one thing is changed. Failures before the request is trusted (body, XML, merchant,
signature) are return_code=FAIL; refusals of a signed request are signed result_code=FAIL answers
(docs/protocols/wechatpay-v2.md#answers-and-errors).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xmltodict
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from sandbox.gateways.wechatpay.v2 import handlers, views

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
MCH_ID, APPID, API_KEY = MERCHANT["merchant_id"], MERCHANT["appid"], MERCHANT["api_key"]
UNIFIED = {
    "appid": APPID,
    "mch_id": MCH_ID,
    "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    "body": "测试商品",
    "out_trade_no": "V2-BAD-0001",
    "total_fee": "100",
    "spbill_create_ip": "127.0.0.1",
    "notify_url": "http://127.0.0.1:9/notify",
    "trade_type": "NATIVE",
    "product_id": "SKU-1",
}
REMOVE = object()


def xml_of(fields: dict, key: str = API_KEY) -> bytes:
    return dict_to_xml(fields, calculate_signature(fields, key)).encode("utf-8")


def changed(base: dict = UNIFIED, **changes) -> dict:
    fields = {**base, **changes}
    return {k: v for k, v in fields.items() if v is not REMOVE}


def answer_of(reply, status: int = 200) -> dict:
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert reply.content_type.startswith("text/xml")
    return dict(xmltodict.parse(reply.get_data(as_text=True))["xml"])


def refused(reply, err_code: str, status: int = 200) -> dict:
    """A return-level failure: FAIL, unsigned, with a return_msg that explains."""
    data = answer_of(reply, status)
    assert data["return_code"] == "FAIL", data
    assert data["err_code"] == err_code, data
    assert "sign" not in data and len(data["return_msg"]) > 10
    return data


def failed(reply, err_code: str) -> dict:
    """A result-level failure: SUCCESS at the transport, signed, result_code FAIL with err_code."""
    data = answer_of(reply)
    assert (data["return_code"], data["result_code"], data["err_code"]) == ("SUCCESS", "FAIL", err_code), data
    assert data.pop("sign") == calculate_signature(data, API_KEY)
    assert data["err_code_des"]
    return data


# -- the body -----------------------------------------------------------------------------------------------


def test_xxe_is_refused_without_reading_the_file(client):
    body = (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<xml><mch_id>1900000109</mch_id><body>&xxe;</body></xml>"
    )
    data = refused(client.post("/pay/unifiedorder", data=body), "XML_FORMAT_ERROR")
    assert "root:" not in data["return_msg"] and "DOCTYPE" in data["return_msg"]


def test_billion_laughs_is_refused(client):
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    body = f'<?xml version="1.0"?><!DOCTYPE xml [{entities}]><xml><body>&l9;</body></xml>'
    refused(client.post("/pay/unifiedorder", data=body), "XML_FORMAT_ERROR")


def test_an_internal_entity_without_a_doctype_is_not_expanded(client):
    refused(client.post("/pay/orderquery", data=b"<xml><a>&undefined;</a></xml>"), "XML_FORMAT_ERROR")


def test_non_utf8_bytes_are_not_utf8(client):
    body = xml_of(UNIFIED).replace("测试商品".encode(), "测试商品".encode("gbk"))
    refused(client.post("/pay/unifiedorder", data=body), "NOT_UTF8")


@pytest.mark.parametrize("body", [b"", b"   "])
def test_an_empty_body_is_post_data_empty(client, body):
    refused(client.post("/pay/unifiedorder", data=body), "POST_DATA_EMPTY")


@pytest.mark.parametrize("path", ["/pay/unifiedorder", "/secapi/pay/refund", "/sandboxnew/pay/getsignkey"])
def test_get_is_require_post_method(client, path):
    data = refused(client.get(path), "REQUIRE_POST_METHOD")
    assert "not GET" in data["return_msg"]


def test_a_huge_body_is_refused_unread(client, sandbox):
    body = b"<xml><body>" + b"x" * (sandbox.config.max_body + 1) + b"</body></xml>"
    data = refused(client.post("/pay/unifiedorder", data=body), "INVALID_REQUEST")
    assert f"at most {sandbox.config.max_body}" in data["return_msg"]


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b"<xml><mch_id>1900000109</mch_id>",
        b"<xml><mch_id>1</mch_id></xm>",
        b'{"mch_id": "1900000109"}',
        b"<xml><a><b>nested</b></a></xml>",
        b"<xml>" + b"<a>" * 50_000 + b"</a>" * 50_000 + b"</xml>",
        b"<other><mch_id>1900000109</mch_id></other>",
    ],
    ids=["text", "unclosed", "mismatched", "json", "nested", "deep", "root"],
)
def test_malformed_xml_is_xml_format_error(client, body):
    refused(client.post("/pay/unifiedorder", data=body, content_type="application/json"), "XML_FORMAT_ERROR")


def test_the_content_type_does_not_matter(client):
    for content_type in (None, "text/xml", "application/x-www-form-urlencoded", "application/octet-stream"):
        kwargs = {"content_type": content_type} if content_type else {}
        data = answer_of(client.post("/pay/orderquery", data=xml_of(changed(out_trade_no="V2-BAD-0404")), **kwargs))
        assert data["err_code"] == "ORDERNOTEXIST"


# -- who is calling -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mch_id", "nonce_str", "appid"])
def test_missing_envelope_fields_lack_params(client, name):
    data = refused(client.post("/pay/unifiedorder", data=xml_of(changed(**{name: REMOVE}))), "LACK_PARAMS")
    assert f"{name} is required" in data["return_msg"]


def test_a_missing_sign_lacks_params(client):
    body = dict_to_xml(UNIFIED).encode()
    assert "sign is required" in refused(client.post("/pay/unifiedorder", data=body), "LACK_PARAMS")["return_msg"]


def test_an_unknown_mch_id_is_mchid_not_exist(client):
    data = refused(client.post("/pay/unifiedorder", data=xml_of(changed(mch_id="1900009999"))), "MCHID_NOT_EXIST")
    assert "1900009999" in data["return_msg"]


def test_a_wrong_signature_shows_the_string_but_not_the_key(client):
    data = refused(client.post("/pay/unifiedorder", data=xml_of(UNIFIED, key="k" * 32)), "SIGNERROR")
    message = data["return_msg"]
    assert message.startswith("签名错误: the sign does not match")
    expected = "&".join(f"{k}={v}" for k, v in sorted(UNIFIED.items())) + "&key=<the API key of mch_id 1900000109>"
    assert expected in message
    assert API_KEY not in message


def test_a_bad_sign_type_is_param_error(client):
    fields = changed(sign_type="SHA1")
    refused(client.post("/pay/unifiedorder", data=xml_of(fields)), "PARAM_ERROR")


def test_an_unknown_appid_is_appid_not_exist(client):
    data = refused(
        client.post("/pay/unifiedorder", data=xml_of(changed(appid="wx0000000000000000"))), "APPID_NOT_EXIST"
    )
    assert APPID in data["return_msg"]


def test_another_merchants_appid_is_appid_mchid_not_match(client):
    other = {
        "gateway": "wechatpay",
        "merchant_id": "1900000777",
        "appid": "wx0000000000000777",
        "merchant_serial_no": "1A2B3C",
        "merchant_certificate": (FIXTURES / "demo/merchant_cert.pem").read_text(),
        "apiv3_key": "k" * 32,
        "api_key": "v" * 32,
    }
    assert client.post("/_sandbox/merchants", json={**other, "merchant_serial_no": None}).status_code == 201
    data = refused(
        client.post("/pay/unifiedorder", data=xml_of(changed(appid="wx0000000000000777"))), "APPID_MCHID_NOT_MATCH"
    )
    assert "belongs to mch_id 1900000777" in data["return_msg"]


def test_a_merchant_without_an_api_key_is_noauth(client):
    registration = {
        "gateway": "wechatpay",
        "merchant_id": "1900000888",
        "appid": "wx0000000000000888",
        "merchant_certificate": (FIXTURES / "demo/merchant_cert.pem").read_text(),
        "apiv3_key": "k" * 32,
    }
    assert client.post("/_sandbox/merchants", json=registration).status_code == 201
    fields = changed(mch_id="1900000888", appid="wx0000000000000888")
    assert "api_key" in refused(client.post("/pay/unifiedorder", data=xml_of(fields)), "NOAUTH")["return_msg"]


# -- what is asked ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["body", "out_trade_no", "total_fee", "spbill_create_ip", "notify_url", "trade_type"])
def test_missing_business_fields_lack_params(client, name):
    data = failed(client.post("/pay/unifiedorder", data=xml_of(changed(**{name: REMOVE}))), "LACK_PARAMS")
    assert f"{name} is required" in data["err_code_des"]


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"total_fee": "abc"}, "invalid total_fee"),
        ({"total_fee": "1.50"}, "invalid total_fee"),
        ({"total_fee": "-1"}, "invalid total_fee"),
        ({"total_fee": "0"}, "invalid total_fee"),
        ({"total_fee": "１００"}, "invalid total_fee"),
        ({"fee_type": "USD"}, "fee_type must be CNY"),
        ({"trade_type": "MICROPAY"}, "trade_type must be JSAPI, NATIVE, APP or MWEB"),
        ({"out_trade_no": "short"}, "out_trade_no is 6-32"),
        ({"out_trade_no": "x" * 33}, "longer than 32"),
        ({"out_trade_no": "has space 01"}, "out_trade_no is 6-32"),
        ({"notify_url": "ftp://x/y"}, "notify_url must be an http(s) URL"),
        ({"time_expire": "2024-01-01"}, "time_expire must be yyyyMMddHHmmss"),
        ({"time_expire": "20000101000000"}, "at least 1 minute from now"),
        ({"time_expire": "29990101000000"}, "within 7 days"),
        ({"trade_type": "MWEB", "scene_info": "not json"}, "scene_info must be JSON"),
        ({"trade_type": "MWEB", "scene_info": "[1]"}, "scene_info must be JSON"),
    ],
)
def test_wrong_values_are_param_error(client, changes, says):
    data = failed(client.post("/pay/unifiedorder", data=xml_of(changed(**changes))), "PARAM_ERROR")
    assert says in data["err_code_des"]


@pytest.mark.parametrize(
    ("trade_type", "needs"), [("JSAPI", "openid"), ("NATIVE", "product_id"), ("MWEB", "scene_info")]
)
def test_each_trade_type_asks_for_its_own_field(client, trade_type, needs):
    fields = changed(trade_type=trade_type, product_id=REMOVE)
    data = failed(client.post("/pay/unifiedorder", data=xml_of(fields)), "LACK_PARAMS")
    assert f"{needs} is required when trade_type is {trade_type}" in data["err_code_des"]


def test_orderquery_needs_one_of_the_two_numbers(client):
    fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "n1"}
    failed(client.post("/pay/orderquery", data=xml_of(fields)), "LACK_PARAMS")


def test_downloadbill_refusals_are_return_level(client):
    fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "n1", "bill_date": "20240101", "bill_type": "WEIRD"}
    refused(client.post("/pay/downloadbill", data=xml_of(fields)), "PARAM_ERROR")
    data = refused(
        client.post("/pay/downloadbill", data=xml_of({**fields, "bill_type": "ALL", "bill_date": "29990101"})),
        "NO_BILL_EXIST",
    )
    assert data["error_code"] == "20002" and data["return_msg"].startswith("No Bill Exist: ")


# -- paths and crashes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/pay/nosuch", "/secapi/pay/nosuch", "/sandboxnew/pay/nosuch", "/pay/a/b", "/sandboxnew/x"]
)
def test_unknown_paths_answer_v2_xml(client, path):
    data = answer_of(client.post(path, data=xml_of(UNIFIED)), 404)
    assert data["return_code"] == "FAIL" and "pay/unifiedorder" in data["return_msg"]


def test_a_crash_is_a_systemerror_with_a_request_id(client, monkeypatch):
    def boom(call):
        raise RuntimeError("boom")

    monkeypatch.setitem(handlers.ENDPOINTS, "pay/orderquery", boom)
    data = failed(client.post("/pay/orderquery", data=xml_of(changed(out_trade_no="V2-BAD-0001"))), "SYSTEMERROR")
    assert "request id" in data["err_code_des"] and "boom" not in data["err_code_des"]


def test_a_crash_outside_the_view_is_answered_in_v2_xml_by_the_app(client, monkeypatch):
    def boom(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "_resolve", boom)
    data = refused(client.post("/pay/orderquery", data=xml_of(UNIFIED)), "SYSTEMERROR", status=500)
    assert "request id" in data["return_msg"]


def test_getsignkey_is_signed_with_the_api_key(client):
    fields = {"mch_id": MCH_ID, "nonce_str": "n" * 32}
    data = answer_of(client.post("/sandboxnew/pay/getsignkey", data=xml_of(fields), content_type="text/xml"))
    assert data["return_code"] == "SUCCESS" and len(data["sandbox_signkey"]) == 32
    wrong = refused(client.post("/sandboxnew/pay/getsignkey", data=xml_of(fields, key="k" * 32)), "SIGNERROR")
    assert "mch_id=1900000109&nonce_str=nnnn" in wrong["return_msg"]
    assert "&key=<the API key of mch_id 1900000109>" in wrong["return_msg"]


# -- found by fuzzing (tests/gateways/test_fuzz.py) ---------------------------------------------------------------


def paid_with_two_refunds(client, number: str) -> None:
    envelope = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "n1"}
    pay = {**envelope, "body": "x", "out_trade_no": number, "total_fee": "300", "spbill_create_ip": "127.0.0.1"}
    assert answer_of(client.post("/pay/micropay", data=xml_of({**pay, "auth_code": "134567890123456789"})))
    for refund_no in ("R1", "R2"):
        refund = {**envelope, "out_trade_no": number, "out_refund_no": refund_no, "total_fee": "300", "refund_fee": "1"}
        assert answer_of(client.post("/secapi/pay/refund", data=xml_of(refund)))["result_code"] == "SUCCESS"


@pytest.mark.parametrize("offset", ["²", "٣", "１", "0²", "-1", "2"])
def test_refundquery_offset_in_digits_other_than_ascii_or_out_of_range_is_param_error(client, offset):
    paid_with_two_refunds(client, "V2-OFFSET-01")
    fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "n1", "out_trade_no": "V2-OFFSET-01", "offset": offset}
    data = failed(client.post("/pay/refundquery", data=xml_of(fields)), "PARAM_ERROR")
    assert "offset must be a number below the refund count (2)" in data["err_code_des"]


def test_refundquery_with_an_ascii_offset_pages_the_refunds(client):
    paid_with_two_refunds(client, "V2-OFFSET-02")
    fields = {"appid": APPID, "mch_id": MCH_ID, "nonce_str": "n1", "out_trade_no": "V2-OFFSET-02", "offset": "1"}
    data = answer_of(client.post("/pay/refundquery", data=xml_of(fields)))
    assert (data["result_code"], data["out_refund_no_0"], data["total_refund_count"]) == ("SUCCESS", "R2", "2")


@pytest.mark.parametrize("sign", ["签名", "ÄBC", "😀" * 8])
def test_a_sign_with_characters_other_than_ascii_is_signerror(client, sign):
    body = dict_to_xml(UNIFIED, sign).encode("utf-8")
    refused(client.post("/pay/unifiedorder", data=body), "SIGNERROR")


@pytest.mark.parametrize("total_fee", ["١٠٠", "1²"])
def test_an_amount_in_digits_other_than_ascii_is_param_error(client, total_fee):
    data = failed(client.post("/pay/unifiedorder", data=xml_of(changed(total_fee=total_fee))), "PARAM_ERROR")
    assert "invalid total_fee" in data["err_code_des"]


def test_a_jsapi_pay_sign_with_characters_other_than_ascii_is_the_bad_sign_page(client):
    fields = changed(trade_type="JSAPI", openid="o-1", product_id=REMOVE, out_trade_no="V2-PAGE-SIGN")
    prepay_id = answer_of(client.post("/pay/unifiedorder", data=xml_of(fields)))["prepay_id"]
    params = {
        "appId": APPID,
        "timeStamp": "1700000000",
        "nonceStr": "n1",
        "package": f"prepay_id={prepay_id}",
        "signType": "MD5",
        "paySign": "签名",
    }
    reply = client.get("/cashier/wechatpay/jsapi", query_string=params)
    assert reply.status_code == 400 and "支付验证签名失败" in reply.get_data(as_text=True)
