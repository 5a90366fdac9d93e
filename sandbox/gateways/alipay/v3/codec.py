"""Alipay OpenAPI v3 wire format: the `Authorization` header, the string the app signs, signed answers.

A request carries `Authorization: ALIPAY-SHA256withRSA <authString>,sign=<base64>`. authString is comma-separated
`k=v` pairs (app_id, app_cert_sn in certificate mode, nonce, timestamp in milliseconds, optionally
expired_seconds); SDKs emit them in different orders, so the signature is checked over the raw text before
`,sign=`. The app signs `authString\\nMETHOD\\npath-and-query\\nbody\\n` (plus `token\\n` when
`alipay-app-auth-token` is sent). An answer is signed by Alipay over `timestamp\\nnonce\\nbody\\n`, carried in
`alipay-timestamp`, `alipay-nonce` and `alipay-signature` headers (and `alipay-sn` in certificate mode).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sandbox.core import crypto
from sandbox.gateways.alipay.keys import AlipayKeys
from sandbox.gateways.alipay.v3.errors import V3Error

SCHEME = "ALIPAY-SHA256withRSA"
MAX_SKEW_MS = 5 * 60 * 1000  # how far a timestamp may be from now when the request sets no expired_seconds
MAX_EXPIRED_SECONDS = 24 * 3600
MAX_AUTHORIZATION = 4096  # a real one is about 450 characters (app_id, SN, nonce, timestamp, a 2048-bit sign)
_KEY = re.compile(r"^[a-z_]{1,32}$")
_FORM = "ALIPAY-SHA256withRSA app_id=...,nonce=...,timestamp=<ms>,sign=<base64>"


@dataclass(frozen=True)
class Authorization:
    """A parsed Authorization header: the raw authString the app signed, its pairs, and the signature."""

    auth_string: str
    fields: dict[str, str]
    sign: str

    @property
    def app_id(self) -> str:
        return self.fields.get("app_id", "")

    @property
    def app_cert_sn(self) -> str:
        return self.fields.get("app_cert_sn", "")


def parse_authorization(header: str) -> Authorization:
    """The header split into its parts; a V3Error that says what is wrong with it otherwise."""
    if not header:
        raise V3Error(401, "missing-signature", f"the Authorization header is missing; v3 requests are signed: {_FORM}")
    if len(header) > MAX_AUTHORIZATION:
        raise V3Error(401, "invalid-signature", f"the Authorization header is {len(header)} characters long: {_FORM}")
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME:
        raise V3Error(
            401, "invalid-signature-type", f"the Authorization scheme must be {SCHEME}, got {scheme[:40]!r}: {_FORM}"
        )
    auth_string, found, sign = rest.strip().rpartition(",sign=")
    if not found or not sign:
        raise V3Error(401, "missing-signature", f"the Authorization header has no ',sign=<base64>' at its end: {_FORM}")
    fields: dict[str, str] = {}
    for pair in auth_string.split(","):
        key, equals, value = pair.partition("=")
        if not equals or not _KEY.match(key):
            raise V3Error(401, "invalid-signature", f"the authString part {pair[:60]!r} is not a k=v pair: {_FORM}")
        fields[key] = value
    return Authorization(auth_string, fields, sign)


def check_identity(auth: Authorization) -> None:
    """app_id, nonce and timestamp are present and well formed (the timestamp's age is checked apart)."""
    if not auth.app_id:
        raise V3Error(400, "missing-app-id", "the authString has no app_id")
    if not (auth.fields.get("nonce") or auth.fields.get("nonce_str")):
        raise V3Error(400, "missing-nonce", "the authString has no nonce (the SDKs send a UUID)")
    stamp = auth.fields.get("timestamp", "")
    if not stamp:
        raise V3Error(400, "missing-timestamp", "the authString has no timestamp (Unix milliseconds)")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 15:
        raise V3Error(400, "invalid-timestamp", f"timestamp must be Unix milliseconds, got {stamp[:40]!r}")
    expired = auth.fields.get("expired_seconds", "")
    if expired and not (expired.isascii() and expired.isdigit() and 0 < int(expired) <= MAX_EXPIRED_SECONDS):
        raise V3Error(
            400, "invalid-parameter", f"expired_seconds must be whole seconds from 1 to {MAX_EXPIRED_SECONDS}"
        )


def check_timestamp(auth: Authorization, sandbox_now_ms: int) -> None:
    """Refuse a stamp too far in the past (its expired_seconds, or five minutes) or the future.

    SDKs stamp the host's real time while a test may have moved the sandbox clock on: either is accepted.
    """
    stamp = int(auth.fields["timestamp"])
    real_now_ms = int(time.time() * 1000)
    expired = auth.fields.get("expired_seconds")
    past_limit = int(expired) * 1000 if expired else MAX_SKEW_MS
    for now in (real_now_ms, sandbox_now_ms):
        if now - past_limit <= stamp <= now + MAX_SKEW_MS:
            return
    behind = real_now_ms - stamp
    where = f"{abs(behind) // 1000} s in the {'past' if behind > 0 else 'future'}"
    raise V3Error(
        400,
        "invalid-timestamp",
        f"timestamp {stamp} is {where} (now is {real_now_ms}); a request is valid for "
        f"{past_limit // 1000} s after it is signed and at most {MAX_SKEW_MS // 1000} s ahead: check the host's clock",
    )


def signing_prefix(auth: Authorization, method: str, path_and_query: str) -> str:
    return f"{auth.auth_string}\n{method}\n{path_and_query}\n"


def signed_message(auth: Authorization, method: str, path_and_query: str, body: bytes, app_auth_token: str) -> bytes:
    """The bytes the app signs: authString, method, path and query, body, and the app auth token if sent, each
    followed by a newline."""
    signed = signing_prefix(auth, method, path_and_query).encode("utf-8") + body + b"\n"
    return signed + (app_auth_token.encode("utf-8") + b"\n" if app_auth_token else b"")


def verify(
    auth: Authorization, method: str, path_and_query: str, body: bytes, app_auth_token: str, merchant: dict
) -> None:
    """Check the signature over the bytes the app signed; the failure names the string and the key."""
    signed = signed_message(auth, method, path_and_query, body, app_auth_token)
    key = crypto.load_public_key(merchant["app_public_key"])
    if crypto.verify(key, signed, auth.sign):
        return
    raise V3Error(
        401,
        "invalid-signature",
        f"the signature does not verify with the app public key registered for app_id {auth.app_id} "
        f"(fingerprint {crypto.fingerprint(key)}, SHA256withRSA). The sandbox verified this string "
        f"(\\n = newline); diff it with what you signed: {signed.decode('utf-8', 'replace')!r}",
        link="https://opendocs.alipay.com/open-v3/054q58",
    )


def signed_headers(body: bytes, keys: AlipayKeys, nonce: str, trace_id: str, cert_mode: bool) -> dict[str, str]:
    """What every answer carries: Alipay's signature over `timestamp\\nnonce\\nbody\\n`, and the trace id."""
    stamp = str(int(time.time() * 1000))
    message = f"{stamp}\n{nonce}\n{body.decode('utf-8')}\n"
    headers = {
        "alipay-timestamp": stamp,
        "alipay-nonce": nonce,
        "alipay-signature": keys.sign(message, "RSA2"),
        "alipay-trace-id": trace_id,
    }
    if cert_mode:
        headers["alipay-sn"] = keys.alipay_cert_sn
    return headers
