"""Key loading that forgives the usual PEM mistakes, and sign/verify that never raise on bad input."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives import serialization

from sandbox.core import crypto

DATA = b"app_id=2021000000000001&biz_content={}&sign_type=RSA2"


def body_of(pem: str) -> str:
    """The base64 body of a PEM, on one line: what Alipay's console shows and people paste."""
    return re.sub(r"-----[A-Z ]+-----|\s+", "", pem)


def pkcs8_of(pkcs1_pem: str) -> str:
    key = serialization.load_pem_private_key(pkcs1_pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def pkcs1_public_of(spki_pem: str) -> str:
    key = serialization.load_pem_public_key(spki_pem.encode())
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()


@pytest.fixture(scope="module")
def app_key(alipay_demo):
    return crypto.load_private_key(alipay_demo.app_private_key)


@pytest.fixture(scope="module")
def app_public(alipay_demo):
    return crypto.load_public_key(alipay_demo.app_public_key)


# -- loading ------------------------------------------------------------------------------------------


def test_private_key_loads_from_pkcs1_pem(alipay_demo, app_public):
    assert "BEGIN RSA PRIVATE KEY" in alipay_demo.app_private_key
    key = crypto.load_private_key(alipay_demo.app_private_key)
    assert key.has_private() and key.public_key() == app_public


def test_private_key_loads_from_pkcs8_pem(alipay_demo, app_key):
    text = pkcs8_of(alipay_demo.app_private_key)
    assert "BEGIN PRIVATE KEY" in text
    assert crypto.load_private_key(text) == app_key


@pytest.mark.parametrize("wrap", ["pkcs1", "pkcs8"])
def test_private_key_loads_from_bare_base64_body(alipay_demo, app_key, wrap):
    pem = alipay_demo.app_private_key if wrap == "pkcs1" else pkcs8_of(alipay_demo.app_private_key)
    assert crypto.load_private_key(body_of(pem)) == app_key


def test_private_key_loads_with_windows_line_endings(alipay_demo, app_key):
    assert crypto.load_private_key(alipay_demo.app_private_key.replace("\n", "\r\n")) == app_key


def test_private_key_refuses_a_public_key(alipay_demo):
    with pytest.raises(crypto.KeyFormatError, match="private key is needed"):
        crypto.load_private_key(alipay_demo.app_public_key)


@pytest.mark.parametrize(
    "text", ["", "not a key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----", "QUJD"]
)
def test_private_key_refuses_garbage_with_key_format_error(text):
    with pytest.raises(crypto.KeyFormatError):
        crypto.load_private_key(text)


def test_public_key_loads_from_spki_pem(alipay_demo, app_key):
    assert crypto.load_public_key(alipay_demo.app_public_key) == app_key.public_key()


def test_public_key_loads_from_pkcs1_pem(alipay_demo, app_public):
    text = pkcs1_public_of(alipay_demo.app_public_key)
    assert "BEGIN RSA PUBLIC KEY" in text
    assert crypto.load_public_key(text) == app_public


def test_public_key_loads_from_bare_base64_body(alipay_demo, app_public):
    assert crypto.load_public_key(body_of(alipay_demo.app_public_key)) == app_public


def test_public_key_loads_from_a_certificate(alipay_demo, app_public):
    assert crypto.load_public_key(alipay_demo.app_cert) == app_public
    alipay_public = crypto.load_public_key(alipay_demo.alipay_public_key)
    assert crypto.load_public_key(alipay_demo.alipay_public_key_cert) == alipay_public


def test_public_key_of_a_private_key_is_its_public_half(alipay_demo, app_public):
    assert crypto.load_public_key(alipay_demo.app_private_key) == app_public
    assert not crypto.load_public_key(alipay_demo.app_private_key).has_private()


@pytest.mark.parametrize("text", ["", "garbage!", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"])
def test_public_key_refuses_garbage_with_key_format_error(text):
    with pytest.raises(crypto.KeyFormatError):
        crypto.load_public_key(text)


def test_public_pem_is_spki(app_key, app_public):
    text = crypto.public_pem(app_key)
    assert text.startswith("-----BEGIN PUBLIC KEY-----") and text.endswith("-----END PUBLIC KEY-----\n")
    assert crypto.load_public_key(text) == app_public


def test_fingerprint_is_the_same_for_both_halves_and_differs_between_keys(alipay_demo, app_key, app_public):
    assert crypto.fingerprint(app_key) == crypto.fingerprint(app_public)
    assert re.fullmatch(r"[0-9a-f]{16}", crypto.fingerprint(app_key))
    assert crypto.fingerprint(crypto.load_public_key(alipay_demo.alipay_public_key)) != crypto.fingerprint(app_key)


# -- signing and verifying ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hash_name", ["SHA256", "SHA1"])
def test_sign_then_verify_round_trips(app_key, app_public, hash_name):
    signature = crypto.sign(app_key, DATA, hash_name)
    assert len(base64.b64decode(signature)) == app_key.size_in_bytes()
    assert crypto.verify(app_public, DATA, signature, hash_name)


def test_signing_is_deterministic_and_depends_on_the_hash(app_key):
    assert crypto.sign(app_key, DATA) == crypto.sign(app_key, DATA, "SHA256")
    assert crypto.sign(app_key, DATA, "SHA1") != crypto.sign(app_key, DATA, "SHA256")


def test_verify_fails_with_the_other_hash(app_key, app_public):
    assert not crypto.verify(app_public, DATA, crypto.sign(app_key, DATA, "SHA1"), "SHA256")
    assert not crypto.verify(app_public, DATA, crypto.sign(app_key, DATA, "SHA256"), "SHA1")


def test_verify_fails_for_other_data_or_other_key(alipay_demo, app_key, app_public):
    signature = crypto.sign(app_key, DATA)
    assert not crypto.verify(app_public, DATA + b"x", signature)
    assert not crypto.verify(crypto.load_public_key(alipay_demo.alipay_public_key), DATA, signature)


def test_verify_tolerates_whitespace_in_the_signature(app_key, app_public):
    signature = crypto.sign(app_key, DATA)
    wrapped = "\n".join(signature[i : i + 76] for i in range(0, len(signature), 76)) + "\n"
    assert crypto.verify(app_public, DATA, wrapped)
    assert crypto.verify(app_public, DATA, " " + signature.replace("A", "A ") + "\r\n")


@pytest.mark.parametrize(
    "signature",
    ["", "!!!not base64!!!", "abc", "QUJD", "签名", "====", base64.b64encode(b"\0" * 256).decode(), "A" * 10000, None],
)
def test_verify_returns_false_and_never_raises_on_garbage(app_public, signature):
    assert crypto.verify(app_public, DATA, signature) is False
