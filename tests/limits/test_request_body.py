"""A body over SANDBOX_MAX_BODY, chunked or declared, is refused while it is read, in each gateway's own format."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from sandbox.merchant.alipay import AlipayClient
from tests.gateways.alipay.test_bad_input import answer_of, assert_error, assert_signed, assert_unsigned

LIMIT = 1024 * 1024
FORM = "application/x-www-form-urlencoded"


def chunks(total: int, piece: int = 64 * 1024):
    """A generator body: requests sends it with Transfer-Encoding: chunked and no Content-Length."""
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        yield b"x" * size
        sent += size


def alipay_answer(reply):
    return answer_of(SimpleNamespace(get_data=lambda: reply.content, status_code=reply.status_code))


def test_a_chunked_body_over_the_limit_to_gateway_do_is_alipays_unsigned_invalid_content_length(live, http):
    reply = http.post(f"{live.url}/gateway.do", data=chunks(3 * LIMIT), headers={"Content-Type": FORM}, timeout=30)
    answer = alipay_answer(reply)
    assert_error(answer, "error_response", "40002", "isv.invalid-content-length")
    assert_unsigned(answer)
    assert f"over {LIMIT} bytes" in answer.sub_msg and "SANDBOX_MAX_BODY" in answer.sub_msg


def test_an_oversized_gateway_do_body_with_the_app_in_the_query_gets_a_signed_envelope(live, http, alipay_demo):
    merchant = AlipayClient(alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "")
    query = urlencode(merchant.signed_params("alipay.trade.query", {"out_trade_no": "BIG-1"}))
    reply = http.post(
        f"{live.url}/gateway.do?{query}", data=chunks(2 * LIMIT), headers={"Content-Type": FORM}, timeout=30
    )
    answer = alipay_answer(reply)
    assert_error(answer, "alipay_trade_query_response", "40002", "isv.invalid-content-length")
    assert_signed(answer, alipay_demo)


NATIVE = {  # path, content type, HTTP status, and what the answer says in the gateway's own format
    "alipay v3": (
        "/v3/alipay/trade/query",
        "application/json",
        413,
        lambda r: r.json()["code"] == "invalid-content-length",
    ),
    "wechatpay v3": (
        "/v3/pay/transactions/native",
        "application/json",
        400,
        lambda r: r.json()["code"] == "INVALID_REQUEST",
    ),
    "wechatpay v2": ("/pay/unifiedorder", "text/xml", 200, lambda r: "<return_code><![CDATA[FAIL]]>" in r.text),
    "unionpay": ("/gateway/api/backTransReq.do", FORM, 200, lambda r: "respCode=10&" in r.text),
    "control api": (
        "/_sandbox/scenarios",
        "application/json",
        413,
        lambda r: r.json()["error"]["code"] == "REQUEST_ENTITY_TOO_LARGE",
    ),
    "hosted page": ("/cashier/alipay/T1/pay", FORM, 413, lambda r: r.text.startswith("413 Request Entity Too Large")),
}


@pytest.mark.parametrize("where", NATIVE)
def test_a_chunked_body_over_the_limit_gets_the_native_error_of_where_it_was_sent(live, http, where):
    path, content_type, status, says = NATIVE[where]
    reply = http.post(f"{live.url}{path}", data=chunks(3 * LIMIT), headers={"Content-Type": content_type}, timeout=30)
    assert reply.status_code == status
    assert says(reply), reply.text
    assert "SANDBOX_MAX_BODY" in reply.text and "Traceback" not in reply.text and "<html" not in reply.text.lower()


def test_unionpays_refusal_is_signed_key_value_text(live, http):
    reply = http.post(f"{live.url}/gateway/api/queryTrans.do", data=chunks(2 * LIMIT), headers={"Content-Type": FORM})
    fields = dict(pair.split("=", 1) for pair in reply.text.split("&"))
    assert fields["respCode"] == "10" and fields["signature"] and "SANDBOX_MAX_BODY" in fields["respMsg"]


def test_a_chunked_body_under_the_limit_is_read_whole(live, http):
    rule = b'{"name": "chunked",' + b" " * (LIMIT - 100) + b'"api": {"status": 503}}'  # cut short, it is no JSON
    reply = http.post(
        f"{live.url}/_sandbox/scenarios",
        data=(rule[i : i + 1000] for i in range(0, len(rule), 1000)),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["scenario"]["api"] == {"status": 503}


def test_a_body_exactly_at_the_limit_is_read_and_one_byte_more_is_refused(live, http):
    def padded(total: int) -> bytes:
        return b'{"seconds": 0}'.ljust(total)

    url, headers = f"{live.url}/_sandbox/clock/advance", {"Content-Type": "application/json"}
    at_limit = http.post(url, data=padded(LIMIT), headers=headers)
    over = http.post(url, data=padded(LIMIT + 1), headers=headers)
    assert (at_limit.status_code, over.status_code) == (200, 413)


def read_answer(sock: socket.socket) -> str:
    """One HTTP answer with a Content-Length, without waiting for the connection to close."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += sock.recv(65536)
    return (head + b"\r\n\r\n" + body).decode()


def test_a_declared_length_over_the_limit_is_answered_before_any_of_the_body_is_sent(live):
    head = (
        "POST /v3/pay/transactions/native HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
        f"Content-Length: {300 * LIMIT}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = read_answer(sock)  # no body byte was sent: the answer comes anyway
    assert answer.startswith("HTTP/1.1 400")
    assert '"code":"INVALID_REQUEST"' in answer.replace(": ", ":")
    assert f"the body is {300 * LIMIT} bytes" in answer
