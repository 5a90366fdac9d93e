"""Registering WeChat Pay merchants through the control API (docs/protocols/wechatpay-v3.md#key-modes)."""

import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures" / "wechatpay"


def public_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def registration(**overrides) -> dict:
    body = {
        "gateway": "wechatpay",
        "merchant_id": "1900000777",
        "appid": "wx0000000000000777",
        "merchant_serial_no": "1a2b3c",
        "merchant_public_key": public_pem(),
        "apiv3_key": "k" * 32,
        "api_key": "v" * 32,
    }
    return {**body, **overrides}


def test_the_demo_merchant_answers_the_sandbox_platform_material(client):
    merchant = client.get("/_sandbox/merchants/wechatpay/1900000109").get_json()
    platform = json.loads((FIXTURES / "sandbox/platform.json").read_text())
    assert merchant["platform_serial_no"] == platform["platform_serial_no"]
    assert merchant["public_key_id"] == platform["public_key_id"]
    assert merchant["platform_public_key"] == (FIXTURES / "sandbox/pub_key.pem").read_text()
    cert = x509.load_pem_x509_certificate(merchant["platform_certificate"].encode())
    assert f"{cert.serial_number:X}" == merchant["platform_serial_no"]


def test_registering_with_a_public_key_answers_201(client):
    answer = client.post("/_sandbox/merchants", json=registration())
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["merchant_serial_no"] == "1A2B3C"  # serials compare in upper hex, as Wechatpay-Serial carries them
    assert body["public_key_id"].startswith("PUB_KEY_ID_")
    assert client.get("/_sandbox/merchants/wechatpay/1900000777").get_json() == body


def test_registering_with_a_certificate_takes_its_serial(client):
    cert_pem = (FIXTURES / "demo/merchant_cert.pem").read_text()
    answer = client.post(
        "/_sandbox/merchants",
        json=registration(merchant_public_key=None, merchant_serial_no=None, merchant_certificate=cert_pem),
    )
    assert answer.status_code == 201
    serial = x509.load_pem_x509_certificate(cert_pem.encode()).serial_number
    assert answer.get_json()["merchant_serial_no"] == f"{serial:X}"


def test_registration_errors_say_which_field(client):
    cases = {
        "apiv3_key": registration(apiv3_key="short"),
        "api_key": registration(api_key="x" * 31),
        "merchant_serial_no": registration(merchant_serial_no="not hex!"),
        "appid": registration(appid=""),
        "merchant_public_key": registration(merchant_public_key="nope"),
        "merchant_certificate": registration(merchant_public_key=None, merchant_certificate="-----BEGIN CERT"),
    }
    for field, body in cases.items():
        answer = client.post("/_sandbox/merchants", json=body)
        assert answer.status_code == 400, field
        assert field in answer.get_json()["error"]["message"], answer.get_json()
    mismatch = registration(
        merchant_public_key=None,
        merchant_serial_no="ABC",
        merchant_certificate=(FIXTURES / "demo/merchant_cert.pem").read_text(),
    )
    assert "not the serial" in client.post("/_sandbox/merchants", json=mismatch).get_json()["error"]["message"]


def test_secrets_are_write_only_every_answer_says_only_whether_they_are_set(client):
    secrets = ("k" * 32, "v" * 32)
    answers = [client.post("/_sandbox/merchants", json=registration())]
    answers += [client.get("/_sandbox/merchants/wechatpay/1900000777"), client.get("/_sandbox/merchants")]
    for answer in answers:
        assert answer.status_code in (200, 201)
        assert not [s for s in secrets if s in answer.get_data(as_text=True)]
    body = answers[0].get_json()
    assert (body["apiv3_key_set"], body["api_key_set"]) == (True, True)
    assert "apiv3_key" not in body and "api_key" not in body

    without_v2 = client.post("/_sandbox/merchants", json={**registration(), "api_key": None}).get_json()
    assert (without_v2["apiv3_key_set"], without_v2["api_key_set"]) == (True, False)


def test_the_demo_merchants_secrets_are_not_served_either(client):
    demo = json.loads((FIXTURES / "demo/merchant.json").read_text())
    listed = client.get("/_sandbox/merchants").get_data(as_text=True)
    assert demo["apiv3_key"] not in listed and demo["api_key"] not in listed


def test_a_mchid_in_digits_other_than_ascii_is_refused(client):
    for mchid in ("１９０００００７７７", "190000077²"):
        answer = client.post("/_sandbox/merchants", json=registration(merchant_id=mchid))
        assert answer.status_code == 400 and "up to 32 digits" in answer.get_json()["error"]["message"]
