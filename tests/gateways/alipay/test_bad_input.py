"""Bad input to /gateway.do always gets Alipay's own answer: HTTP 200 and the JSON envelope, never a 500.

Every request is built correctly and signed with the demo app key, then exactly one thing is changed, so
each test shows what that one mistake earns. Answers for a known app_id must be signed
(docs/protocols/alipay.md#the-response-envelope), over the exact inner text, with the Alipay key; page.pay and
wap.pay answer with the HTML error page.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import serialization

from sandbox.core import crypto
from sandbox.gateways.alipay import codec, handlers
from sandbox.gateways.alipay.keys import HASH_OF

APP_ID = "2021000000000001"
UNKNOWN_APP_ID = "2021009999999999"
TIMESTAMP = "2024-05-20 13:14:15"
PRECREATE = {"out_trade_no": "BAD-0001", "total_amount": "0.01", "subject": "测试订单"}
PAGE_PAY = {**PRECREATE, "product_code": "FAST_INSTANT_TRADE_PAY"}
FORM = "application/x-www-form-urlencoded;charset=utf-8"
# {"<key>":<inner>,"sign":"<b64>"} with "sign" right after the response object, or no sign at all.
ENVELOPE = re.compile(r'\{"(?P<key>[a-z_]+)":(?P<inner>\{.*\})(?:,"sign":"(?P<sign>[A-Za-z0-9+/]+=*)")?\}', re.DOTALL)
REMOVE = object()


# -- building requests ------------------------------------------------------------------------------------


def biz_text(biz) -> str:
    """As the official SDK writes it (compact, raw UTF-8); a str is sent exactly as given."""
    return biz if isinstance(biz, str) else json.dumps(biz, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture(scope="module")
def app_key(alipay_demo):
    return crypto.load_private_key(alipay_demo.app_private_key)


@pytest.fixture
def signed(app_key):
    """signed(method, biz, **changes): the common params, changed (REMOVE drops one), then signed.

    `sign=...` in changes replaces the computed signature; `sign=REMOVE` leaves it out.
    """

    def make(method="alipay.trade.precreate", biz=PRECREATE, encoding="utf-8", **changes) -> dict[str, str]:
        params = {
            "app_id": APP_ID,
            "method": method,
            "format": "json",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": TIMESTAMP,
            "version": "1.0",
            "biz_content": biz_text(biz),
        }
        sign_override = changes.pop("sign", None)
        params.update(changes)
        params = {k: v for k, v in params.items() if v is not REMOVE}
        content = codec.signing_string(params).encode(encoding)
        params["sign"] = crypto.sign(app_key, content, HASH_OF.get(params.get("sign_type"), "SHA256"))
        if sign_override is REMOVE:
            del params["sign"]
        elif sign_override is not None:
            params["sign"] = sign_override
        return params

    return make


def get(client, params: dict, encoding: str = "utf-8"):
    return client.get("/gateway.do?" + urlencode(params, encoding=encoding))


def post_like_official_sdk(client, params: dict, encoding: str = "utf-8"):
    """Common params in the query string, biz_content in the form body, as the official SDK sends them
    (docs/protocols/alipay.md#endpoint-and-transport)."""
    query = {k: v for k, v in params.items() if k != "biz_content"}
    return client.post(
        "/gateway.do?" + urlencode(query, encoding=encoding),
        data=urlencode({"biz_content": params["biz_content"]}, encoding=encoding),
        content_type=f"application/x-www-form-urlencoded;charset={encoding}",
    )


# -- reading answers --------------------------------------------------------------------------------------


@dataclass
class Answer:
    key: str
    inner: dict
    inner_text: str
    sign: str | None
    body: str

    @property
    def code(self) -> str:
        return self.inner.get("code", "")

    @property
    def sub_code(self) -> str:
        return self.inner.get("sub_code", "")

    @property
    def sub_msg(self) -> str:
        return self.inner.get("sub_msg", "")


def answer_of(reply, charset: str = "utf-8") -> Answer:
    """The Alipay envelope of a reply; fails on anything else (a 500, a traceback, a redirect, HTML)."""
    raw = reply.get_data()
    try:
        body = raw.decode(charset)
    except UnicodeDecodeError as error:
        raise AssertionError(
            f"the answer is not {charset} ({error}); as UTF-8 it reads: {raw.decode('utf-8', 'replace')[:500]}"
        ) from None
    assert reply.status_code == 200, f"HTTP {reply.status_code}: {body[:500]}"
    assert "Traceback" not in body
    match = ENVELOPE.fullmatch(body)
    assert match, f"not an Alipay envelope: {body[:500]}"
    document = json.loads(body)
    inner = json.loads(match["inner"])
    assert document[match["key"]] == inner
    assert set(document) <= {match["key"], "sign"}
    return Answer(match["key"], inner, match["inner"], match["sign"], body)


def assert_error(answer: Answer, key: str, code: str, sub_code: str) -> None:
    assert (answer.key, answer.code, answer.sub_code) == (key, code, sub_code), answer.body
    assert answer.inner["msg"] and answer.sub_msg


def assert_signed(answer: Answer, alipay_demo, sign_type: str = "RSA2", charset: str = "utf-8") -> None:
    """The sign verifies over the exact inner text with the Alipay public key and the request's algorithm."""
    assert answer.sign, f"a known app_id gets a signed answer: {answer.body}"
    key = crypto.load_public_key(alipay_demo.alipay_public_key)
    assert crypto.verify(key, answer.inner_text.encode(charset), answer.sign, HASH_OF[sign_type]), answer.body


def assert_unsigned(answer: Answer) -> None:
    assert answer.sign is None, answer.body


def expect(client, params, alipay_demo, key, code, sub_code, sign_type="RSA2") -> Answer:
    """GET the request; a known app's error answer must be signed."""
    answer = answer_of(get(client, params))
    assert_error(answer, key, code, sub_code)
    assert_signed(answer, alipay_demo, sign_type)
    return answer


def app_key_fingerprint(public_pem: str) -> str:
    """sha256 of the SPKI DER, first 16 hex digits: the name the sandbox gives a key in messages."""
    der = serialization.load_pem_public_key(public_pem.encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def plain_signing_string(params: dict) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")


PRECREATE_KEY = "alipay_trade_precreate_response"
QUERY_KEY = "alipay_trade_query_response"


# -- the baseline: the helper's requests are good -------------------------------------------------------


def test_well_formed_signed_request_succeeds(client, signed, alipay_demo):
    answer = answer_of(get(client, signed()))
    assert (answer.key, answer.code) == (PRECREATE_KEY, "10000"), answer.body
    assert_signed(answer, alipay_demo)


def test_well_formed_request_posted_like_the_official_sdk_succeeds(client, signed, alipay_demo):
    answer = answer_of(post_like_official_sdk(client, signed()))
    assert answer.code == "10000", answer.body
    assert_signed(answer, alipay_demo)


# -- common parameters -----------------------------------------------------------------------------------


def test_missing_method_is_signed_error_response_40001_missing_method(client, signed, alipay_demo):
    expect(client, signed(method=REMOVE), alipay_demo, "error_response", "40001", "isv.missing-method")


def test_empty_request_is_error_response_40001_missing_method_unsigned(client):
    answer = answer_of(client.get("/gateway.do"))
    assert_error(answer, "error_response", "40001", "isv.missing-method")
    assert_unsigned(answer)


def test_unknown_method_is_signed_error_response_40002_invalid_method(client, signed, alipay_demo):
    answer = expect(
        client, signed(method="alipay.trade.teleport"), alipay_demo, "error_response", "40002", "isv.invalid-method"
    )
    assert "alipay.trade.teleport" in answer.sub_msg


def test_missing_app_id_is_40001_missing_app_id_and_unsigned(client, signed):
    answer = answer_of(get(client, signed(app_id=REMOVE)))
    assert_error(answer, PRECREATE_KEY, "40001", "isv.missing-app-id")
    assert_unsigned(answer)


def test_unknown_app_id_is_40002_invalid_app_id_and_unsigned(client, signed):
    answer = answer_of(get(client, signed(app_id=UNKNOWN_APP_ID)))
    assert_error(answer, PRECREATE_KEY, "40002", "isv.invalid-app-id")
    assert UNKNOWN_APP_ID in answer.sub_msg
    assert_unsigned(answer)


def test_missing_sign_is_40001_missing_signature(client, signed, alipay_demo):
    expect(client, signed(sign=REMOVE), alipay_demo, PRECREATE_KEY, "40001", "isv.missing-signature")


def test_empty_sign_is_40001_missing_signature(client, signed, alipay_demo):
    expect(client, signed(sign=""), alipay_demo, PRECREATE_KEY, "40001", "isv.missing-signature")


def test_missing_sign_type_is_40001_missing_signature_type_signed_rsa2(client, signed, alipay_demo):
    expect(client, signed(sign_type=REMOVE), alipay_demo, PRECREATE_KEY, "40001", "isv.missing-signature-type")


@pytest.mark.parametrize("sign_type", ["RSA3", "MD5", "HMAC-SHA256", "SM2", "RSA2 "])
def test_invalid_sign_type_is_40002_invalid_signature_type_signed_rsa2(client, signed, alipay_demo, sign_type):
    answer = expect(
        client, signed(sign_type=sign_type), alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-signature-type"
    )
    assert repr(sign_type) in answer.sub_msg


def test_missing_timestamp_is_40001_missing_timestamp(client, signed, alipay_demo):
    expect(client, signed(timestamp=REMOVE), alipay_demo, PRECREATE_KEY, "40001", "isv.missing-timestamp")


@pytest.mark.parametrize(
    "timestamp",
    ["2024/05/20 13:14:15", "2024-05-20T13:14:15", "1716182055", "2024-13-01 00:00:00", "2024-05-20", "now"],
)
def test_bad_timestamp_is_40002_invalid_timestamp(client, signed, alipay_demo, timestamp):
    answer = expect(client, signed(timestamp=timestamp), alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-timestamp")
    assert "yyyy-MM-dd HH:mm:ss" in answer.sub_msg


def test_old_timestamp_is_accepted_because_sdks_stamp_naive_local_time(client, signed):
    assert answer_of(get(client, signed(timestamp="2001-01-01 00:00:00"))).code == "10000"


def test_missing_version_is_40001_missing_version(client, signed, alipay_demo):
    expect(client, signed(version=REMOVE), alipay_demo, PRECREATE_KEY, "40001", "isv.missing-version")


@pytest.mark.parametrize("version", ["2.0", "1", "1.0.0", "v1.0"])
def test_wrong_version_is_40002_invalid_version(client, signed, alipay_demo, version):
    expect(client, signed(version=version), alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-version")


def test_format_is_not_required(client, signed):
    assert answer_of(get(client, signed(format=REMOVE))).code == "10000"


# -- the signature -------------------------------------------------------------------------------------


def test_bad_signature_sub_msg_shows_the_exact_string_verified_and_the_key_fingerprint(client, signed, alipay_demo):
    params = signed(biz={**PRECREATE, "subject": "原来的标题"})
    params["biz_content"] = biz_text({**PRECREATE, "subject": "改过的标题 {x}&y=1"})  # changed after signing
    answer = expect(client, params, alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-signature")
    assert plain_signing_string(params) in answer.sub_msg
    assert answer.sub_msg.endswith(plain_signing_string(params))
    assert app_key_fingerprint(alipay_demo.app_public_key) in answer.sub_msg
    assert APP_ID in answer.sub_msg


@pytest.mark.parametrize("sign", ["not base64!", "QUJD", "签名", "A" * 5000, "===="])
def test_sign_that_is_not_a_signature_is_40002_invalid_signature(client, signed, alipay_demo, sign):
    expect(client, signed(sign=sign), alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-signature")


def test_signature_by_another_key_is_40002_invalid_signature(client, signed, alipay_demo):
    other = crypto.load_private_key(alipay_demo.alipay_private_key)
    params = signed()
    params["sign"] = crypto.sign(other, codec.signing_string(params).encode())
    expect(client, params, alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-signature")


def test_sha256_signature_declared_as_rsa_is_invalid_and_answered_with_sha1(client, signed, alipay_demo, app_key):
    params = signed(sign_type="RSA")
    params["sign"] = crypto.sign(app_key, codec.signing_string(params).encode(), "SHA256")
    expect(client, params, alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-signature", sign_type="RSA")


def test_signature_without_sign_type_in_the_signed_string_is_invalid(client, signed, alipay_demo, app_key):
    params = signed()
    without = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
    params["sign"] = crypto.sign(app_key, codec.signing_string(without).encode())
    expect(client, params, alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-signature")


def test_sign_type_rsa_request_gets_a_sha1_signed_answer(client, signed, alipay_demo):
    params = signed("alipay.trade.query", {"out_trade_no": "NOPE-1"}, sign_type="RSA")
    expect(client, params, alipay_demo, QUERY_KEY, "40004", "ACQ.TRADE_NOT_EXIST", sign_type="RSA")


# -- biz_content ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ['{"out_trade_no":', "not json", '{"out_trade_no":"A",}', "{'out_trade_no':'A'}", '{"a":1}}']
)
def test_malformed_biz_content_json_is_40002_invalid_parameter(client, signed, alipay_demo, text):
    answer = expect(client, signed(biz=text), alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-parameter")
    assert "biz_content" in answer.sub_msg


@pytest.mark.parametrize("text", ['["out_trade_no","BAD-0001"]', "[]", '"BAD-0001"', "42", "null", "true"])
def test_biz_content_that_is_not_a_json_object_is_40002_invalid_parameter(client, signed, alipay_demo, text):
    answer = expect(client, signed(biz=text), alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-parameter")
    assert "JSON object" in answer.sub_msg


def test_deeply_nested_biz_content_is_40002_invalid_parameter(client, signed, alipay_demo):
    text = '{"out_trade_no":' + "[" * 100_000 + "]" * 100_000 + "}"
    expect(client, signed(biz=text), alipay_demo, PRECREATE_KEY, "40002", "isv.invalid-parameter")


@pytest.mark.parametrize(
    "amount_json",
    [
        '"abc"',
        "-1",
        '"-1"',
        "0",
        '"0"',
        '"0.00"',
        "1.001",
        '"1.001"',
        "true",
        '{"value":"1.00"}',
        '["1.00"]',
        '"1e3"',
        '"١٠٠"',
        '"１.００"',
        '"100000000.01"',
        "100000001",
        '""',
        "null",
    ],
)
def test_wrongly_typed_total_amount_is_40004_invalid_parameter(client, signed, alipay_demo, amount_json):
    text = '{"out_trade_no":"BAD-0001","total_amount":' + amount_json + ',"subject":"x"}'
    answer = expect(client, signed(biz=text), alipay_demo, PRECREATE_KEY, "40004", "ACQ.INVALID_PARAMETER")
    assert "total_amount" in answer.sub_msg


@pytest.mark.parametrize("amount_json", ["0.01", '"0.01"', "88.88", '"88.88"', "88", '"100000000.00"'])
def test_total_amount_as_json_number_or_string_is_accepted(client, signed, amount_json):
    text = '{"out_trade_no":"BAD-0001","total_amount":' + amount_json + ',"subject":"x"}'
    assert answer_of(get(client, signed(biz=text))).code == "10000"


@pytest.mark.parametrize("field", ["subject", "out_trade_no", "total_amount"])
def test_missing_required_biz_field_is_40004_invalid_parameter_naming_it(client, signed, alipay_demo, field):
    biz = {k: v for k, v in PRECREATE.items() if k != field}
    answer = expect(client, signed(biz=biz), alipay_demo, PRECREATE_KEY, "40004", "ACQ.INVALID_PARAMETER")
    assert f"biz_content.{field}" in answer.sub_msg


@pytest.mark.parametrize("field", ["subject", "out_trade_no"])
def test_wrongly_typed_text_field_is_40004_invalid_parameter(client, signed, alipay_demo, field):
    biz = {**PRECREATE, field: {"nested": "object"}}
    answer = expect(client, signed(biz=biz), alipay_demo, PRECREATE_KEY, "40004", "ACQ.INVALID_PARAMETER")
    assert field in answer.sub_msg


def test_out_trade_no_over_64_characters_is_40004_invalid_parameter(client, signed, alipay_demo):
    biz = {**PRECREATE, "out_trade_no": "A" * 65}
    answer = expect(client, signed(biz=biz), alipay_demo, PRECREATE_KEY, "40004", "ACQ.INVALID_PARAMETER")
    assert "out_trade_no" in answer.sub_msg


def test_out_trade_no_of_exactly_64_characters_is_accepted(client, signed):
    assert answer_of(get(client, signed(biz={**PRECREATE, "out_trade_no": "A" * 64}))).code == "10000"


@pytest.mark.parametrize("out_trade_no", ["订单1", "a b", "a/b", "a;b"])
def test_out_trade_no_with_characters_outside_letters_digits_dash_underscore_is_invalid(
    client, signed, alipay_demo, out_trade_no
):
    biz = {**PRECREATE, "out_trade_no": out_trade_no}
    expect(client, signed(biz=biz), alipay_demo, PRECREATE_KEY, "40004", "ACQ.INVALID_PARAMETER")


def test_trade_no_and_out_trade_no_naming_different_trades_is_trade_not_exist(client, signed, alipay_demo):
    trade_nos = {}
    for out_trade_no in ("PAIR-A", "PAIR-B"):
        biz = {**PRECREATE, "out_trade_no": out_trade_no, "buyer_id": "2088000000000002"}
        answer = answer_of(get(client, signed("alipay.trade.create", biz)))
        assert answer.code == "10000", answer.body
        trade_nos[out_trade_no] = answer.inner["trade_no"]
    params = signed("alipay.trade.query", {"out_trade_no": "PAIR-A", "trade_no": trade_nos["PAIR-B"]})
    answer = expect(client, params, alipay_demo, QUERY_KEY, "40004", "ACQ.TRADE_NOT_EXIST")
    assert "PAIR-A" in answer.sub_msg and trade_nos["PAIR-B"] in answer.sub_msg
    assert "trade_no" not in answer.inner  # no trade is reported when the two names disagree


@pytest.mark.parametrize("timeout", ["٩٠m", "９０m", "²h"])
def test_timeout_express_in_digits_other_than_ascii_is_40004_invalid_parameter(client, signed, alipay_demo, timeout):
    params = signed(biz={**PRECREATE, "timeout_express": timeout})
    answer = expect(client, params, alipay_demo, PRECREATE_KEY, "40004", "ACQ.INVALID_PARAMETER")
    assert "timeout_express" in answer.sub_msg


def test_a_payment_code_in_digits_other_than_ascii_is_auth_code_invalid(client, signed, alipay_demo):
    biz = {**PRECREATE, "scene": "bar_code", "auth_code": "28١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦"}
    answer = expect(
        client,
        signed("alipay.trade.pay", biz),
        alipay_demo,
        "alipay_trade_pay_response",
        "40004",
        "ACQ.PAYMENT_AUTH_CODE_INVALID",
    )
    assert "auth_code" in answer.sub_msg or "payment code" in answer.sub_msg


NASTY_VALUES = {
    "lone_surrogate": "\ud800",
    "braces_markup_nul": "a}b{<script>\x00\"'\\",
    "long_emoji": "😀" * 300,
    "number": 12345678901234567890,
    "nested": {"a": [1, {"b": None}]},
}


@pytest.mark.parametrize("value", NASTY_VALUES.values(), ids=NASTY_VALUES.keys())
def test_no_single_bad_biz_value_breaks_any_method(client, signed, alipay_demo, value):
    """Each biz field of each method set to one nasty value: always a signed envelope, never a system error."""
    base = {
        **PRECREATE,
        "product_code": "FAST_INSTANT_TRADE_PAY",
        "buyer_id": "2088000000000002",
        "scene": "bar_code",
        "auth_code": "281234567890123456",
        "refund_amount": "0.01",
        "out_request_no": "R1",
        "bill_type": "trade",
        "bill_date": "2024-05-01",
    }
    fields = [*base, "trade_no", "body", "time_expire", "timeout_express", "passback_params", "refund_reason"]
    # A paid trade to aim the trade-level methods at.
    assert answer_of(get(client, signed("alipay.trade.pay", base))).code == "10000"
    failures = []
    for method in handlers.METHODS:
        if method in handlers.CASHIER_METHODS:
            continue
        for field in fields:
            params = signed(method, json.dumps({**base, field: value}))  # ASCII-escaped, as python-alipay-sdk
            try:
                answer = answer_of(get(client, params))
                assert_signed(answer, alipay_demo)
                assert answer.code != "20000", answer.body
            except AssertionError as error:
                failures.append(f"{method} {field}: {str(error)[:300]}")
    assert not failures, "\n".join(failures)


# -- transport: size, charset, content type ------------------------------------------------------------


def test_body_over_one_mebibyte_is_40002_invalid_content_length(client, signed):
    body = urlencode(signed()) + "&padding=" + "x" * (1024 * 1024)
    answer = answer_of(client.post("/gateway.do", data=body, content_type=FORM))
    assert_error(answer, "error_response", "40002", "isv.invalid-content-length")
    assert str(1024 * 1024) in answer.sub_msg


def test_body_just_under_the_limit_is_read(client, signed, alipay_demo):
    padding = "x" * (1024 * 1024 - 4096)
    params = signed(padding=padding)
    body = urlencode(params).encode()
    assert len(body) <= 1024 * 1024
    answer = answer_of(client.post("/gateway.do", data=body, content_type=FORM))
    assert answer.code == "10000", answer.body[:500]
    assert_signed(answer, alipay_demo)


@pytest.mark.parametrize("where", ["query", "body"])
@pytest.mark.parametrize("raw", ["%FF", "%C3%28", "%ED%A0%80", "%E6%B5"])
def test_bytes_that_are_not_utf8_are_40002_invalid_charset(client, signed, where, raw):
    tail = "&subject=" + raw
    if where == "query":
        reply = client.get("/gateway.do?" + urlencode(signed()) + tail)
    else:
        reply = client.post("/gateway.do", data=urlencode(signed()) + tail, content_type=FORM)
    answer = answer_of(reply)
    assert_error(answer, "error_response", "40002", "isv.invalid-charset")
    assert "utf-8" in answer.sub_msg


@pytest.mark.parametrize("charset", ["latin-1", "big5", "utf-16", "ascii", "x"])
def test_unsupported_charset_is_40002_invalid_charset(client, signed, charset):
    answer = answer_of(get(client, signed(charset=charset)))
    assert_error(answer, "error_response", "40002", "isv.invalid-charset")
    assert repr(charset) in answer.sub_msg


@pytest.mark.parametrize("send", [get, post_like_official_sdk], ids=["get", "post"])
def test_gbk_encoded_chinese_with_charset_gbk_is_accepted(client, signed, sandbox, send):
    """The official SDK with charset=GBK URL-encodes in GBK and signs the GBK bytes (SignatureUtils)."""
    biz = {**PRECREATE, "out_trade_no": "GBK-1", "subject": "测试订单 中文"}
    params = signed(biz=biz, charset="GBK", encoding="gbk")
    reply = send(client, params, encoding="gbk")
    answer = answer_of(reply, charset="gbk")
    assert answer.code == "10000", answer.body
    assert sandbox.payments.find("alipay", APP_ID, out_trade_no="GBK-1").subject == "测试订单 中文"


def test_answer_to_a_gbk_request_is_gbk_signed_over_its_gbk_bytes(client, signed, alipay_demo):
    """The official SDK decodes the answer with the configured charset and verifies the re-encoded text."""
    params = signed("alipay.trade.query", {"out_trade_no": "不存在"}, charset="GBK", encoding="gbk")
    reply = get(client, params, encoding="gbk")
    answer = answer_of(reply, charset="gbk")  # strict GBK decoding
    assert_error(answer, QUERY_KEY, "40004", "ACQ.TRADE_NOT_EXIST")
    assert_signed(answer, alipay_demo, charset="gbk")


@pytest.mark.parametrize("common_in_query", [False, True], ids=["all_in_body", "common_in_query"])
def test_multipart_body_gets_an_alipay_envelope_not_a_500(client, signed, common_in_query):
    params = signed()
    query = {k: v for k, v in params.items() if k != "biz_content"} if common_in_query else {}
    fields = {"biz_content": params["biz_content"]} if common_in_query else params
    reply = client.post(
        "/gateway.do?" + urlencode(query), data=fields, content_type="multipart/form-data", buffered=True
    )
    answer = answer_of(reply)
    assert answer.code != "20000", answer.body


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/xml", "application/octet-stream"]
)
def test_other_body_types_get_an_alipay_envelope_not_a_500(client, signed, content_type):
    params = signed()
    reply = client.post("/gateway.do", data=json.dumps(params), content_type=content_type)
    answer = answer_of(reply)
    assert answer.code != "20000", answer.body


# -- page.pay / wap.pay: the browser gets the HTML error page ------------------------------------------


def assert_html_error(reply, sub_code: str) -> str:
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200, html[:500]
    assert reply.mimetype == "text/html"
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "Traceback" not in html
    assert sub_code in html, html
    with pytest.raises(ValueError):
        json.loads(html)
    return html


@pytest.mark.parametrize(
    ("changes", "sub_code"),
    [
        ({"biz": {k: v for k, v in PAGE_PAY.items() if k != "subject"}}, "ACQ.INVALID_PARAMETER"),
        ({"biz": {**PAGE_PAY, "total_amount": "abc"}}, "ACQ.INVALID_PARAMETER"),
        ({"biz": {**PAGE_PAY, "product_code": "QUICK_MSECURITY_PAY"}}, "ACQ.INVALID_PARAMETER"),
        ({"biz": "not json"}, "isv.invalid-parameter"),
        ({"sign": "QUJD"}, "isv.invalid-signature"),
        ({"sign": REMOVE}, "isv.missing-signature"),
        ({"app_id": UNKNOWN_APP_ID}, "isv.invalid-app-id"),
        ({"timestamp": "yesterday"}, "isv.invalid-timestamp"),
    ],
    ids=["no_subject", "bad_amount", "wrong_product_code", "bad_json", "bad_sign", "no_sign", "unknown_app", "bad_ts"],
)
def test_page_pay_with_bad_input_shows_the_html_error_page(client, signed, changes, sub_code):
    params = signed("alipay.trade.page.pay", **{"biz": PAGE_PAY, **changes})
    assert_html_error(get(client, params), sub_code)


def test_wap_pay_posted_as_a_form_with_bad_input_shows_the_html_error_page(client, signed):
    biz = {**PAGE_PAY, "product_code": "QUICK_WAP_WAY", "total_amount": "-1"}
    reply = client.post("/gateway.do", data=signed("alipay.trade.wap.pay", biz), content_type=FORM)
    assert_html_error(reply, "ACQ.INVALID_PARAMETER")


def test_html_error_page_escapes_what_the_merchant_sent(client, signed):
    params = signed("alipay.trade.page.pay", {**PAGE_PAY, "subject": "<script>alert(1)</script>"}, sign="QUJD")
    html = assert_html_error(get(client, params), "isv.invalid-signature")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_http_methods_get_an_alipay_error_response(client, method):
    answer = client.open("/gateway.do", method=method)
    assert answer.status_code == 200
    error = answer.get_json(force=True)["error_response"]
    assert error["code"] == "40002"
    assert method in error["sub_msg"]
