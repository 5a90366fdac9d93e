"""RSA signing and verification, with key loading that forgives the usual PEM mistakes.

Keys are pycryptodome's (what the rest of the code reads and writes: PEM, DER, n and e); each signature is made and
checked by OpenSSL through `cryptography`, several times faster than pycryptodome's own RSA, with byte-identical
PKCS#1 v1.5 signatures. pycryptodome keeps what it does as well (AES, key parsing)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from functools import lru_cache

from Crypto.Hash import SHA1, SHA256
from Crypto.PublicKey import RSA
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

_HASHES = {"SHA256": SHA256, "SHA1": SHA1}
_OPENSSL_HASHES = {"SHA256": hashes.SHA256, "SHA1": hashes.SHA1}
_PKCS1_V15 = padding.PKCS1v15()
_PEM_BODY = re.compile(r"-----BEGIN [A-Z ]+-----|-----END [A-Z ]+-----|\s+")


class KeyFormatError(ValueError):
    """The text is not a key (or certificate) we can load."""


def _der_candidates(text: str) -> bytes:
    body = _PEM_BODY.sub("", text)
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise KeyFormatError("not a PEM key nor base64 DER") from exc


@lru_cache(maxsize=256)
def load_private_key(text: str) -> RSA.RsaKey:
    """A private key as PEM (PKCS#1 or PKCS#8) or as the bare base64 body Alipay's console shows."""
    try:
        key = RSA.import_key(text) if "-----BEGIN" in text else RSA.import_key(_der_candidates(text))
    except (ValueError, IndexError, TypeError) as exc:
        raise KeyFormatError(f"cannot read an RSA private key: {exc}") from exc
    if not key.has_private():
        raise KeyFormatError("this is a public key, a private key is needed")
    return key


@lru_cache(maxsize=1024)
def load_public_key(text: str) -> RSA.RsaKey:
    """A public key as PEM (SPKI or PKCS#1), bare base64, or the key inside an X.509 certificate PEM."""
    try:
        if "BEGIN CERTIFICATE" in text:
            from cryptography import x509
            from cryptography.hazmat.primitives import serialization

            cert = x509.load_pem_x509_certificate(text.encode())
            der = cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return RSA.import_key(der)
        key = RSA.import_key(text) if "-----BEGIN" in text else RSA.import_key(_der_candidates(text))
    except (ValueError, IndexError, TypeError) as exc:
        raise KeyFormatError(f"cannot read an RSA public key: {exc}") from exc
    return key.public_key()


def public_pem(key: RSA.RsaKey) -> str:
    return key.public_key().export_key("PEM").decode() + "\n"


def fingerprint(key: RSA.RsaKey) -> str:
    """A short, stable name for a key in error messages: sha256 of its public DER, first 16 hex digits."""
    return hashlib.sha256(key.public_key().export_key("DER")).hexdigest()[:16]


def _openssl_private(key: RSA.RsaKey):
    """The key as OpenSSL's, made once per key object (loaded keys are cached, so once per key)."""
    found = key.__dict__.get("_openssl_private")
    if found is None:
        found = key._openssl_private = serialization.load_der_private_key(key.export_key("DER"), password=None)
    return found


def _openssl_public(key: RSA.RsaKey):
    found = key.__dict__.get("_openssl_public")
    if found is None:
        found = key._openssl_public = serialization.load_der_public_key(key.public_key().export_key("DER"))
    return found


def sign(key: RSA.RsaKey, data: bytes, hash_name: str = "SHA256") -> str:
    """PKCS#1 v1.5 over `data` with SHA256 (RSA2, WeChat v3, UnionPay 5.1.0) or SHA1 (RSA, UnionPay 5.0.0), base64."""
    signature = _openssl_private(key).sign(data, _PKCS1_V15, _OPENSSL_HASHES[hash_name]())
    return base64.b64encode(signature).decode()


def verify(key: RSA.RsaKey, data: bytes, signature: str, hash_name: str = "SHA256") -> bool:
    """True if `signature` (base64, whitespace tolerated) is valid; never raises on malformed input."""
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", signature), validate=True)
        _openssl_public(key).verify(raw, data, _PKCS1_V15, _OPENSSL_HASHES[hash_name]())
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


def spoil(signature: str) -> str:
    """A well-formed base64 signature that verifies nothing: the same bytes with one bit flipped."""
    try:
        raw = bytearray(base64.b64decode(signature, validate=True))
    except (ValueError, binascii.Error):
        raw = bytearray(signature.encode())
    raw = raw or bytearray(1)
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# The DER prefix PKCS#1 v1.5 puts before each digest (RFC 8017, 9.2 note 1).
_DIGEST_INFO = {
    "SHA256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "SHA1": bytes.fromhex("3021300906052b0e03021a05000414"),
}


def recover_digest(key: RSA.RsaKey, signature: str) -> tuple[str, bytes] | None:
    """(hash name, digest) that a PKCS#1 v1.5 `signature` made by `key`'s private half carries; None when `key` did
    not make it (or it is not base64). Lets a diagnosis tell "another key" from "another string", and which hash."""
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", signature), validate=True)
    except (ValueError, binascii.Error):
        return None
    size = key.size_in_bytes()
    number = int.from_bytes(raw, "big")
    if len(raw) != size or number >= key.n:
        return None
    block = pow(number, key.e, key.n).to_bytes(size, "big")
    end = block.find(b"\x00", 2)
    if not block.startswith(b"\x00\x01") or end < 10 or block[2:end].strip(b"\xff"):
        return None
    info = block[end + 1 :]
    for name, prefix in _DIGEST_INFO.items():
        if info.startswith(prefix) and len(info) == len(prefix) + _HASHES[name].digest_size:
            return name, info[len(prefix) :]
    return None
