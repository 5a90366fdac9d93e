"""A v3 request that does not authenticate gets WeChat's own 401 SIGN_ERROR body: its words and its `detail`
(`{detail: {issue}, field, location, sign_information}`), with the sandbox's explanation after WeChat's words.

`sign_information` is what WeChat says it verified: `sign_message_length` is the byte length of the string the
server built, `truncated_sign_message` that string with the body cut to its first 8 characters (as real answers
show, e.g. wechatpay-axios-plugin#58: `...\\n{"notify\\n`).
"""

from __future__ import annotations

import json
import time

import pytest

from sandbox.core import crypto
from tests.gateways.wechatpay.test_v3_bad_input import (
    KEY,
    MCHID,
    SCHEME,
    SERIAL,
    WRONG_KEY,
    authorization,
    prepay_body,
    send,
)

NONCE = "593BEC0C930BF1AFEB40B4A08C8FB242"
NATIVE = "/v3/pay/transactions/native"


def refused(reply) -> dict:
    assert reply.status_code == 401, reply.get_data(as_text=True)
    assert reply.mimetype == "application/json"
    body = reply.get_json()
    assert body["code"] == "SIGN_ERROR"
    return body


def signed_string(method: str, url: str, stamp: int, body: bytes) -> bytes:
    return f"{method}\n{url}\n{stamp}\n{NONCE}\n".encode() + body + b"\n"


def test_a_wrong_signature_answers_wechats_detail_and_the_string_the_sandbox_verified(client):
    stamp = int(time.time())
    body = json.dumps(prepay_body("native"), ensure_ascii=False).encode()
    answer = refused(send(client, "POST", NATIVE, raw=body, key=WRONG_KEY, timestamp=stamp))
    built = signed_string("POST", NATIVE, stamp, body)
    assert answer["detail"] == {
        "detail": {"issue": "sign not match"},
        "field": "signature",
        "location": "authorization",
        "sign_information": {
            "method": "POST",
            "sign_message_length": len(built),
            "truncated_sign_message": f'POST\n{NATIVE}\n{stamp}\n{NONCE}\n{{"notify\n',
            "url": NATIVE,
        },
    }
    message = answer["message"]
    assert message.startswith("错误的签名，验签失败: the signature does not verify")
    assert repr(built.decode()) in message  # the whole string, to diff with what was signed
    assert f"serial_no {SERIAL}" in message
    assert crypto.fingerprint(KEY) in message  # which key the sandbox verified with


def test_the_length_counts_bytes_and_the_quote_cuts_characters(client):
    stamp = int(time.time())
    body = json.dumps({"描述": "咖啡", **prepay_body("native")}, ensure_ascii=False).encode()
    info = refused(send(client, "POST", NATIVE, raw=body, key=WRONG_KEY, timestamp=stamp))["detail"]
    assert info["sign_information"]["sign_message_length"] == len(signed_string("POST", NATIVE, stamp, body))
    assert info["sign_information"]["truncated_sign_message"].endswith('\n{"描述": "\n')  # 8 characters, 14 bytes


def test_a_get_quotes_its_empty_body_as_the_last_newline(client):
    url, stamp = f"/v3/pay/transactions/out-trade-no/O-1?mchid={MCHID}", int(time.time())
    info = refused(send(client, "GET", url, key=WRONG_KEY, timestamp=stamp))["detail"]["sign_information"]
    assert info == {
        "method": "GET",
        "sign_message_length": len(signed_string("GET", url, stamp, b"")),
        "truncated_sign_message": f"GET\n{url}\n{stamp}\n{NONCE}\n\n",
        "url": url,
    }


def test_another_serial_no_names_the_registered_one(client):
    answer = refused(send(client, "POST", NATIVE, prepay_body("native"), serial="0123456789ABCDEF"))
    assert answer["message"].startswith("商户证书序列号有误: serial_no 0123456789ABCDEF")
    assert SERIAL in answer["message"]
    assert (answer["detail"]["field"], answer["detail"]["location"]) == ("serial_no", "authorization")
    assert answer["detail"]["sign_information"]["url"] == NATIVE


@pytest.mark.parametrize("offset", [-3600, 3600], ids=["stale", "future"])
def test_a_timestamp_five_minutes_off(client, offset):
    stamp = int(time.time()) + offset
    answer = refused(send(client, "POST", NATIVE, prepay_body("native"), timestamp=stamp))
    assert answer["message"].startswith("Http头Authorization中的timestamp与发起请求的时间不得超过5分钟: ")
    assert answer["detail"]["field"] == "timestamp"
    assert answer["detail"]["sign_information"]["truncated_sign_message"].startswith(f"POST\n{NATIVE}\n{stamp}\n")


@pytest.mark.parametrize(
    "stamp",
    ["9" * 400, "1" * 13, "-1700000000", "1.7e9", "0x65", " 1700000000", "١٧٠٠٠٠٠٠٠٠"],
    ids=["400-digits", "13-digits", "negative", "float", "hex", "space", "arabic-digits"],
)
def test_a_timestamp_that_is_no_unix_time_is_a_sign_error_not_a_crash(client, stamp):
    header = authorization("POST", NATIVE, b"{}", timestamp=0).replace('timestamp="0"', f'timestamp="{stamp}"')
    reply = client.post(NATIVE, data=b"{}", headers={"Authorization": header.encode("utf-8").decode("latin-1")})
    answer = refused(reply)
    assert answer["detail"]["field"] == "timestamp"
    assert "not unix seconds" in answer["message"]


@pytest.mark.parametrize(
    ("header", "field", "location"),
    [
        (None, "Authorization", "header"),
        ("Bearer abc", "Authorization", "header"),
        (f'{SCHEME} mchid="{MCHID}",signature="x"', "nonce_str", "authorization"),
    ],
    ids=["missing", "another-scheme", "lacking-fields"],
)
def test_an_authorization_header_that_cannot_be_read_names_what_to_fix(client, header, field, location):
    headers = {"Authorization": header} if header else {}
    answer = refused(client.post(NATIVE, data=b"{}", headers=headers))
    assert (answer["detail"]["field"], answer["detail"]["location"]) == (field, location)
    assert "sign_information" not in answer["detail"]  # no string to verify could be built
    assert answer["message"].startswith("Http头Authorization")
