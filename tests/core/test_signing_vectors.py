"""The sandbox reproduces the independent known-answer vectors in fixtures/alipay/vectors.json exactly.

The vectors come from scripts/make_vectors.py, which uses only plain Python and `cryptography`; here the
sandbox's own builders, its pycryptodome signer and the reference merchant client must agree byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.gateways.alipay import codec, notify
from sandbox.gateways.alipay.keys import HASH_OF, AlipayKeys, cert_sn
from sandbox.merchant.alipay import AlipayApiError, AlipayClient, AlipaySignatureError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
VECTORS = json.loads((FIXTURES / "alipay" / "vectors.json").read_text(encoding="utf-8"))["vectors"]
APP_ID = "2021000000000001"


def of_kind(*kinds: str) -> list:
    return [pytest.param(v, id=v["name"]) for v in VECTORS if v["kind"] in kinds]


def pem(path: str) -> str:
    return (FIXTURES / path).read_text()


def tampered(signature: str) -> str:
    """The same signature with one base64 character changed (still valid base64)."""
    first = "B" if signature[0] != "B" else "C"
    return first + signature[1:]


@pytest.fixture(scope="module")
def alipay_keys() -> AlipayKeys:
    return AlipayKeys.load(str(FIXTURES))


def reference_client(alipay_demo, sign_type: str) -> AlipayClient:
    return AlipayClient(
        alipay_demo.app_id,
        alipay_demo.app_private_key,
        alipay_demo.alipay_public_key,
        "http://127.0.0.1:9/gateway.do",
        sign_type=sign_type,
    )


# -- the vector file itself -------------------------------------------------------------------------


def test_vector_file_is_exactly_what_the_generator_produces():
    spec = importlib.util.spec_from_file_location("make_vectors", ROOT / "scripts" / "make_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (FIXTURES / "alipay" / "vectors.json").read_text(encoding="utf-8") == module.render()


def test_vector_file_covers_every_case_the_sandbox_must_agree_on():
    names = {v["name"] for v in VECTORS}
    assert {v["kind"] for v in VECTORS} == {"request", "notification", "response", "cert_sn"}
    assert {v["sign_type"] for v in VECTORS if "sign_type" in v} == {"RSA2", "RSA"}
    assert {"app_cert_sn_demo", "alipay_root_cert_sn_sandbox"} <= names
    fzlee = next(v for v in VECTORS if v["name"] == "request_fzlee_page_pay_rsa2")
    official = next(v for v in VECTORS if v["name"] == "request_official_precreate_rsa2")
    assert "\\u6d4b" in fzlee["params"]["biz_content"]  # python-alipay-sdk escapes Chinese
    assert "扫码点餐" in official["params"]["biz_content"]  # the official SDK sends it raw


# -- requests (merchant signs with the app key; sandbox verifies) ------------------------------------


@pytest.mark.parametrize("vector", of_kind("request"))
def test_request_signing_string_matches_vector(vector):
    params = vector["params"]
    assert codec.signing_string(params) == vector["canonical"]
    assert sorted_query(params, exclude=("sign",)) == vector["canonical"]
    assert "sign_type=" + vector["sign_type"] in vector["canonical"].split("&")
    assert not any(part.startswith("sign=") for part in vector["canonical"].split("&"))


@pytest.mark.parametrize("vector", of_kind("request"))
def test_request_signature_matches_vector_and_verifies_with_app_public_key(vector):
    hash_name = HASH_OF[vector["sign_type"]]
    private_key = crypto.load_private_key(pem(vector["key_file"]))
    public_key = crypto.load_public_key(pem(vector["verify_key_file"]))
    data = vector["canonical"].encode("utf-8")
    assert crypto.sign(private_key, data, hash_name) == vector["signature"]
    assert crypto.verify(public_key, data, vector["signature"], hash_name)
    assert not crypto.verify(public_key, data, tampered(vector["signature"]), hash_name)
    assert not crypto.verify(public_key, data + b" ", vector["signature"], hash_name)


def test_empty_request_values_are_left_out_of_the_signing_string():
    vector = next(v for v in VECTORS if v["name"] == "request_empty_values_dropped")
    assert vector["params"]["notify_url"] == "" and vector["params"]["app_auth_token"] == ""
    assert "notify_url" not in vector["canonical"] and "app_auth_token" not in vector["canonical"]
    assert '"refund_reason":""' in vector["canonical"]  # inside biz_content the JSON text is signed as is


@pytest.mark.parametrize("vector", of_kind("request"))
def test_gateway_accepts_the_vector_request_signature(vector, client, alipay_demo):
    """The vector request, sent as the SDK would, gets past signature verification."""
    params = vector["params"]
    if "format" in params:  # the official SDK: common params in the query, biz_content in the form body
        query = {k: v for k, v in params.items() if k != "biz_content"}
        reply = client.post(
            "/gateway.do?" + urlencode(query),
            data=urlencode({"biz_content": params["biz_content"]}),
            content_type="application/x-www-form-urlencoded;charset=utf-8",
        )
    else:  # python-alipay-sdk: everything in the query string
        reply = client.get("/gateway.do?" + urlencode(params))
    assert reply.status_code in (200, 302)
    if reply.status_code == 302:  # page.pay redirects the browser to the cashier
        assert reply.headers["Location"].startswith("/cashier/alipay/")
        return
    body = reply.get_data(as_text=True)
    assert "isv.invalid-signature" not in body
    document = json.loads(body)
    key = codec.response_key(params["method"])
    # The answer carries the request's sign_type, and the reference client verifies it with the Alipay key.
    try:
        inner = reference_client(alipay_demo, vector["sign_type"]).parse_response(body, params["method"])
    except AlipayApiError as error:
        inner = error.response
    assert inner == document[key]
    assert inner.get("sub_code", "") not in ("isv.invalid-signature", "isv.invalid-signature-type")


# -- notifications and return_url (sandbox signs with the Alipay key; merchant verifies) ----------------


@pytest.mark.parametrize("vector", of_kind("notification"))
def test_notification_signing_string_excludes_sign_and_sign_type(vector):
    params = vector["params"]
    assert sorted_query(params, exclude=("sign", "sign_type")) == vector["canonical"]
    assert "sign_type=" not in vector["canonical"]
    assert not any(part.startswith("sign=") for part in vector["canonical"].split("&"))


@pytest.mark.parametrize("vector", of_kind("notification"))
def test_sandbox_signs_notification_exactly_as_vector(vector, alipay_keys):
    fields = {k: v for k, v in vector["params"].items() if k not in ("sign", "sign_type")}
    assert notify.signed(fields, alipay_keys, vector["sign_type"]) == vector["params"]


@pytest.mark.parametrize("vector", of_kind("notification"))
def test_notification_signature_matches_vector(vector):
    hash_name = HASH_OF[vector["sign_type"]]
    private_key = crypto.load_private_key(pem(vector["key_file"]))
    public_key = crypto.load_public_key(pem(vector["verify_key_file"]))
    data = vector["canonical"].encode("utf-8")
    assert crypto.sign(private_key, data, hash_name) == vector["signature"]
    assert crypto.verify(public_key, data, vector["signature"], hash_name)


@pytest.mark.parametrize("vector", of_kind("notification"))
def test_reference_client_accepts_vector_notification(vector, alipay_demo):
    fields = reference_client(alipay_demo, vector["sign_type"]).verify_notification(vector["params"])
    assert fields == {k: v for k, v in vector["params"].items() if k not in ("sign", "sign_type")}


@pytest.mark.parametrize("vector", of_kind("notification"))
def test_reference_client_refuses_vector_notification_with_one_field_changed(vector, alipay_demo):
    forged = {**vector["params"], "total_amount": "999.99"}
    with pytest.raises(AlipaySignatureError):
        reference_client(alipay_demo, vector["sign_type"]).verify_notification(forged)


@pytest.mark.parametrize("vector", of_kind("notification"))
def test_reference_client_refuses_vector_notification_with_tampered_signature(vector, alipay_demo):
    forged = {**vector["params"], "sign": tampered(vector["signature"])}
    with pytest.raises(AlipaySignatureError):
        reference_client(alipay_demo, vector["sign_type"]).verify_notification(forged)


# -- responses (the inner object text is signed as is) ---------------------------------------------------


@pytest.mark.parametrize("vector", of_kind("response"))
def test_sandbox_renders_and_signs_response_exactly_as_vector(vector, alipay_keys):
    assert codec.dumps(vector["params"]) == vector["canonical"]
    assert alipay_keys.sign(vector["canonical"], vector["sign_type"]) == vector["signature"]
    body = codec.envelope(vector["response_key"], vector["params"], alipay_keys, vector["sign_type"])
    assert body == vector["body"]


@pytest.mark.parametrize("vector", of_kind("response"))
def test_reference_client_verifies_vector_response(vector, alipay_demo):
    client = reference_client(alipay_demo, vector["sign_type"])
    if vector["params"]["code"] == "10000":
        assert client.parse_response(vector["body"], vector["method"]) == vector["params"]
    else:  # a failure is raised only after its signature verified
        with pytest.raises(AlipayApiError) as caught:
            client.parse_response(vector["body"], vector["method"])
        assert caught.value.response == vector["params"]


@pytest.mark.parametrize("vector", of_kind("response"))
def test_reference_client_refuses_vector_response_with_tampered_signature(vector, alipay_demo):
    body = vector["body"].replace(vector["signature"], tampered(vector["signature"]))
    with pytest.raises(AlipaySignatureError):
        reference_client(alipay_demo, vector["sign_type"]).parse_response(body, vector["method"])


# -- certificate SNs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", of_kind("cert_sn"))
def test_cert_sn_matches_vector(vector):
    assert cert_sn(pem(vector["cert_file"])) == vector["sn"]


def test_sandbox_keys_report_the_vector_sns(alipay_keys):
    by_name = {v["name"]: v for v in VECTORS}
    assert alipay_keys.alipay_cert_sn == by_name["alipay_cert_sn_sandbox"]["sn"]
    assert alipay_keys.root_cert_sn == by_name["alipay_root_cert_sn_sandbox"]["sn"]


def test_demo_merchant_is_registered_with_the_vector_app_cert_sn(sandbox):
    merchant = sandbox.merchants.get("alipay", APP_ID)
    assert merchant["app_cert_sn"] == next(v["sn"] for v in VECTORS if v["name"] == "app_cert_sn_demo")


# -- the real SDKs agree with the vectors (skipped when an SDK is not importable) -----------------------


def test_python_alipay_sdk_signs_and_verifies_like_the_vectors(alipay_demo):
    try:
        from alipay import AliPay
    except ImportError:
        pytest.skip("python-alipay-sdk is not importable (the package clash: docs/protocols/alipay.md#sdk-quirks)")
    for vector in VECTORS:
        if vector["kind"] not in ("request", "notification"):
            continue
        sdk = AliPay(
            appid=APP_ID,
            app_notify_url=None,
            app_private_key_string=alipay_demo.app_private_key,
            alipay_public_key_string=alipay_demo.alipay_public_key,
            sign_type=vector["sign_type"],
        )
        if vector["kind"] == "request":
            unsigned = {k: v for k, v in vector["params"].items() if k != "sign" and v != ""}
            assert sdk._sign(vector["canonical"]) == vector["signature"], vector["name"]
            assert sdk.sign_data(unsigned).endswith("&sign=" + urlencode({"": vector["signature"]})[1:])
        else:
            data = {k: v for k, v in vector["params"].items() if k != "sign"}
            assert sdk.verify(data, vector["signature"]), vector["name"]


def test_official_sdk_verifies_vector_responses_and_notifications(alipay_demo):
    signature_utils = pytest.importorskip("alipay.aop.api.util.SignatureUtils")
    for vector in VECTORS:
        if vector["kind"] in ("response", "notification"):
            message = vector["canonical"].encode("utf-8")
            assert signature_utils.verify_with_rsa(alipay_demo.alipay_public_key, message, vector["signature"])
