"""A fresh TEST-ONLY merchant: an RSA 2048 key pair (and the certificate UnionPay registration needs), fresh ids
for what was left blank, and the registration body carrying only the public half."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

PKCS12_PASSWORD = "000000"  # as UnionPay's test .pfx files have it
KEY_CHARS = string.ascii_letters + string.digits


@dataclass
class NewMerchant:
    """What the console registers (`registration`) and what only the generated zip ever holds."""

    registration: dict
    private_files: dict[str, bytes] = field(default_factory=dict)
    secrets: dict = field(default_factory=dict)
    private_pem: str = ""


def _digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _private_pem(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    public = key.public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _self_signed(key: rsa.RSAPrivateKey, common_name: str, serial: int) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


def new_merchant(gateway: str, form: dict) -> NewMerchant:
    """A key pair and the registration of its public half; ids and keys left blank in `form` are made up."""
    key = _key()
    name = form.get("name", "").strip()
    if gateway == "alipay":
        app_id = form.get("merchant_id", "").strip() or "2021" + _digits(12)
        private = _private_pem(key, serialization.PrivateFormat.TraditionalOpenSSL)  # PKCS#1, as the demo's
        body = {"merchant_id": app_id, "app_public_key": _public_pem(key)}
        made = NewMerchant(body, {"app_private_key.pem": private.encode()}, private_pem=private)
    elif gateway == "wechatpay":
        private = _private_pem(key, serialization.PrivateFormat.PKCS8)  # wechatpayv3 reads PKCS#8 only
        keys = {k: form.get(k, "").strip() or _secret(32) for k in ("apiv3_key", "api_key")}
        body = {
            "merchant_id": form.get("merchant_id", "").strip() or "19" + _digits(8),
            "appid": form.get("appid", "").strip() or "wx" + secrets.token_hex(8),
            "merchant_public_key": _public_pem(key),
            "merchant_serial_no": secrets.token_hex(20).upper(),  # no certificate needed: a serial names the key
            **keys,
        }
        if form.get("key_mode", "").strip():
            body["key_mode"] = form["key_mode"].strip()
        made = NewMerchant(body, {"merchant_private_key.pem": private.encode()}, keys, private)
    else:
        mer_id = form.get("merchant_id", "").strip() or "777" + _digits(12)
        serial = int("7" + _digits(10))  # the certId: the certificate's decimal serial
        cert = _self_signed(key, f"paysandbox TEST-ONLY merchant {mer_id}", serial)
        cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        private = _private_pem(key, serialization.PrivateFormat.PKCS8)
        pfx = pkcs12.serialize_key_and_certificates(
            b"merchant", key, cert, None, serialization.BestAvailableEncryption(PKCS12_PASSWORD.encode())
        )
        body = {"merchant_id": mer_id, "merchant_certificate": cert_pem}
        files = {"merchant_private_key.pem": private.encode(), "merchant.pfx": pfx}
        made = NewMerchant(body, files, {"pkcs12_password": PKCS12_PASSWORD}, private)
    made.registration = {"gateway": gateway, **({"name": name} if name else {}), **made.registration}
    return made


def _secret(length: int) -> str:
    return "".join(secrets.choice(KEY_CHARS) for _ in range(length))
