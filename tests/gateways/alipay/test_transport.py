"""The request shapes real clients put on the wire, byte for byte."""

import http.client
from urllib.parse import urlencode, urlsplit

import pytest

from sandbox.merchant.alipay import AlipayApiError, AlipayClient


def test_absolute_form_request_target_as_the_official_sdk_sends_it(live, alipay_demo):
    """`POST http://127.0.0.1/gateway.do?<common params> HTTP/1.1`, no port in the target or Host, form body."""
    merchant = AlipayClient(alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "x")
    params = merchant.signed_params("alipay.trade.query", {"out_trade_no": "nope"})
    body = urlencode({"biz_content": params.pop("biz_content")})
    connection = http.client.HTTPConnection("127.0.0.1", urlsplit(live.url).port, timeout=5)
    connection.request(
        "POST",
        "http://127.0.0.1/gateway.do?" + urlencode(params),
        body=body,
        headers={"Content-type": "application/x-www-form-urlencoded;charset=utf-8", "Host": "127.0.0.1"},
    )
    reply = connection.getresponse()
    assert reply.status == 200
    # Verified over query and form merged, answered and signed: the signature checks, the order is unknown.
    with pytest.raises(AlipayApiError) as failure:
        merchant.parse_response(reply.read().decode(), "alipay.trade.query")
    assert failure.value.sub_code == "ACQ.TRADE_NOT_EXIST"


def test_query_and_form_are_merged_and_the_form_wins(client, alipay_demo):
    merchant = AlipayClient(alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "x")
    params = merchant.signed_params("alipay.trade.query", {"out_trade_no": "nope"})
    query = {k: v for k, v in params.items() if k != "biz_content"}
    query["biz_content"] = '{"out_trade_no":"overridden"}'
    reply = client.post("/gateway.do?" + urlencode(query), data={"biz_content": params["biz_content"]})
    assert reply.get_json(force=True)["alipay_trade_query_response"]["sub_code"] == "ACQ.TRADE_NOT_EXIST"
