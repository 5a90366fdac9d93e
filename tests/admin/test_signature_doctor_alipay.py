"""The signature doctor on Alipay: gateway.do (RSA2, RSA, real SDK) and OpenAPI v3, bad input, namespaces."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from alipay import AliPay

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.merchant.alipay import AlipayClient
from sandbox.merchant.alipay_v3 import AlipayV3Client
from tests.admin.doctoring import ask, form_request, hints, raw_request, stranger_key

APP = "2021000000000001"
BIZ = {"out_trade_no": "DOC-1", "total_amount": "9.90", "subject": "Tea"}


@pytest.fixture
def merchant(alipay_demo) -> AlipayClient:
    return AlipayClient(
        APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://sandbox.test/gateway.do"
    )


@pytest.fixture
def v3(alipay_demo) -> AlipayV3Client:
    return AlipayV3Client(APP, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://sandbox.test")


def test_a_request_the_reference_client_signed_is_valid(live, http, merchant):
    params = merchant.signed_params("alipay.trade.precreate", BIZ)

    answer = ask(http, live, protocol="alipay", request=form_request("/gateway.do", params))

    assert answer["verdict"] == "valid", answer
    assert answer["merchant_id"] == APP
    assert answer["expected_string_to_sign"] == sorted_query(params)
    assert "app public key registered for app_id 2021000000000001" in answer["key"]
    assert answer["differences"] == [] and "received_string_to_sign" not in answer


def test_a_bare_query_from_the_real_sdk_is_valid(live, http, alipay_demo):
    sdk = AliPay(
        appid=APP,
        app_private_key_string=alipay_demo.app_private_key,
        alipay_public_key_string=alipay_demo.alipay_public_key,
    )
    order_string = sdk.api_alipay_trade_page_pay(subject="Tea", out_trade_no="DOC-2", total_amount="1.00")

    assert ask(http, live, protocol="alipay", request=order_string)["verdict"] == "valid"
    url = f"http://sandbox.test/gateway.do?{order_string}"
    assert ask(http, live, protocol="alipay", request=url)["verdict"] == "valid"


def test_a_field_changed_after_signing_is_invalid_and_the_difference_is_found(live, http, merchant):
    params = merchant.signed_params("alipay.trade.precreate", BIZ)
    signed = sorted_query(params)
    params["biz_content"] = params["biz_content"].replace("9.90", "0.01")

    alone = ask(http, live, protocol="alipay", request=form_request("/gateway.do", params))
    both = ask(http, live, protocol="alipay", request=form_request("/gateway.do", params), string_to_sign=signed)

    assert alone["verdict"] == "invalid"
    assert "made with the registered key, but over another string" in hints(alone)
    assert both["verdict"] == "invalid"
    [difference] = both["differences"]
    assert difference["expected"].startswith("biz_content=") and "0.01" in difference["expected"]
    assert "9.90" in difference["received"]
    assert difference["at"] == both["expected_string_to_sign"].index("0.01")
    assert "value of biz_content differs" in difference["hint"]


def test_rsa_signature_sent_as_rsa2_is_named(live, http, merchant, alipay_demo):
    params = merchant.signed_params("alipay.trade.query", {"out_trade_no": "DOC-1"})
    key = crypto.load_private_key(alipay_demo.app_private_key)
    params["sign"] = crypto.sign(key, sorted_query(params).encode(), "SHA1")  # SHA1withRSA, sign_type still RSA2

    answer = ask(http, live, protocol="alipay", request=urlencode(params))

    assert answer["verdict"] == "invalid"
    assert "RSA vs RSA2: sign_type says RSA2" in hints(answer)


def test_a_usual_mistake_is_recognised_from_the_signature_alone(live, http, merchant, alipay_demo):
    params = merchant.signed_params("alipay.trade.query", {"out_trade_no": "DOC-1"})
    wrong = sorted_query(params, exclude=("sign", "sign_type"))  # the notification rule, applied to a request
    params["sign"] = crypto.sign(crypto.load_private_key(alipay_demo.app_private_key), wrong.encode())

    answer = ask(http, live, protocol="alipay", request=urlencode(params))

    assert answer["verdict"] == "invalid"
    assert "sign_type left out" in hints(answer)
    assert answer["received_string_to_sign"] == wrong
    assert [d["expected"] for d in answer["differences"]] == ["sign_type=RSA2"]


def test_a_string_with_the_usual_mistakes_gets_each_hint(live, http):
    pasted = "method=alipay.trade.query&app_id=2021000000000001&sign=abc&notify_url=&charset=utf%2D8"

    answer = ask(http, live, protocol="alipay", string_to_sign=pasted)

    assert answer["verdict"] == "unsigned"
    text = hints(answer)
    for expected in ("keys not sorted", "sign included", "empty values included", "URL-encoded", "sign_type left"):
        assert expected in text, text
    assert answer["expected_string_to_sign"] == "app_id=2021000000000001&charset=utf-8&method=alipay.trade.query"


def test_a_signature_made_with_the_demo_key_for_another_app_is_named(live, http, space, merchant):
    team = space("team-doc")
    stranger = stranger_key()
    team.api(
        "POST",
        "/merchants",
        json={"gateway": "alipay", "merchant_id": "2021000000000555", "app_public_key": crypto.public_pem(stranger)},
    )
    params = {**merchant.signed_params("alipay.trade.query", {"out_trade_no": "DOC-1"}), "app_id": "2021000000000555"}
    params["sign"] = merchant.signed_params("alipay.trade.query", {}, app_id="x")["sign"]  # the demo key signs

    answer = ask(http, live, "team-doc", protocol="alipay", request=urlencode(params))

    assert answer["verdict"] == "invalid"
    assert "demo merchant's TEST-ONLY private key" in hints(answer)


def test_a_signature_from_no_known_key_and_broken_base64(live, http, merchant):
    params = merchant.signed_params("alipay.trade.query", {"out_trade_no": "DOC-1"})
    content = sorted_query(params).encode()
    foreign = {**params, "sign": crypto.sign(stranger_key(), content)}
    spaced = {**params, "sign": params["sign"].replace("+", " ") + " x"}

    assert "verifies against none of the keys" in hints(ask(http, live, protocol="alipay", request=urlencode(foreign)))
    broken = ask(http, live, protocol="alipay", string_to_sign=sorted_query(params), signature=spaced["sign"])
    assert broken["verdict"] == "malformed"
    assert "base64 broken" in hints(broken)


def test_alipay_v3_request_from_the_reference_client_is_valid_and_a_changed_body_is_found(live, http, v3):
    signed = v3.sign("POST", "/v3/alipay/trade/query", {"out_trade_no": "DOC-1"})
    request = raw_request(signed.method, signed.path_and_query, signed.headers, signed.body)
    tampered = request.replace("DOC-1", "DOC-2")
    auth = signed.headers["authorization"].split(" ", 1)[1].rpartition(",sign=")[0]
    original = f"{auth}\nPOST\n/v3/alipay/trade/query\n{signed.body.decode()}\n"

    good = ask(http, live, protocol="alipay_v3", request=request)
    bad = ask(http, live, protocol="alipay_v3", request=tampered, string_to_sign=original)

    assert good["verdict"] == "valid", good
    assert good["expected_string_to_sign"] == original
    assert bad["verdict"] == "invalid"
    [difference] = bad["differences"]
    assert difference["line"] == 4 and "DOC-2" in difference["expected"] and "DOC-1" in difference["received"]
    assert "the body differs" in difference["hint"]


def test_alipay_v3_body_re_serialised_after_signing_is_recognised(live, http, v3):
    signed = v3.sign("POST", "/v3/alipay/trade/query", {"out_trade_no": "DOC-1", "query_options": ["a"]})
    spaced = json.dumps(json.loads(signed.body), ensure_ascii=False)  # what a second serialiser sends

    answer = ask(
        http, live, protocol="alipay_v3", request=raw_request("POST", signed.path_and_query, signed.headers, spaced)
    )

    assert answer["verdict"] == "invalid"
    assert "the body differs from what was signed" in hints(answer)
    assert signed.body.decode() in answer["received_string_to_sign"]


def test_alipay_v3_string_without_its_final_newline_gets_the_hint(live, http):
    pasted = "app_id=2021000000000001,nonce=n1,timestamp=1\nGET\n/v3/alipay/trade/query?out_trade_no=X\n"

    answer = ask(http, live, protocol="alipay_v3", string_to_sign=pasted, signature="AAAA")

    assert answer["merchant_id"] == APP
    assert answer["expected_string_to_sign"] == pasted + "\n"
    assert "missing trailing newline" in hints(answer)


def test_an_unknown_app_and_namespaces_isolate(live, http, space, merchant, alipay_demo):
    space("team-iso").register("alipay", "2021000000000777")
    params = merchant.signed_params("alipay.trade.query", {"out_trade_no": "DOC-1"}, app_id="2021000000000777")
    request = urlencode(params)

    assert ask(http, live, "team-iso", protocol="alipay", request=request)["verdict"] == "valid"
    elsewhere = ask(http, live, protocol="alipay", request=request)
    assert elsewhere["verdict"] == "unknown_merchant"
    assert "2021000000000777 is not registered in namespace default" in elsewhere["message"]
    assert (
        ask(http, live, "team-iso", protocol="alipay", request=urlencode(merchant.signed_params("x", {})))["verdict"]
        == "unknown_merchant"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"protocol": "paypal", "request": "x"}, "protocol"),
        ({"request": "x"}, "protocol"),
        ({"protocol": "alipay"}, "request"),
        ({"protocol": "alipay", "request": 7}, "request"),
        ({"protocol": "alipay", "request": "   "}, "request"),
        ({"protocol": "alipay", "request": "a=1", "signature": "x"}, "signature"),
        ({"protocol": "wechatpay_v3", "request": '{"amount": 1}'}, "request"),
        ({"protocol": "alipay_v3", "request": '{"out_trade_no": "X"}'}, "request"),
        ({"protocol": "alipay", "string_to_sign": "a=1&sign_type=RSA2", "signature": "AAAA"}, "merchant_id"),
        ({"protocol": "wechatpay_v3", "request": "POST /v3/x HTTP/1.1\nnot a header\n\n{}"}, "request"),
    ],
)
def test_input_the_doctor_cannot_read_is_a_400_naming_the_field(live, http, body, field):
    answer = ask(http, live, status=400, **body)

    assert answer["error"]["code"] in ("INVALID_PARAMETER", "MISSING_PARAMETER")
    assert field in answer["error"]["message"]


def test_a_v3_request_without_authorization_is_unsigned_with_the_string_to_sign(live, http):
    answer = ask(http, live, protocol="alipay_v3", request="https://openapi.alipay.com/v3/alipay/trade/query?a=1")

    assert answer["verdict"] == "unsigned"
    assert answer["expected_string_to_sign"] == "<authString>\nGET\n/v3/alipay/trade/query?a=1\n\n"
    assert "no Authorization header" in answer["message"]


def test_a_body_that_is_not_json_is_a_400(live, http):
    reply = http.post(
        f"{live.url}/_sandbox/signature/doctor", data="{", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "INVALID_PARAMETER"
