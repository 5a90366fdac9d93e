"""ACP's wire format: the signing string, the double-hash signature (D.3) and key=value answers (D.4)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from Crypto.Hash import SHA1, SHA256
from Crypto.PublicKey import RSA
from Crypto.Signature import pkcs1_15

from sandbox.core.canonical import sorted_query, split_pairs

# version -> the hash used twice: over the signing string (as hex text), then inside the RSA signature.
HASHES = {"5.1.0": (hashlib.sha256, SHA256), "5.0.0": (hashlib.sha1, SHA1)}


def signing_string(fields: dict[str, str]) -> str:
    """Every field but `signature`, blank values dropped, sorted, joined `k=v` with `&`, not URL-encoded."""
    return sorted_query(fields, exclude=("signature",))


def digest_hex(fields: dict[str, str], version: str = "5.1.0") -> str:
    """What RSA actually signs: the lower-case hex digest of the signing string, as ASCII text."""
    text_hash, _ = HASHES[version]
    return text_hash(signing_string(fields).encode("utf-8")).hexdigest()


def sign(fields: dict[str, str], key: RSA.RsaKey, version: str = "5.1.0") -> str:
    _, rsa_hash = HASHES[version]
    return base64.b64encode(pkcs1_15.new(key).sign(rsa_hash.new(digest_hex(fields, version).encode()))).decode()


def verify(fields: dict[str, str], key: RSA.RsaKey, version: str = "5.1.0") -> bool:
    if version not in HASHES:
        return False
    _, rsa_hash = HASHES[version]
    try:
        raw = base64.b64decode(fields.get("signature", ""), validate=True)
        pkcs1_15.new(key).verify(rsa_hash.new(digest_hex(fields, version).encode()), raw)
    except (ValueError, TypeError, binascii.Error):
        return False
    return True


def render(fields: dict[str, str]) -> str:
    """A synchronous answer: `k=v&k=v`, values raw (they may hold `=`, `&` in braces, PEM newlines)."""
    return "&".join(f"{key}={value}" for key, value in fields.items() if value not in (None, ""))


def parse(text: str) -> dict[str, str]:
    """Read a key=value answer as clients do (the Java client also strips one `{...}` wrapping a whole body; the
    sandbox never writes one)."""
    return split_pairs(text)
