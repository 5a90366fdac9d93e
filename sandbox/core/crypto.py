"""RSA signing and verification, with key loading that forgives the usual PEM mistakes.

Keys are `RsaKey`: OpenSSL's (through `cryptography`) behind the few methods the rest of the code uses (PEM, DER, n
and e, the public half), so signing and verifying run on OpenSSL and start-up never loads pycryptodome, which stays
for AES where that is used."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from functools import cached_property, lru_cache

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_OPENSSL_HASHES = {"SHA256": hashes.SHA256, "SHA1": hashes.SHA1}
_DIGEST_SIZES = {"SHA256": 32, "SHA1": 20}
_PKCS1_V15 = padding.PKCS1v15()
_PEM_BODY = re.compile(r"-----BEGIN [A-Z ]+-----|-----END [A-Z ]+-----|\s+")
_UNREADABLE = "RSA key format is not supported"


class KeyFormatError(ValueError):
    """The text is not a key (or certificate) we can load."""


class RsaKey:
    """One RSA key, private or public, on OpenSSL; speaks the part of pycryptodome's RsaKey the code uses."""

    def __init__(self, openssl: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> None:
        self.openssl = openssl

    def has_private(self) -> bool:
        return isinstance(self.openssl, rsa.RSAPrivateKey)

    @cached_property
    def _public(self) -> rsa.RSAPublicKey:
        return self.openssl.public_key() if self.has_private() else self.openssl

    def public_key(self) -> RsaKey:
        return RsaKey(self._public) if self.has_private() else self

    @cached_property
    def _numbers(self) -> rsa.RSAPublicNumbers:
        return self._public.public_numbers()

    @property
    def n(self) -> int:
        return self._numbers.n

    @property
    def e(self) -> int:
        return self._numbers.e

    def size_in_bytes(self) -> int:
        return (self.n.bit_length() - 1) // 8 + 1

    def export_key(self, format: str = "PEM", pkcs: int = 1) -> bytes:
        """PKCS#1 (pkcs=1) or PKCS#8 (pkcs=8) for a private key, SubjectPublicKeyInfo for a public one; PEM without
        a final newline, as pycryptodome writes it."""
        encoding = serialization.Encoding.DER if format == "DER" else serialization.Encoding.PEM
        if self.has_private():
            layout = serialization.PrivateFormat.PKCS8 if pkcs == 8 else serialization.PrivateFormat.TraditionalOpenSSL
            data = self.openssl.private_bytes(encoding, layout, serialization.NoEncryption())
        else:
            data = self.openssl.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
        return data if format == "DER" else data.rstrip(b"\n")

    def __eq__(self, other: object) -> bool:
        """Equal halves of one key pair, as pycryptodome compares: a private key never equals a public one."""
        if not isinstance(other, RsaKey):
            return NotImplemented
        if self.has_private() != other.has_private():
            return False
        if self.has_private():
            return self.openssl.private_numbers() == other.openssl.private_numbers()
        return self._numbers == other._numbers

    def __hash__(self) -> int:
        return hash((self.n, self.e, self.has_private()))

    def __repr__(self) -> str:
        return f"<RsaKey {'private' if self.has_private() else 'public'} {self.n.bit_length()} bits>"


def _der_candidates(text: str) -> bytes:
    body = _PEM_BODY.sub("", text)
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise KeyFormatError("not a PEM key nor base64 DER") from exc


def _rsa(key) -> RsaKey:
    if not isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        raise KeyFormatError(_UNREADABLE)
    return RsaKey(key)


def _load_der(der: bytes, private_only: bool) -> RsaKey:
    """PKCS#1 or PKCS#8 private, else (unless private_only) SubjectPublicKeyInfo or PKCS#1 public."""
    try:
        return _rsa(serialization.load_der_private_key(der, password=None))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        if private_only:
            raise KeyFormatError(_UNREADABLE) from None
    try:
        return _rsa(serialization.load_der_public_key(der))
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFormatError(_UNREADABLE) from None


@lru_cache(maxsize=256)
def load_private_key(text: str) -> RsaKey:
    """A private key as PEM (PKCS#1 or PKCS#8) or as the bare base64 body Alipay's console shows."""
    try:
        key = _load_der(_der_candidates(text), private_only=False)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"cannot read an RSA private key: {exc}") from exc
    if not key.has_private():
        raise KeyFormatError("this is a public key, a private key is needed")
    return key


@lru_cache(maxsize=1024)
def load_public_key(text: str) -> RsaKey:
    """A public key as PEM (SPKI or PKCS#1), bare base64, or the key inside an X.509 certificate PEM."""
    try:
        if "BEGIN CERTIFICATE" in text:
            from cryptography import x509  # only certificate modes need it: not loaded at start

            return _rsa(x509.load_pem_x509_certificate(text.encode()).public_key())
        return _load_der(_der_candidates(text), private_only=False).public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"cannot read an RSA public key: {exc}") from exc


def public_pem(key: RsaKey) -> str:
    return key.public_key().export_key("PEM").decode() + "\n"


def fingerprint(key: RsaKey) -> str:
    """A short, stable name for a key in error messages: sha256 of its public DER, first 16 hex digits."""
    return hashlib.sha256(key.public_key().export_key("DER")).hexdigest()[:16]


def _openssl_private(key) -> rsa.RSAPrivateKey:
    """OpenSSL's private key; a key from elsewhere (pycryptodome's, say) is read from its DER once per call."""
    if isinstance(key, RsaKey):
        return key.openssl
    return serialization.load_der_private_key(key.export_key("DER"), password=None)


def _openssl_public(key) -> rsa.RSAPublicKey:
    if isinstance(key, RsaKey):
        return key._public
    return serialization.load_der_public_key(key.public_key().export_key("DER"))


def sign(key: RsaKey, data: bytes, hash_name: str = "SHA256") -> str:
    """PKCS#1 v1.5 over `data` with SHA256 (RSA2, WeChat v3, UnionPay 5.1.0) or SHA1 (RSA, UnionPay 5.0.0), base64."""
    signature = _openssl_private(key).sign(data, _PKCS1_V15, _OPENSSL_HASHES[hash_name]())
    return base64.b64encode(signature).decode()


def verify(key: RsaKey, data: bytes, signature: str, hash_name: str = "SHA256") -> bool:
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


def recover_digest(key: RsaKey, signature: str) -> tuple[str, bytes] | None:
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
        if info.startswith(prefix) and len(info) == len(prefix) + _DIGEST_SIZES[name]:
            return name, info[len(prefix) :]
    return None
