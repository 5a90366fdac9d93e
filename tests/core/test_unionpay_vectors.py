"""The sandbox codec and the reference client reproduce fixtures/unionpay/vectors.json exactly.

The vectors come from scripts/make_unionpay_vectors.py (plain hashlib + `cryptography`, no sandbox code); here the
sandbox's pycryptodome codec, its UnionPayKeys and the reference merchant client must agree byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from sandbox.core import crypto
from sandbox.gateways.unionpay import codec
from sandbox.gateways.unionpay.keys import UnionPayKeys
from sandbox.merchant import unionpay
from sandbox.merchant.unionpay import UnionPayClient

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
VECTORS = json.loads((FIXTURES / "unionpay" / "vectors.json").read_text(encoding="utf-8"))["vectors"]
MERCHANT = json.loads((FIXTURES / "unionpay" / "demo" / "merchant.json").read_text(encoding="utf-8"))


def of_kind(*kinds: str) -> list:
    return [pytest.param(v, id=v["name"]) for v in VECTORS if v["kind"] in kinds]


def pem(path: str) -> str:
    return (FIXTURES / path).read_text()


def client(version: str = "5.1.0") -> UnionPayClient:
    return UnionPayClient.from_pem(
        MERCHANT["merchant_id"],
        pem("unionpay/demo/merchant_private_key.pem"),
        pem("unionpay/demo/merchant_cert.pem"),
        root_cert=pem("unionpay/sandbox/root.pem"),
        middle_cert=pem("unionpay/sandbox/middle.pem"),
        base_url="http://127.0.0.1:9",
        version=version,
    )


def tampered(signature: str) -> str:
    return ("B" if signature[0] != "B" else "C") + signature[1:]


# -- the vector file itself ---------------------------------------------------------------------------------------


def test_vector_file_is_exactly_what_the_generator_produces():
    spec = importlib.util.spec_from_file_location(
        "make_unionpay_vectors", ROOT / "scripts" / "make_unionpay_vectors.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (FIXTURES / "unionpay" / "vectors.json").read_text(encoding="utf-8") == module.render()


def test_vector_file_covers_the_cases_both_sides_must_agree_on():
    by_name = {v["name"]: v for v in VECTORS}
    assert {v["version"] for v in VECTORS} == {"5.1.0", "5.0.0"}
    assert {v["kind"] for v in VECTORS} == {"request", "answer", "notification"}
    consume = by_name["request_consume_510"]
    assert "orderDesc=测试订单 商品A" in consume["signing_string"]
    assert "riskRateInfo={commodityName=测试商品&commodityQty=1}" in consume["signing_string"]
    assert "reqReserved" not in consume["signing_string"]  # blank: left out
    assert len(by_name["request_refund_500_sha1"]["digest_hex"]) == 40
    answer = by_name["answer_query_510"]
    assert "signPubKeyCert=-----BEGIN CERTIFICATE-----\n" in answer["signing_string"]
    for v in VECTORS:
        assert "signature=" not in v["signing_string"]
        assert v["digest_hex"] == v["digest_hex"].lower()


# -- the sandbox codec ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", of_kind("request", "answer", "notification"))
def test_codec_reproduces_signing_string_digest_and_signature(vector):
    fields, version = vector["fields"], vector["version"]
    assert codec.signing_string(fields) == vector["signing_string"]
    assert codec.digest_hex(fields, version) == vector["digest_hex"]
    assert codec.sign(fields, crypto.load_private_key(pem(vector["key_file"])), version) == vector["signature"]
    public = crypto.load_public_key(pem(vector["cert_file"]))
    assert codec.verify(fields, public, version)
    assert not codec.verify({**fields, "signature": tampered(vector["signature"])}, public, version)
    assert not codec.verify({**fields, "txnTime": "20240520131416"}, public, version)


@pytest.mark.parametrize("vector", of_kind("answer", "notification"))
def test_sandbox_keys_sign_the_answer_exactly_as_the_vector(vector):
    keys = UnionPayKeys.load(str(FIXTURES))
    unsigned = {k: v for k, v in vector["fields"].items() if k not in ("signature", "signPubKeyCert")}
    signed = keys.signed(unsigned, vector["version"])
    assert signed == vector["fields"]
    assert signed["signPubKeyCert"] == pem(vector["cert_file"])


@pytest.mark.parametrize("vector", of_kind("answer"))
def test_codec_renders_and_parses_the_answer_body(vector):
    assert codec.render(vector["fields"]) == vector["body"]
    assert codec.parse(vector["body"]) == vector["fields"]


# -- the reference client -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", of_kind("request", "answer", "notification"))
def test_client_reproduces_signing_string_and_digest(vector):
    assert unionpay.signing_string(vector["fields"]) == vector["signing_string"]
    assert unionpay.digest_hex(vector["fields"], vector["version"]) == vector["digest_hex"]


@pytest.mark.parametrize("vector", of_kind("request"))
def test_client_signs_the_request_exactly_as_the_vector(vector):
    signed = client(vector["version"]).sign(vector["fields"])
    assert signed["signature"] == vector["signature"]
    assert signed == {k: v for k, v in vector["fields"].items() if v != ""}


@pytest.mark.parametrize("vector", of_kind("answer"))
def test_client_parses_and_verifies_the_answer(vector):
    assert unionpay.parse_answer(vector["body"]) == vector["fields"]
    assert unionpay.parse_answer("{" + vector["body"] + "}") == vector["fields"]  # the Java client's outer braces
    assert client().verify_answer(vector["body"]) == vector["fields"]


@pytest.mark.parametrize("vector", of_kind("notification"))
def test_client_verifies_the_notification_form(vector):
    form = dict(parse_qsl(vector["form_body"], keep_blank_values=True))
    assert "%2B" in vector["form_body"] or "+" not in vector["signature"]
    assert client().verify_notification(form) == vector["fields"]


# -- key=value answers round-trip ---------------------------------------------------------------------------------

ROUND_TRIP = {
    "respCode": "00",
    "respMsg": "成功[0000000]",
    "reqReserved": "{a=1&b=x=y&c={nested&deep}}",
    "riskRateInfo": "{commodityName=测试&shippingFlag=000}",
    "list": "[{k=v&k2=v2},{k=w}]",
    "signature": "ab+cd/ef==",
    "equals": "a=b=c",
    "signPubKeyCert": pem("unionpay/sandbox/sign.pem"),
    "crlf": "line1\r\nline2",
}


@pytest.mark.parametrize("parse", [codec.parse, unionpay.parse_answer], ids=["codec", "client"])
def test_parse_render_round_trips_awkward_values(parse):
    assert parse(codec.render(ROUND_TRIP)) == ROUND_TRIP
    assert parse(codec.render({"a": "", "b": "1"})) == {"b": "1"}  # render leaves blanks out
    assert parse("a=1&b=&c") == {"a": "1", "b": "", "c": ""}


def test_client_strips_only_one_whole_body_brace_wrapping():
    assert unionpay.parse_answer("{a=1&b={x=2}}") == {"a": "1", "b": "{x=2}"}
    assert unionpay.parse_answer("a={x}&b=2") == {"a": "{x}", "b": "2"}
