"""A tiny ACP signer for the demo merchant (codec.sign + its TEST-ONLY key) and a caller that verifies answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.core import crypto
from sandbox.gateways.unionpay import codec

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "unionpay"
MERCHANT = json.loads((FIXTURES / "demo/merchant.json").read_text())
MER_ID = MERCHANT["merchant_id"]
MERCHANT_KEY = crypto.load_private_key((FIXTURES / "demo/merchant_private_key.pem").read_text())
SANDBOX_CERT = (FIXTURES / "sandbox/sign.pem").read_text()
SANDBOX_KEY = crypto.load_public_key(SANDBOX_CERT)
TXN_TIME = "20240102030405"
BACK_URL = "http://127.0.0.1:9/acp/back"


def signed(fields: dict, version: str = "5.1.0", key=MERCHANT_KEY) -> dict:
    """The common fields, then the signature over everything (as the official demos send)."""
    form = {
        "version": version,
        "encoding": "UTF-8",
        "signMethod": "01",
        "certId": MERCHANT["cert_id"],
        "accessType": "0",
        "merId": MER_ID,
        **fields,
    }
    form["signature"] = codec.sign(form, key, version)
    return form


def consume(order_id: str, amount: str = "1000", **extra: str) -> dict:
    return {
        "txnType": "01",
        "txnSubType": "01",
        "bizType": "000201",
        "channelType": "08",
        "orderId": order_id,
        "txnAmt": amount,
        "currencyCode": "156",
        "txnTime": TXN_TIME,
        "backUrl": BACK_URL,
        **extra,
    }


def query(order_id: str = "", txn_time: str = TXN_TIME, **extra: str) -> dict:
    fields = {"txnType": "00", "txnSubType": "00", "bizType": "000000", "orderId": order_id, "txnTime": txn_time}
    return {k: v for k, v in {**fields, **extra}.items() if v}


def back_out(txn_type: str, order_id: str, amount: str, orig_qry_id: str, **extra: str) -> dict:
    return {
        "txnType": txn_type,
        "txnSubType": "00",
        "bizType": "000201",
        "channelType": "07",
        "orderId": order_id,
        "txnAmt": amount,
        "currencyCode": "156",
        "txnTime": TXN_TIME,
        "backUrl": BACK_URL,
        "origQryId": orig_qry_id,
        **extra,
    }


def verified(text: str) -> dict:
    """Parse a key=value answer as clients do and check it is signed by the sandbox's signing certificate."""
    answer = codec.parse(text)
    version = answer.get("version", "5.1.0")
    if version == "5.1.0":
        assert answer["signPubKeyCert"] == SANDBOX_CERT
    assert codec.verify(answer, SANDBOX_KEY, version), text
    return answer


@pytest.fixture
def acp(client):
    """POST signed fields to /gateway/api/<endpoint> through the test client; answers the verified fields."""

    def call(endpoint: str, fields: dict, version: str = "5.1.0", sign: bool = True) -> dict:
        reply = client.post(f"/gateway/api/{endpoint}", data=signed(fields, version) if sign else fields)
        assert reply.status_code == 200
        assert reply.content_type.startswith("text/plain")
        return verified(reply.get_data(as_text=True))

    return call


@pytest.fixture
def manual(sandbox):
    sandbox.clock.set_mode("manual")
    return sandbox
