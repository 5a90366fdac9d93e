"""keys.zip over the test client: a demo merchant's holds its TEST-ONLY private key from fixtures/, a registered
merchant's only public material; an unknown merchant, or one of another namespace, is a 404."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def keys_zip(client, path: str) -> zipfile.ZipFile:
    reply = client.get(f"/_sandbox/console/merchants/{path}/keys.zip")
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.mimetype == "application/zip"
    assert reply.headers["Content-Disposition"] == f'attachment; filename="{path.replace("/", "-")}-keys.zip"'
    return zipfile.ZipFile(io.BytesIO(reply.data))


def test_a_demo_merchant_s_zip_holds_its_fixture_keys_the_sandbox_s_public_material_and_the_ids(client):
    archive = keys_zip(client, "alipay/2021000000000001")
    assert sorted(archive.namelist()) == [
        "README.txt",
        "alipay_public_key.pem",
        "alipay_public_key_cert.pem",
        "alipay_root_cert.pem",
        "app_private_key.pem",
        "app_public_key.pem",
        "app_public_key_cert.pem",
        "merchant.json",
    ]
    assert archive.read("app_private_key.pem") == (FIXTURES / "alipay/demo/app_private_key.pem").read_bytes()
    assert archive.read("alipay_public_key.pem").decode().strip() == (
        (FIXTURES / "alipay/sandbox/alipay_public_key.pem").read_text().strip()
    )
    ids = json.loads(archive.read("merchant.json"))
    assert ids["app_id"] == "2021000000000001" and ids["gateway_url"] == "http://localhost/gateway.do"
    readme = archive.read("README.txt").decode()
    assert "TEST-ONLY" in readme and "demo merchant" in readme
    assert all(name in readme for name in archive.namelist())

    wechat = keys_zip(client, "wechatpay/1900000109")
    ids = json.loads(wechat.read("merchant.json"))
    demo = json.loads((FIXTURES / "wechatpay/demo/merchant.json").read_text())
    assert ids["apiv3_key"] == demo["apiv3_key"] and ids["merchant_serial_no"] == demo["merchant_serial_no"]
    assert (
        wechat.read("merchant_private_key.pem") == (FIXTURES / "wechatpay/demo/merchant_private_key.pem").read_bytes()
    )

    union = keys_zip(client, "unionpay/777290058110097")
    assert union.read("acp_test_sign.pfx") == (FIXTURES / "unionpay/demo/acp_test_sign.pfx").read_bytes()
    assert json.loads(union.read("merchant.json"))["certId"] == "69629715588"


def test_a_registered_merchant_s_zip_has_no_private_key(client):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    body = {"gateway": "alipay", "merchant_id": "2021000000000042", "app_public_key": public_pem}
    assert client.post("/_sandbox/merchants", json=body).status_code == 201

    archive = keys_zip(client, "alipay/2021000000000042")
    assert "app_private_key.pem" not in archive.namelist()
    assert archive.read("app_public_key.pem").decode().strip() == public_pem.strip()
    assert "the private key stays with whoever generated it" in archive.read("README.txt").decode()


def test_the_demo_merchant_s_id_re_registered_with_another_key_is_no_longer_a_demo(client):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    body = {"gateway": "alipay", "merchant_id": "2021000000000001", "app_public_key": public_pem}
    assert client.post("/_sandbox/merchants", json=body).status_code == 201
    assert "app_private_key.pem" not in keys_zip(client, "alipay/2021000000000001").namelist()


def test_an_unknown_merchant_or_one_of_another_namespace_is_a_404(client):
    reply = client.get("/_sandbox/console/merchants/alipay/2021999999999999/keys.zip")
    assert reply.status_code == 404 and "2021999999999999" in reply.get_data(as_text=True)
    assert client.post("/_sandbox/namespaces", json={"name": "team-a"}).status_code == 201
    reply = client.get("/_sandbox/console/merchants/alipay/2021000000000001/keys.zip?ns=team-a")
    assert reply.status_code == 404
    reply = client.get("/_sandbox/console/merchants/paypal/1/keys.zip")
    assert reply.status_code == 400 and "gateway must be one of" in reply.get_data(as_text=True)
