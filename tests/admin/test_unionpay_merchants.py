"""Registering UnionPay merchants through the control API: the certId is the certificate's decimal serial."""

import json
from pathlib import Path

from cryptography import x509

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures" / "unionpay"


def test_the_demo_merchant_answers_the_sandbox_chain(client):
    merchant = client.get("/_sandbox/merchants/unionpay/777290058110097").get_json()
    assert merchant["cert_id"] == json.loads((FIXTURES / "demo/merchant.json").read_text())["cert_id"]
    assert merchant["root_certificate"] == (FIXTURES / "sandbox/root.pem").read_text()
    assert merchant["middle_certificate"] == (FIXTURES / "sandbox/middle.pem").read_text()
    signing = x509.load_pem_x509_certificate(merchant["signing_certificate"].encode())
    assert signing.subject.rfc4514_string().startswith("CN=041@Z2024-01-01@00040000:SIGN@00000001")


def test_registration_takes_the_cert_id_from_the_certificate(client):
    cert = (FIXTURES / "demo/merchant_cert.pem").read_text()
    answer = client.post(
        "/_sandbox/merchants",
        json={"gateway": "unionpay", "merchant_id": "898000000000001", "merchant_certificate": cert},
    )
    assert answer.status_code == 201
    assert answer.get_json()["cert_id"] == str(x509.load_pem_x509_certificate(cert.encode()).serial_number)


def test_registration_errors_name_the_field(client):
    for body, field in [
        ({"gateway": "unionpay", "merchant_id": "short", "merchant_certificate": "x"}, "merchant_id"),
        ({"gateway": "unionpay", "merchant_id": "898000000000001"}, "merchant_certificate"),
        (
            {"gateway": "unionpay", "merchant_id": "898000000000001", "merchant_certificate": "nope"},
            "merchant_certificate",
        ),
    ]:
        answer = client.post("/_sandbox/merchants", json=body)
        assert answer.status_code == 400
        assert field in answer.get_json()["error"]["message"]
