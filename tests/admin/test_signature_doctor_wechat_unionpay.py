"""The signature doctor on WeChat Pay v3 and v2 and on UnionPay ACP, with what their clients really send."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac, dict_to_xml

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.merchant.unionpay import UnionPayClient
from sandbox.merchant.wechatpay import WechatPayClient
from tests.admin.doctoring import ask, form_request, hints, raw_request

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WECHAT = json.loads((FIXTURES / "wechatpay/demo/merchant.json").read_text())
MCHID, API_KEY = WECHAT["merchant_id"], WECHAT["api_key"]
MER_ID = "777290058110097"
QUERY = f"/v3/pay/transactions/out-trade-no/DOC-1?mchid={MCHID}"


@pytest.fixture
def wechat() -> WechatPayClient:
    return WechatPayClient(
        MCHID,
        WECHAT["appid"],
        WECHAT["merchant_serial_no"],
        (FIXTURES / "wechatpay/demo/merchant_private_key.pem").read_text(),
        WECHAT["apiv3_key"],
        "http://sandbox.test",
    )


@pytest.fixture
def bank() -> UnionPayClient:
    return UnionPayClient.from_pkcs12(
        MER_ID,
        FIXTURES / "unionpay/demo/acp_test_sign.pfx",
        "000000",
        root_cert=(FIXTURES / "unionpay/sandbox/root.pem").read_text(),
        middle_cert=(FIXTURES / "unionpay/sandbox/middle.pem").read_text(),
    )


def v3_request(client: WechatPayClient, method: str, url: str, body: str = "", signed_url: str = "") -> str:
    headers = {"Authorization": client.authorization(method, signed_url or url, body), "Accept": "application/json"}
    return raw_request(method, url, headers, body)


# -- WeChat Pay API v3 ----------------------------------------------------------------------------------------


def test_wechatpay_v3_request_signed_by_the_reference_client_is_valid(live, http, wechat):
    body = json.dumps({"mchid": MCHID, "out_trade_no": "DOC-1"}, separators=(",", ":"))

    answer = ask(http, live, protocol="wechatpay_v3", request=v3_request(wechat, "POST", "/v3/x/close", body))

    assert answer["verdict"] == "valid", answer
    assert answer["merchant_id"] == MCHID
    assert answer["expected_string_to_sign"].startswith("POST\n/v3/x/close\n")
    assert answer["expected_string_to_sign"].endswith(f"\n{body}\n")
    assert WECHAT["merchant_serial_no"] in answer["key"]


def test_wechatpay_v3_changed_body_is_invalid_and_the_line_is_found(live, http, wechat):
    body = json.dumps({"out_trade_no": "DOC-1", "amount": {"total": 100}}, separators=(",", ":"))
    request = v3_request(wechat, "POST", "/v3/pay/transactions/native", body)
    fields = dict(p.split("=", 1) for p in request.split("\r\n")[2].split(" ", 2)[2].split(","))
    signed = f"POST\n/v3/pay/transactions/native\n{fields['timestamp'].strip(chr(34))}\n"
    signed += f"{fields['nonce_str'].strip(chr(34))}\n{body}\n"

    answer = ask(http, live, protocol="wechatpay_v3", request=request.replace("100", "1"), string_to_sign=signed)

    assert answer["verdict"] == "invalid"
    [difference] = answer["differences"]
    assert difference["line"] == 5 and "the body differs" in difference["hint"]


def test_wechatpay_v3_query_missing_from_the_signed_url_is_recognised(live, http, wechat):
    request = v3_request(wechat, "GET", QUERY, signed_url=QUERY.partition("?")[0])

    answer = ask(http, live, protocol="wechatpay_v3", request=request)

    assert answer["verdict"] == "invalid"
    assert "query string missing from the URL line" in hints(answer)
    assert answer["received_string_to_sign"].startswith("GET\n/v3/pay/transactions/out-trade-no/DOC-1\n")


def test_wechatpay_v3_string_without_trailing_newline_and_a_wrong_serial(live, http, wechat):
    stamp = str(int(time.time()))
    string = f"GET\n{QUERY}\n{stamp}\nNONCE\n"  # the empty body's line and its \n are missing
    signature = wechat.sign_lines("GET", QUERY, stamp, "NONCE", "")
    wrong_serial = v3_request(wechat, "GET", QUERY).replace(WECHAT["merchant_serial_no"], "ABC123")

    answer = ask(http, live, protocol="wechatpay_v3", string_to_sign=string, signature=signature, merchant_id=MCHID)
    serial = ask(http, live, protocol="wechatpay_v3", request=wrong_serial)

    assert answer["verdict"] == "valid"  # the signature is over the right five lines; only the paste lacks one
    assert "missing trailing newline" in hints(answer)
    assert answer["expected_string_to_sign"] == string + "\n"
    assert serial["verdict"] == "invalid" and "serial_no ABC123 is not the certificate serial" in hints(serial)


# -- WeChat Pay API v2 ----------------------------------------------------------------------------------------


def order(**extra) -> dict:
    fields = {"appid": WECHAT["appid"], "mch_id": MCHID, "nonce_str": "N" * 32, "out_trade_no": "DOC-1"}
    return {**fields, "body": "Tea", "total_fee": "100", "trade_type": "NATIVE", **extra}


def test_wechatpay_v2_xml_signed_by_wechatpy_is_valid_and_the_key_never_shows(live, http):
    fields = order()
    xml = dict_to_xml(fields, calculate_signature(fields, API_KEY))

    bare = ask(http, live, protocol="wechatpay_v2", request=xml)
    raw = ask(http, live, protocol="wechatpay_v2", request=raw_request("POST", "/pay/unifiedorder", {}, xml))

    assert bare["verdict"] == raw["verdict"] == "valid", bare
    assert bare["key"] == "the API v2 key set at registration"
    assert bare["expected_string_to_sign"].endswith("&key=<the API v2 key set at registration>")
    pasted = ask(http, live, protocol="wechatpay_v2", string_to_sign=f"{sorted_query(fields)}&key={API_KEY}")
    assert API_KEY not in json.dumps([bare, pasted])


def test_wechatpay_v2_changed_field_lower_case_md5_and_hmac_for_md5(live, http):
    fields = order()
    sign = calculate_signature(fields, API_KEY)
    changed = ask(http, live, protocol="wechatpay_v2", request=dict_to_xml({**fields, "total_fee": "1"}, sign))
    lower = ask(http, live, protocol="wechatpay_v2", request=dict_to_xml(fields, sign.lower()))
    hmac = ask(
        http, live, protocol="wechatpay_v2", request=dict_to_xml(fields, calculate_signature_hmac(fields, API_KEY))
    )

    assert changed["verdict"] == lower["verdict"] == hmac["verdict"] == "invalid"
    assert "another string" in hints(changed)
    assert "lower-case MD5" in hints(lower)
    assert "MD5 vs HMAC-SHA256" in hints(hmac)


def test_wechatpay_v2_string_with_the_wrong_key_and_unsorted_keys(live, http):
    pasted = f"total_fee=100&mch_id={MCHID}&body=&key=not-the-key"

    answer = ask(http, live, protocol="wechatpay_v2", string_to_sign=pasted, signature="0" * 32)

    text = hints(answer)
    assert "keys not sorted" in text and "empty values included" in text
    assert "the key at the end is not the API v2 key set at registration" in text
    assert answer["expected_string_to_sign"] == f"mch_id={MCHID}&total_fee=100&key=<the API v2 key set at registration>"


def test_wechatpay_v2_unreadable_xml_is_malformed(live, http):
    answer = ask(http, live, protocol="wechatpay_v2", request="<xml><a>1</b></xml>")

    assert answer["verdict"] == "malformed" and "XML" in answer["message"]


# -- UnionPay ACP ---------------------------------------------------------------------------------------------


def consume(bank: UnionPayClient, **extra) -> dict:
    return bank.consume_params("DOC00000001", 100, "https://shop.test/f", "https://shop.test/b", **extra)


def test_unionpay_form_signed_by_the_reference_client_is_valid(live, http, bank):
    signed = consume(bank)

    raw = ask(http, live, protocol="unionpay", request=form_request("/gateway/api/frontTransReq.do", signed))
    bare = ask(http, live, protocol="unionpay", request=urlencode(signed))

    assert raw["verdict"] == bare["verdict"] == "valid", raw
    assert raw["merchant_id"] == MER_ID and "certId" in raw["key"]
    assert "signature=" not in raw["expected_string_to_sign"]


def test_unionpay_changed_amount_wrong_cert_id_and_the_string_signed_itself(live, http, bank):
    signed = consume(bank)
    unsigned = {k: v for k, v in signed.items() if k != "signature"}
    key = crypto.load_private_key((FIXTURES / "unionpay/demo/merchant_private_key.pem").read_text())
    whole = crypto.sign(key, sorted_query(unsigned, exclude=("signature",)).encode())

    changed = ask(http, live, protocol="unionpay", request=urlencode({**signed, "txnAmt": "1"}))
    cert = ask(http, live, protocol="unionpay", request=urlencode({**consume(bank, certId="123"), "certId": "123"}))
    direct = ask(http, live, protocol="unionpay", request=urlencode({**unsigned, "signature": whole}))

    assert changed["verdict"] == cert["verdict"] == direct["verdict"] == "invalid"
    assert "another string" in hints(changed)
    assert "certId does not match the merchant's cert" in hints(cert)
    assert "the string itself was signed" in hints(direct)
    digest = hashlib.sha256(sorted_query(unsigned, exclude=("signature",)).encode()).hexdigest()
    assert digest not in json.dumps(direct)  # the string is shown, not its digest


def test_unionpay_string_with_signature_included_and_an_unknown_mer_id(live, http):
    pasted = "merId=777290058110098&signature=abc&txnAmt=1&version=5.1.0"

    answer = ask(http, live, protocol="unionpay", string_to_sign=pasted, signature="AAAA")

    assert answer["verdict"] == "unknown_merchant"
    assert "signature included" in hints(answer)
    assert answer["expected_string_to_sign"] == "merId=777290058110098&txnAmt=1&version=5.1.0"
