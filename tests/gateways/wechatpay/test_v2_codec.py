"""The v2 codec against wechatpy's own helpers: the same signatures, the same XML, and a parser that refuses danger."""

from __future__ import annotations

import hashlib

import pytest
import xmltodict
from wechatpy.crypto import WeChatRefundCrypto
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac, dict_to_xml

from sandbox.gateways.wechatpay.v2 import codec
from sandbox.gateways.wechatpay.v2.errors import RETURN, V2Error

KEY = "paysandboxTESTONLYapiv2key000001"
FIELDS = {
    "appid": "wxd930ea5d5a258f4f",
    "mch_id": "1900000109",
    "nonce_str": "ibuaiVcKdpRxkhJA",
    "body": "测试商品 & <more>",
    "out_trade_no": "V2CODEC0001",
    "total_fee": "100",
    "attach": "",
    "trade_type": "NATIVE",
}


def refusal(data: bytes, max_body: int = 1024 * 1024) -> V2Error:
    with pytest.raises(V2Error) as caught:
        codec.parse(data, max_body)
    assert caught.value.level == RETURN
    return caught.value


# -- signatures ---------------------------------------------------------------------------------------------


def test_md5_sign_is_what_wechatpy_computes():
    assert codec.sign(FIELDS, KEY) == calculate_signature(FIELDS, KEY)


def test_hmac_sha256_sign_is_what_wechatpy_computes():
    fields = {**FIELDS, "sign_type": "HMAC-SHA256"}
    assert codec.sign(fields, KEY, codec.HMAC_SHA256) == calculate_signature_hmac(fields, KEY)


def test_md5_sign_matches_the_known_answer():
    string = "a=1&b=x y&key=" + KEY
    assert codec.sign({"b": "x y", "a": "1", "c": "", "sign": "IGNORED"}, KEY) == (
        hashlib.md5(string.encode()).hexdigest().upper()
    )


def test_signing_string_drops_empty_values_and_sign_but_keeps_zero():
    assert codec.signing_string({"b": "0", "a": "", "sign": "X", "c": "y"}) == "b=0&c=y"


def test_verify_accepts_wechatpy_requests_and_refuses_another_key():
    signed = {**FIELDS, "sign": calculate_signature(FIELDS, KEY)}
    assert codec.verify(signed, KEY, codec.MD5)
    assert not codec.verify(signed, "x" * 32, codec.MD5)


def test_sandbox_key_is_stable_32_upper_hex_and_not_the_api_key():
    key = codec.sandbox_key(KEY)
    assert key == codec.sandbox_key(KEY)
    assert len(key) == 32 and key == key.upper() and int(key, 16) >= 0
    assert key != KEY


# -- XML out ------------------------------------------------------------------------------------------------


def test_render_writes_exactly_what_wechatpy_writes():
    sign = calculate_signature(FIELDS, KEY)
    assert codec.render(FIELDS, sign) == dict_to_xml(FIELDS, sign)
    assert codec.render(FIELDS) == dict_to_xml(FIELDS)


def test_signed_answer_parses_and_verifies_with_wechatpy():
    text = codec.signed({"return_code": "SUCCESS", "total_fee": 100, "skipped": None}, KEY)
    data = dict(xmltodict.parse(text)["xml"])
    assert data["total_fee"] == "100" and "skipped" not in data
    assert data.pop("sign") == calculate_signature(data, KEY)


def test_cdata_end_inside_a_value_survives():
    text = codec.render({"attach": "a]]>b"})
    assert xmltodict.parse(text)["xml"]["attach"] == "a]]>b"


def test_req_info_decrypts_with_wechatpy():
    inner = codec.render({"out_refund_no": "R1", "refund_fee": "30"}, root="root")
    outer = codec.render({"appid": "wx1", "mch_id": "1900000109", "req_info": codec.encrypt_req_info(KEY, inner)})
    data = WeChatRefundCrypto(KEY).decrypt_message(outer, "wx1", "1900000109")
    assert dict(data) == {"out_refund_no": "R1", "refund_fee": "30"}


# -- XML in -------------------------------------------------------------------------------------------------


def test_parse_reads_what_wechatpy_sends():
    body = dict_to_xml(FIELDS, calculate_signature(FIELDS, KEY)).encode()
    assert codec.parse(body, 10_000) == {**FIELDS, "sign": calculate_signature(FIELDS, KEY)}


def test_billion_laughs_is_refused_before_any_expansion():
    body = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    body += b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    body += b"]><xml><body>&lol9;</body></xml>"
    error = refusal(body)
    assert error.err_code == "XML_FORMAT_ERROR" and "DOCTYPE" in error.message


def test_external_entity_is_refused():
    body = b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>'
    assert refusal(body).err_code == "XML_FORMAT_ERROR"


@pytest.mark.parametrize(
    ("body", "err_code", "says"),
    [
        (b"", "POST_DATA_EMPTY", "empty"),
        (b"  \n ", "POST_DATA_EMPTY", "empty"),
        (b"<xml><body>\xff\xfe</body></xml>", "NOT_UTF8", "not UTF-8"),
        (b"appid=wx1&mch_id=1", "XML_FORMAT_ERROR", "not well-formed"),
        (b"<xml><a>1</a>", "XML_FORMAT_ERROR", "not well-formed"),
        (b"<root><a>1</a></root>", "XML_FORMAT_ERROR", "root element must be <xml>"),
        (b"<xml><a><b>1</b></a></xml>", "XML_FORMAT_ERROR", "holds elements"),
        (b"<xml><a>1</a><a>2</a></xml>", "XML_FORMAT_ERROR", "more than once"),
        (b'<?xml version="1.0" encoding="GBK"?><xml><a>1</a></xml>', "XML_FORMAT_ERROR", "not well-formed"),
    ],
)
def test_parse_refuses_bad_bodies_with_a_clear_reason(body, err_code, says):
    error = refusal(body)
    assert error.err_code == err_code
    assert says in error.message


def test_deep_nesting_is_refused_cleanly():
    depth = 100_000
    error = refusal(b"<xml>" + b"<a>" * depth + b"</a>" * depth + b"</xml>")
    assert error.err_code == "XML_FORMAT_ERROR"


def test_a_body_over_the_limit_is_not_parsed():
    error = refusal(b"<xml><a>" + b"x" * 2000 + b"</a></xml>", max_body=1000)
    assert error.err_code == "INVALID_REQUEST" and "at most 1000" in error.message
