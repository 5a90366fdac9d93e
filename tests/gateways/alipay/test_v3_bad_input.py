"""Bad input to /v3/alipay always gets Alipay v3's own error: a 4xx `{code, message, links}` JSON body, signed
headers, a message that says what to fix. Never a 500, never HTML, never a traceback.

Each request is built correctly and signed with the demo app's TEST-ONLY key, then exactly one thing is changed.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.core import crypto
from sandbox.merchant.alipay_v3 import AlipayV3Client

APP_ID = "2021000000000001"
QUERY = "/v3/alipay/trade/query"
CREATE = "/v3/alipay/trade/create"
ORDER = {"out_trade_no": "BAD-V3-1", "total_amount": "1.00", "subject": "Bun", "buyer_id": "2088000000000042"}


def now_ms() -> int:
    return int(time.time() * 1000)


def authorization(key, auth_string: str, method: str, target: str, body: bytes = b"", token: str = "") -> str:
    message = f"{auth_string}\n{method}\n{target}\n".encode() + body + b"\n" + (f"{token}\n".encode() if token else b"")
    return f"ALIPAY-SHA256withRSA {auth_string},sign={crypto.sign(key, message)}"


@pytest.fixture
def key(alipay_demo):
    return crypto.load_private_key(alipay_demo.app_private_key)


@pytest.fixture
def v3(alipay_demo) -> AlipayV3Client:
    return AlipayV3Client(alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "")


@pytest.fixture
def send(client):
    """POST (or any method) to the app with the given headers; answers (status, JSON body, headers)."""

    def send(path: str, body: bytes = b"", method: str = "POST", headers: dict | None = None):
        reply = client.open(
            path, method=method, data=body, headers={"content-type": "application/json", **(headers or {})}
        )
        assert reply.status_code < 500, reply.get_data(as_text=True)
        assert reply.content_type.startswith("application/json"), reply.get_data(as_text=True)
        document = json.loads(reply.get_data())
        return reply.status_code, document, reply.headers

    return send


def signed(key, method: str, target: str, body: bytes = b"", pairs: str = "", **headers) -> dict:
    auth = pairs or f"app_id={APP_ID},nonce={uuid.uuid4()},timestamp={now_ms()}"
    return {"authorization": authorization(key, auth, method, target, body), **headers}


def expect(answer, status: int, code: str, *words: str) -> str:
    got_status, document, headers = answer
    assert (got_status, document["code"]) == (status, code), document
    assert set(document) == {"code", "message", "links"}
    assert headers["alipay-signature"] and headers["alipay-trace-id"]
    for word in words:
        assert word in document["message"], document["message"]
    return document["message"]


# -- the Authorization header -----------------------------------------------------------------------


def test_no_authorization_is_missing_signature_and_shows_the_form(send):
    expect(send(QUERY, b"{}"), 401, "missing-signature", "ALIPAY-SHA256withRSA app_id=")


@pytest.mark.parametrize(
    ("header", "code", "word"),
    [
        ("WECHATPAY2-SHA256-RSA2048 mchid=1", "invalid-signature-type", "must be ALIPAY-SHA256withRSA"),
        ("ALIPAY-SHA256withRSA app_id=2021000000000001,nonce=a,timestamp=1", "missing-signature", ",sign="),
        ("ALIPAY-SHA256withRSA app_id=2021000000000001,sign=", "missing-signature", ",sign="),
        ("ALIPAY-SHA256withRSA garbage,sign=abc", "invalid-signature", "'garbage' is not a k=v pair"),
        ("ALIPAY-SHA256withRSA " + "a=b," * 2000 + "sign=x", "invalid-signature", "characters long"),
    ],
    ids=["scheme", "no-sign", "empty-sign", "not-pairs", "huge"],
)
def test_a_garbled_authorization_is_a_401_that_says_what_is_wrong(send, header, code, word):
    expect(send(QUERY, b"{}", headers={"authorization": header}), 401, code, word)


@pytest.mark.parametrize(
    ("pairs", "code", "word"),
    [
        ("nonce=n,timestamp={now}", "missing-app-id", "app_id"),
        ("app_id=2021000000000001,timestamp={now}", "missing-nonce", "nonce"),
        ("app_id=2021000000000001,nonce=n", "missing-timestamp", "milliseconds"),
        ("app_id=2021000000000001,nonce=n,timestamp=yesterday", "invalid-timestamp", "Unix milliseconds"),
        ("app_id=2021000000000001,nonce=n,timestamp=" + "9" * 400, "invalid-timestamp", "Unix milliseconds"),
        ("app_id=2021000000000001,nonce=n,timestamp=²", "invalid-timestamp", "Unix milliseconds"),
        ("app_id=2021000000000001,nonce=n,timestamp={now},expired_seconds=-5", "invalid-parameter", "expired_seconds"),
        ("app_id=2021000000000009,nonce=n,timestamp={now}", "invalid-app-id", "POST /_sandbox/merchants"),
    ],
    ids=[
        "app_id",
        "nonce",
        "timestamp",
        "timestamp-word",
        "timestamp-400-digits",
        "timestamp-superscript",
        "expired-negative",
        "unknown-app",
    ],
)
def test_a_missing_or_malformed_auth_pair_is_a_400(send, key, pairs, code, word):
    pairs = pairs.replace("{now}", str(now_ms()))
    expect(send(QUERY, b"{}", headers=signed(key, "POST", QUERY, b"{}", pairs)), 400, code, word)


@pytest.mark.parametrize("offset_s", [-301, 301, -10 * 24 * 3600])
def test_a_timestamp_too_old_or_in_the_future_is_refused(send, key, offset_s):
    pairs = f"app_id={APP_ID},nonce=n,timestamp={now_ms() + offset_s * 1000}"
    message = expect(send(QUERY, b"{}", headers=signed(key, "POST", QUERY, b"{}", pairs)), 400, "invalid-timestamp")
    assert "check the host's clock" in message


def test_expired_seconds_lengthens_how_long_a_signed_request_stays_valid(send, key):
    pairs = f"app_id={APP_ID},nonce=n,timestamp={now_ms() - 3600_000},expired_seconds=7200"
    body = json.dumps(ORDER).encode()
    status, document, _ = send(CREATE, body, headers=signed(key, "POST", CREATE, body, pairs))
    assert status == 200, document


def test_pairs_in_any_order_and_gopays_nonce_str_verify_against_the_raw_auth_string(send, key):
    body = json.dumps({**ORDER, "out_trade_no": "BAD-V3-ORDER"}).encode()
    pairs = f"timestamp={now_ms()},nonce_str={uuid.uuid4().hex},app_id={APP_ID}"
    status, document, _ = send(CREATE, body, headers=signed(key, "POST", CREATE, body, pairs))
    assert status == 200, document


def test_a_bad_signature_names_the_string_verified_and_the_key(send, key):
    headers = signed(key, "POST", QUERY, b'{"out_trade_no":"A"}')  # signed over another body than the one sent
    message = expect(send(QUERY, b'{"out_trade_no":"B"}', headers=headers), 401, "invalid-signature")
    assert '\\nPOST\\n/v3/alipay/trade/query\\n{"out_trade_no":"B"}\\n' in message
    assert "app public key registered for app_id 2021000000000001 (fingerprint" in message


def test_the_query_is_verified_exactly_as_sent_with_plus_or_percent_spaces(send, key, client):
    for target in (QUERY + "?out_trade_no=A+B", QUERY + "?out_trade_no=A%20B"):
        status, document, _ = send(target, method="GET", headers=signed(key, "GET", target))
        assert (status, document["code"]) == (400, "ACQ.TRADE_NOT_EXIST"), document  # verified; no such trade
        assert "A B" in document["message"]


def test_an_app_auth_token_is_part_of_the_signed_string(send, key):
    body = json.dumps({**ORDER, "out_trade_no": "BAD-V3-TOKEN"}).encode()
    auth = f"app_id={APP_ID},nonce=n,timestamp={now_ms()}"
    good = {
        "authorization": authorization(key, auth, "POST", CREATE, body, "TOKEN1"),
        "alipay-app-auth-token": "TOKEN1",
    }
    assert send(CREATE, body, headers=good)[0] == 200
    unsigned_token = {**signed(key, "POST", CREATE, body, auth), "alipay-app-auth-token": "TOKEN1"}
    message = expect(send(CREATE, body, headers=unsigned_token), 401, "invalid-signature")
    assert message.endswith("\\nTOKEN1\\n'")


# -- certificate mode ---------------------------------------------------------------------------------


def test_a_root_cert_sn_without_an_app_cert_sn_is_missing_app_cert_sn(send, key):
    headers = signed(key, "POST", QUERY, b"{}", **{"alipay-root-cert-sn": "abc"})
    expect(send(QUERY, b"{}", headers=headers), 401, "missing-app-cert-sn", "configure the app certificate")


def test_a_root_cert_sn_of_another_root_is_refused(send, key, sandbox):
    app_sn = sandbox.merchants.get("alipay", APP_ID)["app_cert_sn"]
    pairs = f"app_id={APP_ID},app_cert_sn={app_sn},nonce=n,timestamp={now_ms()}"
    headers = signed(key, "POST", QUERY, b"{}", pairs, **{"alipay-root-cert-sn": "0123456789abcdef"})
    expect(send(QUERY, b"{}", headers=headers), 401, "invalid-alipay-root-cert-sn", "alipay_root_cert")


def test_a_certificate_mode_answer_carries_alipay_sn(send, key, sandbox):
    keys = sandbox.gateways["alipay"].keys
    app_sn = sandbox.merchants.get("alipay", APP_ID)["app_cert_sn"]
    body = json.dumps({**ORDER, "out_trade_no": "BAD-V3-CERT"}).encode()
    pairs = f"app_id={APP_ID},app_cert_sn={app_sn},nonce=n,timestamp={now_ms()}"
    headers = signed(key, "POST", CREATE, body, pairs, **{"alipay-root-cert-sn": keys.root_cert_sn})
    status, _, answer_headers = send(CREATE, body, headers=headers)
    assert status == 200 and answer_headers["alipay-sn"] == keys.alipay_cert_sn


# -- the body and the route -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "word"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "must be a JSON object"), (b"[" * 100_000, "not valid JSON")],
    ids=["broken", "array", "deep"],
)
def test_a_signed_body_that_is_not_a_json_object_is_invalid_parameter(send, key, body, word):
    expect(send(QUERY, body, headers=signed(key, "POST", QUERY, body)), 400, "invalid-parameter", word)


def test_an_unpaired_surrogate_escape_is_invalid_parameter(send, key):
    body = b'{"out_trade_no": "A", "total_amount": "1.00", "subject": "\\ud800", "buyer_id": "2088000000000042"}'
    expect(send(CREATE, body, headers=signed(key, "POST", CREATE, body)), 400, "invalid-parameter", "surrogate")


def test_a_wrong_field_type_is_alipays_invalid_parameter(send, key):
    body = json.dumps({**ORDER, "total_amount": ["1.00"]}).encode()
    expect(send(CREATE, body, headers=signed(key, "POST", CREATE, body)), 400, "ACQ.INVALID_PARAMETER", "total_amount")


def test_a_body_over_the_limit_is_refused_before_it_is_read(send, key, sandbox):
    body = b"{" + b" " * sandbox.config.max_body + b"}"
    expect(send(QUERY, body, headers=signed(key, "POST", QUERY, b"")), 413, "invalid-content-length")


def test_aes_content_encryption_is_refused_plainly(send, key):
    headers = signed(key, "POST", QUERY, b"abc", **{"alipay-encrypt-type": "AES", "content-type": "text/plain"})
    expect(send(QUERY, b"abc", headers=headers), 400, "invalid-encrypt-type", "not supported")


def test_an_unknown_method_lists_the_v3_routes(send):
    message = expect(send("/v3/alipay/trade/orderinfo/sync", b"{}"), 404, "invalid-method")
    assert "/v3/alipay/trade/precreate" in message


def test_a_write_sent_as_get_is_a_405_with_allow(send):
    expect(send("/v3/alipay/trade/refund", method="GET"), 405, "invalid-http-method", "takes POST")
    _, _, headers = send("/v3/alipay/trade/refund", method="DELETE")
    assert headers["Allow"] == "POST"


def test_the_bare_prefix_answers_in_alipays_format(send):
    expect(send("/v3/alipay/", b"{}"), 404, "invalid-method")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=300))
def test_any_authorization_header_gets_a_json_4xx(send, header):
    status, document, _ = send(QUERY, b"{}", headers={"authorization": "ALIPAY-SHA256withRSA " + header})
    assert 400 <= status < 500 and document["code"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ("out_trade_no", "total_amount", "subject", "buyer_id", "refund_amount", "out_request_no", "auth_code")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from([CREATE, QUERY, "/v3/alipay/trade/refund", "/v3/alipay/trade/pay", "/v3/alipay/trade/cancel"]),
    body=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), JSON_VALUES, max_size=6),
)
def test_any_signed_json_body_gets_an_answer_never_a_500(send, key, path, body):
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    status, document, _ = send(path, raw, headers=signed(key, "POST", path, raw))
    assert status in (200, 202) or (400 <= status < 500 and document["code"]), document
