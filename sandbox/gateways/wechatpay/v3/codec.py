"""WeChat Pay v3 request authentication and response signing (PROTOCOLS.md B.3, B.4)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sandbox.core import crypto
from sandbox.gateways.wechatpay.keys import CERTIFICATE_MODE, PUBLIC_KEY_MODE, WechatKeys
from sandbox.gateways.wechatpay.v3.errors import sign_error

SCHEME = "WECHATPAY2-SHA256-RSA2048"
AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
MAX_SKEW = 300  # seconds, as the real gateway allows


@dataclass
class Caller:
    """An authenticated v3 request: who sent it and which key mode its SDK verifies answers with."""

    merchant: dict
    mode: str

    @property
    def mchid(self) -> str:
        return self.merchant["merchant_id"]


def parse_authorization(header: str) -> dict[str, str]:
    if not header:
        raise sign_error("the Authorization header is missing; v3 requests are signed (WECHATPAY2-SHA256-RSA2048)")
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME:
        raise sign_error(f"the Authorization scheme must be {SCHEME}, got {scheme!r}")
    fields = dict(AUTH_FIELD.findall(rest))
    missing = [n for n in ("mchid", "nonce_str", "signature", "timestamp", "serial_no") if not fields.get(n)]
    if missing:
        raise sign_error(f"the Authorization header lacks {', '.join(missing)}")
    return fields


def signing_string(method: str, uri: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{uri}\n{timestamp}\n{nonce}\n{body}\n"


def authenticate(
    fields: dict[str, str],
    merchant: dict,
    method: str,
    uri: str,
    body: bytes,
    now: float,
    serial_header: str,
    keys: WechatKeys,
) -> Caller:
    """Check serial, timestamp and signature; the message of each failure says exactly what was checked."""
    if fields["serial_no"].upper() != merchant["merchant_serial_no"]:
        raise sign_error(
            f"serial_no {fields['serial_no']} is not the certificate serial registered for mchid "
            f"{merchant['merchant_id']} ({merchant['merchant_serial_no']})"
        )
    try:
        stamp = int(fields["timestamp"])
    except ValueError:
        raise sign_error(f"timestamp {fields['timestamp']!r} is not unix seconds") from None
    # The SDKs stamp the host's real time; the sandbox clock may have been moved on by a test: accept either.
    if min(abs(stamp - now), abs(stamp - time.time())) > MAX_SKEW:
        raise sign_error(f"timestamp {stamp} is more than {MAX_SKEW} s away from the sandbox clock ({int(now)})")
    # Over the raw bytes: a body that is not UTF-8 still verifies, and is then refused as a body (400).
    prefix = signing_string(method, uri, fields["timestamp"], fields["nonce_str"], "")[:-1]
    raw = prefix.encode("utf-8") + body + b"\n"
    message = raw.decode("utf-8", "replace")
    key = crypto.load_public_key(merchant["merchant_public_key"])
    if not crypto.verify(key, raw, fields["signature"]):
        raise sign_error(
            f"the signature does not verify with the merchant key registered under serial_no "
            f"{merchant['merchant_serial_no']} (fingerprint {crypto.fingerprint(key)}, SHA256withRSA). The sandbox "
            f"verified this string (\\n = newline); diff it with what you signed: {message!r}"
        )
    mode = PUBLIC_KEY_MODE if serial_header == keys.public_key_id else CERTIFICATE_MODE
    return Caller(merchant, mode)


def signed_headers(body: str, keys: WechatKeys, mode: str, timestamp: int, nonce: str, request_id: str) -> dict:
    """The five Wechatpay-* headers every 2xx answer (and every notification) carries."""
    serial, signature = keys.sign(f"{timestamp}\n{nonce}\n{body}\n", mode)
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SCHEME,
        "Request-ID": request_id,
    }
