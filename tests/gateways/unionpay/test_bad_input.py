"""Refusals: every bad request answers HTTP 200 key=value with a respCode and a message, never HTML or a 500."""

from __future__ import annotations

import pytest

from tests.gateways.unionpay.conftest import MER_ID, MERCHANT, SANDBOX_CERT, consume, query, signed, verified

ENDPOINTS = ("appTransReq.do", "queryTrans.do", "backTransReq.do")


def _raw(client, endpoint: str, method: str = "POST", **kwargs) -> dict:
    reply = client.open(f"/gateway/api/{endpoint}", method=method, **kwargs)
    assert reply.status_code == 200
    return verified(reply.get_data(as_text=True))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_get_answers_10(client, endpoint):
    answer = _raw(client, endpoint, "GET")
    assert answer["respCode"] == "10" and "POST" in answer["respMsg"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_non_utf8_body_answers_10(client, endpoint):
    answer = _raw(
        client, endpoint, data=b"merId=\xff\xfe&orderId=\xc3", content_type="application/x-www-form-urlencoded"
    )
    assert answer["respCode"] == "10" and "UTF-8" in answer["respMsg"]


def test_percent_encoded_non_utf8_answers_10(client):
    answer = _raw(client, "queryTrans.do", data=b"merId=%FF%FE", content_type="application/x-www-form-urlencoded")
    assert answer["respCode"] == "10"


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x00\x01\x02", b"<xml>hi</xml>", b'{"json": 1}'])
def test_garbage_answers_a_resp_code(client, body):
    answer = _raw(client, "appTransReq.do", data=body, content_type="application/x-www-form-urlencoded")
    assert answer["respCode"] in ("10", "13")


def test_huge_body_answers_10(client, sandbox):
    body = b"a=" + b"x" * (sandbox.config.max_body + 1)
    answer = _raw(client, "backTransReq.do", data=body, content_type="application/x-www-form-urlencoded")
    assert answer["respCode"] == "10" and str(sandbox.config.max_body) in answer["respMsg"]


def test_missing_fields_answer_13_naming_them(client):
    answer = _raw(client, "queryTrans.do", data={"merId": MER_ID, "txnType": "00"})
    assert answer["respCode"] == "13" and "certId" in answer["respMsg"] and "signature" in answer["respMsg"]


def test_missing_business_field_answers_13(acp):
    fields = consume("ORDER0101")
    del fields["backUrl"]
    answer = acp("appTransReq.do", fields)
    assert answer["respCode"] == "13" and "backUrl" in answer["respMsg"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("orderId", "ORD-1"),
        ("orderId", "short"),
        ("txnAmt", "1.00"),
        ("txnAmt", "１００"),
        ("currencyCode", "840"),
        ("txnTime", "2024"),
        ("txnTime", "٢٠٢٤٠١٠١١٢٠٠٠٠"),  # str.isdigit() is true for Arabic-Indic digits
    ],
)
def test_bad_consume_field_answers_10(acp, name, value):
    answer = acp("appTransReq.do", consume("ORDER0102", **{name: value}))
    assert answer["respCode"] == "10" and name in answer["respMsg"]


def test_wrong_signature_answers_11_with_the_signing_string(client):
    form = signed(query("ORDER0103"))
    form["orderId"] = "ORDER0104"  # changed after signing
    answer = _raw(client, "queryTrans.do", data=form)
    assert answer["respCode"] == "11" and answer["respMsg"].startswith("验证签名失败[")
    assert "orderId=ORDER0104&" in answer["respMsg"] and MERCHANT["cert_id"] in answer["respMsg"]
    assert f"merId={MER_ID}" in answer["respMsg"]


def test_wrong_cert_id_answers_11(client):
    form = signed({**query("ORDER0105"), "certId": "12345"})
    answer = _raw(client, "queryTrans.do", data=form)
    assert answer["respCode"] == "11" and MERCHANT["cert_id"] in answer["respMsg"]


def test_unknown_mer_id_answers_31(client):
    answer = _raw(client, "queryTrans.do", data=signed({**query("ORDER0106"), "merId": "777290058110000"}))
    assert answer["respCode"] == "31" and "777290058110000" in answer["respMsg"]


def test_other_sign_methods_answer_10(client):
    answer = _raw(client, "queryTrans.do", data=signed({**query("ORDER0107"), "signMethod": "11"}))
    assert answer["respCode"] == "10" and "signMethod" in answer["respMsg"]


def test_unknown_version_answers_10(client):
    answer = _raw(client, "queryTrans.do", data={**signed(query("ORDER0108")), "version": "6.0.0"})
    assert answer["respCode"] == "10" and answer["signPubKeyCert"] == SANDBOX_CERT


def test_txn_type_not_served_at_endpoint_answers_32(acp):
    answer = acp("backTransReq.do", consume("ORDER0109"))
    assert answer["respCode"] == "32" and "04 (refund)" in answer["respMsg"]


def test_duplicated_field_answers_10(client):
    body = "&".join(f"{k}={v}" for k, v in signed(query("ORDER0110")).items() if k != "signature")
    answer = _raw(client, "queryTrans.do", data=body + "&orderId=X", content_type="application/x-www-form-urlencoded")
    assert answer["respCode"] == "10" and "orderId" in answer["respMsg"]


@pytest.mark.parametrize("value", ["a=1&b=2", "{unbalanced", "x&y"])
def test_a_req_reserved_that_an_unencoded_answer_cannot_carry_is_refused(acp, value):
    fields = acp("appTransReq.do", consume("RESERVED01", reqReserved=value))
    assert fields["respCode"] == "10"
    assert "reqReserved" in fields["respMsg"]
