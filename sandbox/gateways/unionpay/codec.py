"""ACP's wire format: the signing string, the double-hash signature and key=value answers.

docs/protocols/unionpay.md#signature and docs/protocols/unionpay.md#answers describe them."""

from __future__ import annotations

import hashlib

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query, split_pairs

# version -> the hash used twice: over the signing string (as hex text), then inside the RSA signature.
HASHES = {"5.1.0": (hashlib.sha256, "SHA256"), "5.0.0": (hashlib.sha1, "SHA1")}


def signing_string(fields: dict[str, str]) -> str:
    """Every field but `signature`, blank values dropped, sorted, joined `k=v` with `&`, not URL-encoded."""
    return sorted_query(fields, exclude=("signature",))


def digest_hex(fields: dict[str, str], version: str = "5.1.0") -> str:
    """What RSA actually signs: the lower-case hex digest of the signing string, as ASCII text."""
    text_hash, _ = HASHES[version]
    return text_hash(signing_string(fields).encode("utf-8")).hexdigest()


def sign(fields: dict[str, str], key: crypto.RsaKey, version: str = "5.1.0") -> str:
    _, rsa_hash = HASHES[version]
    return crypto.sign(key, digest_hex(fields, version).encode(), rsa_hash)


def verify(fields: dict[str, str], key: crypto.RsaKey, version: str = "5.1.0") -> bool:
    if version not in HASHES:
        return False
    _, rsa_hash = HASHES[version]
    signature = fields.get("signature", "")
    if any(char.isspace() for char in signature):  # ACP's signature is strict base64: no line breaks tolerated
        return False
    return crypto.verify(key, digest_hex(fields, version).encode(), signature, rsa_hash)


def render(fields: dict[str, str]) -> str:
    """A synchronous answer: `k=v&k=v`, values raw (they may hold `=`, `&` in braces, PEM newlines)."""
    return "&".join(f"{key}={value}" for key, value in fields.items() if value not in (None, ""))


def parse(text: str) -> dict[str, str]:
    """Read a key=value answer as clients do (the Java client also strips one `{...}` wrapping a whole body; the
    sandbox never writes one)."""
    return split_pairs(text)
