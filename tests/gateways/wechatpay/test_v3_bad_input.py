"""Bad input to /v3 always gets WeChat Pay's own error answer: `{code, message[, detail]}` as JSON with the right
HTTP status, never a 500 and never HTML.

Every request is built correctly and signed with the demo merchant key (a tiny signer over sandbox.core.crypto),
then exactly one thing is changed, so each test shows what that one mistake earns.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from pathlib import Path

import pytest

from sandbox.core import crypto
from sandbox.gateways.wechatpay.v3 import codec

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "wechatpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
MCHID, APPID, SERIAL = MERCHANT["merchant_id"], MERCHANT["appid"], MERCHANT["merchant_serial_no"]
KEY = crypto.load_private_key((FIXTURES / "demo/merchant_private_key.pem").read_text())
WRONG_KEY = crypto.load_private_key((FIXTURES / "sandbox/platform_private_key.pem").read_text())
SCHEME = "WECHATPAY2-SHA256-RSA2048"


class _Remove:
    """Marks a field to leave out of the body; its repr keeps test ids stable (pytest-xdist needs that)."""

    def __repr__(self) -> str:
        return "REMOVED"


REMOVE = _Remove()

BASE = {
    "notify_url": "https://shop.example/wechatpay/notify",
    "description": "测试订单",
    "out_trade_no": "BAD-0001",
    "amount": {"total": 1, "currency": "CNY"},
    "appid": APPID,
    "mchid": MCHID,
}
KIND_FIELDS = {
    "native": {},
    "jsapi": {"payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}},
    "app": {},
    "h5": {"scene_info": {"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}},
    "codepay": {"payer": {"auth_code": "134567890123456789"}, "notify_url": REMOVE},
}
REQUIRED = {
    "native": ["appid", "mchid", "description", "out_trade_no", "notify_url", "amount", "amount.total"],
    "jsapi": ["appid", "mchid", "description", "out_trade_no", "notify_url", "amount", "amount.total", "payer"],
    "app": ["appid", "mchid", "description", "out_trade_no", "notify_url", "amount", "amount.total"],
    "h5": ["appid", "mchid", "description", "out_trade_no", "notify_url", "amount", "amount.total", "scene_info"],
    "codepay": ["appid", "mchid", "description", "out_trade_no", "amount", "amount.total", "payer"],
}
REQUIRED["jsapi"] += ["payer.openid"]
REQUIRED["h5"] += ["scene_info.payer_client_ip", "scene_info.h5_info", "scene_info.h5_info.type"]
REQUIRED["codepay"] += ["payer.auth_code"]


# -- building requests ------------------------------------------------------------------------------------


def changed(document: dict, **changes) -> dict:
    """A deep copy with dotted paths set (amount__total=... sets amount.total); REMOVE deletes one."""
    result = copy.deepcopy(document)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = result
        for name in parents:
            node = node[name]
        if value is REMOVE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return result


def prepay_body(kind: str, **changes) -> dict:
    return changed(changed(BASE, **KIND_FIELDS[kind]), **changes)


def authorization(
    method: str,
    url: str,
    body: bytes,
    *,
    key=KEY,
    mchid: str = MCHID,
    serial: str = SERIAL,
    timestamp: int | None = None,
    nonce: str = "593BEC0C930BF1AFEB40B4A08C8FB242",
    signature: str | None = None,
) -> str:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    message = f"{method}\n{url}\n{stamp}\n{nonce}\n".encode() + body + b"\n"
    signature = crypto.sign(key, message) if signature is None else signature
    return (
        f'{SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",timestamp="{stamp}",serial_no="{serial}"'
    )


def send(client, method: str, url: str, body=None, *, raw: bytes | None = None, headers: dict | None = None, **auth):
    """Sign and send as the SDK does; `raw` bytes go out exactly; headers with a None value are left out."""
    data = raw if raw is not None else b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    sent = {
        "Authorization": authorization(method, url, data, **auth),
        "Content-Type": "application/json",
        "Accept": "application/json",
        **(headers or {}),
    }
    return client.open(url, method=method, data=data, headers={k: v for k, v in sent.items() if v is not None})


def v3_error(reply, status: int, code: str) -> dict:
    """The answer is WeChat's JSON error shape with this status and code."""
    text = reply.get_data(as_text=True)
    assert reply.status_code == status, text
    assert reply.mimetype == "application/json", (reply.content_type, text[:200])
    assert "<html" not in text.lower()
    body = json.loads(text)
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert set(body) <= {"code", "message", "detail"}
    return body


def prepay(client, kind: str, body=None, **options):
    return send(client, "POST", f"/v3/pay/transactions/{kind}", prepay_body(kind) if body is None else body, **options)


# -- the baseline: each valid request passes ----------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KIND_FIELDS))
def test_a_valid_prepay_of_each_kind_passes(client, kind):
    reply = prepay(client, kind)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.headers["Wechatpay-Signature-Type"] == SCHEME


# -- the body ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"description": "x", ',
        b"{'single': 'quotes'}",
        b"[]",
        b'[{"description": "x"}]',
        b'"a string"',
        b"null",
        b"42",
        b"[" * 100_000 + b"]" * 100_000,  # nesting deep enough to break a recursive parser
    ],
    ids=["truncated", "single-quotes", "empty-array", "array", "string", "null", "number", "deep-nesting"],
)
def test_a_body_that_is_not_a_json_object(client, raw):
    v3_error(prepay(client, "native", raw=raw), 400, "PARAM_ERROR")


def test_an_empty_body_lacks_every_field(client):
    v3_error(prepay(client, "native", raw=b""), 400, "PARAM_ERROR")


def test_a_body_that_is_not_utf8(client):
    text = json.dumps(prepay_body("native", description="café"), ensure_ascii=False)
    body = text.encode("utf-8").replace("é".encode(), b"\xe9")  # latin-1 é inside otherwise UTF-8 JSON
    assert b"\xe9" in body
    v3_error(prepay(client, "native", raw=body), 400, "PARAM_ERROR")


def test_a_huge_body(client, config):
    padding = "x" * config.max_body
    v3_error(prepay(client, "native", prepay_body("native", attach=padding)), 400, "INVALID_REQUEST")


def test_an_oversized_body_is_refused_before_it_is_parsed(client, config):
    # Size first: a body over the limit is not read into a JSON parser at all, whatever it holds.
    v3_error(prepay(client, "native", raw=b"[" * (config.max_body + 1)), 400, "INVALID_REQUEST")


@pytest.mark.parametrize("path", ["/v3/pay/transactions/native", "/v3/refund/domestic/refunds"])
def test_authentication_comes_before_the_body(client, path):
    # An unsigned request learns nothing about how its body would have been read.
    reply = client.post(path, data=b'{"description": ', headers={"Content-Type": "application/json"})
    v3_error(reply, 401, "SIGN_ERROR")


@pytest.mark.parametrize("total", ["1", 1.5, True, -1, 0, None, 10**11, [1], {"fen": 1}], ids=repr)
def test_amount_total_of_the_wrong_type_or_range(client, total):
    body = v3_error(prepay(client, "native", prepay_body("native", amount__total=total)), 400, "PARAM_ERROR")
    assert body["detail"]["field"] == "amount.total"


@pytest.mark.parametrize(("kind", "missing"), [(k, f) for k, fields in sorted(REQUIRED.items()) for f in fields])
def test_a_missing_required_field(client, kind, missing):
    body = prepay_body(kind, **{missing.replace(".", "__"): REMOVE})
    answer = v3_error(prepay(client, kind, body), 400, "PARAM_ERROR")
    assert answer["detail"]["field"].split(".")[-1] == missing.split(".")[-1]


@pytest.mark.parametrize("kind", sorted(KIND_FIELDS))
@pytest.mark.parametrize(
    "out_trade_no", ["12345", "x" * 33, "has space", "订单号123456", "semi;colon", 12345678], ids=repr
)
def test_an_out_trade_no_wechat_would_not_take(client, kind, out_trade_no):
    body = v3_error(prepay(client, kind, prepay_body(kind, out_trade_no=out_trade_no)), 400, "PARAM_ERROR")
    assert body["detail"]["field"] == "out_trade_no"


def test_out_trade_no_of_6_and_of_32_characters_is_fine(client):
    for out_trade_no in ("123456", "A" * 32, "a_b-c|d*e"):
        reply = prepay(client, "native", prepay_body("native", out_trade_no=out_trade_no))
        assert reply.status_code == 200, reply.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "x" * 128}, "description"),
        ({"description": 42}, "description"),
        ({"attach": {"not": "text"}}, "attach"),
        ({"notify_url": "ftp://shop.example/notify"}, "notify_url"),
        ({"notify_url": ["https://shop.example/n"]}, "notify_url"),
        ({"amount": "1"}, "amount"),
        ({"amount__currency": "USD"}, "amount.currency"),
        ({"time_expire": "tomorrow"}, "time_expire"),
        ({"time_expire": "2030-01-01T10:00:00"}, "time_expire"),  # no offset
        ({"time_expire": "2001-01-01T10:00:00+08:00"}, "time_expire"),  # in the past
        ({"appid": 12345}, "appid"),
    ],
    ids=repr,
)
def test_a_field_of_the_wrong_shape(client, changes, field):
    answer = v3_error(prepay(client, "native", prepay_body("native", **changes)), 400, "PARAM_ERROR")
    assert answer["detail"]["field"] == field


@pytest.mark.parametrize(
    ("kind", "changes"),
    [
        ("jsapi", {"payer": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}),
        ("jsapi", {"payer__openid": 7}),
        ("h5", {"scene_info__h5_info": "Wap"}),
        ("codepay", {"payer__auth_code": 134567890123456789}),
    ],
    ids=repr,
)
def test_a_kind_specific_field_of_the_wrong_shape(client, kind, changes):
    v3_error(prepay(client, kind, prepay_body(kind, **changes)), 400, "PARAM_ERROR")


def test_an_auth_code_that_is_not_a_payment_code(client):
    body = prepay_body("codepay", payer__auth_code="99999")
    v3_error(prepay(client, "codepay", body), 400, "INVALID_REQUEST")


# -- who is asking ----------------------------------------------------------------------------------------


def test_an_appid_not_bound_to_the_mchid(client):
    answer = v3_error(
        prepay(client, "native", prepay_body("native", appid="wx0000000000000000")), 400, "APPID_MCHID_NOT_MATCH"
    )
    assert "wx0000000000000000" in answer["message"]


def test_a_body_mchid_that_is_not_the_signer(client):
    answer = v3_error(prepay(client, "native", prepay_body("native", mchid="1900000999")), 400, "PARAM_ERROR")
    assert answer["detail"]["field"] == "mchid"


def test_an_unknown_mchid(client):
    answer = v3_error(
        prepay(client, "native", prepay_body("native", mchid="1900000999"), mchid="1900000999"), 400, "MCH_NOT_EXISTS"
    )
    assert "1900000999" in answer["message"]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "Bearer abc.def.ghi",
        SCHEME,
        f'{SCHEME} mchid="1900000109"',
        f'{SCHEME} mchid="1900000109",nonce_str="N",signature="",timestamp="1",serial_no="{SERIAL}"',
        "WECHATPAY2-SHA256-RSA2048\tmchid",
    ],
    ids=repr,
)
def test_a_missing_or_garbled_authorization(client, header):
    reply = send(
        client, "POST", "/v3/pay/transactions/native", prepay_body("native"), headers={"Authorization": header}
    )
    v3_error(reply, 401, "SIGN_ERROR")


def test_an_authorization_header_longer_than_any_real_one_is_refused_at_once(client):
    # Found by fuzzing: a 60,000-character run of word characters took the field pattern 100 s to scan.
    started = time.perf_counter()
    headers = {"Authorization": f"{SCHEME} " + "a" * 60_000}
    answer = v3_error(send(client, "POST", "/v3/pay/transactions/native", {}, headers=headers), 401, "SIGN_ERROR")
    assert time.perf_counter() - started < 1
    assert "60026 characters long" in answer["message"]


def test_the_authorization_field_pattern_scans_a_run_of_word_characters_in_linear_time():
    started = time.perf_counter()
    assert codec.AUTH_FIELD.findall(" " + "a" * 200_000 + '="x"') == [("a" * 200_000, "x")]
    assert time.perf_counter() - started < 1  # quadratic backtracking took minutes


@pytest.mark.parametrize(
    "auth",
    [
        {"key": WRONG_KEY},
        {"signature": "!!!not base64!!!"},
        {"signature": base64.b64encode(b"\0" * 256).decode()},
        {"serial": "0123456789ABCDEF"},
        {"timestamp": int(time.time()) - 3600},
        {"timestamp": int(time.time()) + 3600},
        {"timestamp": "soon"},
    ],
    ids=["wrong-key", "not-base64", "zero-signature", "other-serial", "stale", "future", "not-a-number"],
)
def test_a_signature_that_does_not_hold(client, auth):
    v3_error(prepay(client, "native", **auth), 401, "SIGN_ERROR")


def test_the_signature_covers_the_query_and_the_exact_body(client):
    url = f"/v3/pay/transactions/out-trade-no/BAD-0001?mchid={MCHID}"
    signed_without_query = authorization("GET", "/v3/pay/transactions/out-trade-no/BAD-0001", b"")
    v3_error(send(client, "GET", url, headers={"Authorization": signed_without_query}), 401, "SIGN_ERROR")
    sent = json.dumps(prepay_body("native")).encode()
    other = authorization("POST", "/v3/pay/transactions/native", sent.replace(b'"total": 1', b'"total": 100'))
    reply = send(client, "POST", "/v3/pay/transactions/native", raw=sent, headers={"Authorization": other})
    v3_error(reply, 401, "SIGN_ERROR")


# -- where and how ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/v3/no/such/thing"),
        ("POST", "/v3/pay/transactions/bogus"),
        ("GET", "/v3/pay/partner/transactions/id/1"),
        ("GET", "/v3/"),
    ],
)
def test_an_unknown_v3_path_is_a_json_404(client, signed, method, url):
    headers = {} if signed else {"Authorization": None}
    v3_error(send(client, method, url, {} if method == "POST" else None, headers=headers), 404, "NOT_FOUND")


def test_a_wrong_method_is_a_json_405(client):
    reply = send(client, "DELETE", "/v3/refund/domestic/refunds/R1")
    assert reply.status_code == 405 and reply.mimetype == "application/json"
    assert json.loads(reply.get_data())["code"]


# -- the other endpoints ------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?mchid=1900000999", "?mchid=", "?other=1"])
def test_a_query_whose_mchid_is_not_the_signer(client, query):
    v3_error(send(client, "GET", f"/v3/pay/transactions/out-trade-no/BAD-0001{query}"), 400, "PARAM_ERROR")


@pytest.mark.parametrize("body", [{}, {"mchid": 1900000109}, {"mchid": "1900000999"}], ids=repr)
def test_close_with_a_bad_mchid(client, body):
    prepay(client, "native")
    v3_error(send(client, "POST", "/v3/pay/transactions/out-trade-no/BAD-0001/close", body), 400, "PARAM_ERROR")


def test_close_with_a_body_that_is_not_an_object(client):
    url = "/v3/pay/transactions/out-trade-no/BAD-0001/close"
    v3_error(send(client, "POST", url, raw=b'["1900000109"]'), 400, "PARAM_ERROR")


REFUND = {"out_refund_no": "BAD-0001-r1", "out_trade_no": "BAD-0001", "amount": {"refund": 1, "total": 1}}


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"amount__refund": "1"}, 400, "PARAM_ERROR"),
        ({"amount__refund": 0}, 400, "PARAM_ERROR"),
        ({"amount__total": 1.0}, 400, "PARAM_ERROR"),
        ({"amount": REMOVE}, 400, "PARAM_ERROR"),
        ({"out_refund_no": REMOVE}, 400, "PARAM_ERROR"),
        ({"out_trade_no": REMOVE}, 400, "PARAM_ERROR"),
        ({"out_trade_no": "BAD-NOPE"}, 404, "RESOURCE_NOT_EXISTS"),
        ({"amount__total": 2}, 400, "INVALID_REQUEST"),  # not the order's amount
        ({}, 400, "INVALID_REQUEST"),  # the order is not paid
    ],
    ids=repr,
)
def test_a_bad_refund(client, changes, status, code):
    prepay(client, "native")
    v3_error(send(client, "POST", "/v3/refund/domestic/refunds", changed(REFUND, **changes)), status, code)


@pytest.mark.parametrize(
    "query",
    [
        "bill_date=2024/01/01&bill_type=ALL",
        "bill_type=ALL",
        "bill_date=2024-02-30",
        "bill_date=2024-01-01&bill_type=EVERYTHING",
        "bill_date=2024-01-01&tar_type=ZIP",
    ],
)
def test_a_bad_trade_bill_query(client, query):
    v3_error(send(client, "GET", f"/v3/bill/tradebill?{query}"), 400, "PARAM_ERROR")


def token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "value",
    ["", "!!!", token("only|three|parts"), token("1900000109|not-a-date|ALL|GZIP"), "%FF%FE"],
    ids=["empty", "not-base64", "three-parts", "bad-date", "not-utf8"],
)
def test_a_bill_download_token_the_sandbox_did_not_hand_out(client, value):
    v3_error(send(client, "GET", f"/v3/billdownload/file?token={value}"), 400, "PARAM_ERROR")


def test_a_bill_download_token_of_another_merchant(client):
    v3_error(
        send(client, "GET", f"/v3/billdownload/file?token={token('1900000999|2024-01-01|ALL|GZIP')}"), 403, "NO_AUTH"
    )
