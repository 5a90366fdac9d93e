"""WeChat Pay v3 request authentication and response signing.

docs/protocols/wechatpay-v3.md#request-signature and docs/protocols/wechatpay-v3.md#signed-answers say what is
signed and checked."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass

from sandbox.core import crypto
from sandbox.gateways.wechatpay.keys import CERTIFICATE_MODE, PUBLIC_KEY_MODE, WechatKeys
from sandbox.gateways.wechatpay.v3.errors import sign_error

SCHEME = "WECHATPAY2-SHA256-RSA2048"
# The look-behind starts a name only at a word's start: without it a long run of word characters costs quadratic time.
AUTH_FIELD = re.compile(r'(?<!\w)(\w+)="([^"]*)"')
MAX_AUTHORIZATION = 4096  # a real header is about 600 characters (mchid, nonce, timestamp, serial, a 2048-bit sign)
AUTH_FIELDS = ("mchid", "nonce_str", "signature", "timestamp", "serial_no")
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # longer is no time at all (and would overflow a float)
MAX_SKEW = 300  # seconds, as the real gateway allows
QUOTED_BODY = 8  # characters of the body WeChat quotes in a SIGN_ERROR's truncated_sign_message
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"  # how WeChat's probe traffic (签名探测) signs: no signature at all

# WeChat's own words for each 401 (its FAQ "为什么请求返回401 Unauthorized"); the sandbox's explanation follows.
HEADER_MALFORMED = "Http头Authorization值格式错误"
SCHEME_UNSUPPORTED = "Http头Authorization认证类型不正确"
TIMESTAMP_TOO_FAR = "Http头Authorization中的timestamp与发起请求的时间不得超过5分钟"
SERIAL_WRONG = "商户证书序列号有误。"
SIGNATURE_WRONG = "错误的签名，验签失败"


@dataclass
class Caller:
    """An authenticated v3 request: who sent it and which key its SDK asked answers to be signed with."""

    merchant: dict
    mode: str

    @property
    def mchid(self) -> str:
        return self.merchant["merchant_id"]


def parse_authorization(header: str) -> dict[str, str]:
    if not header:
        raise sign_error(
            HEADER_MALFORMED,
            f"the Authorization header is missing; v3 requests are signed ({SCHEME})",
            "Authorization",
            "missing",
            location="header",
        )
    if len(header) > MAX_AUTHORIZATION:
        raise sign_error(
            HEADER_MALFORMED,
            f"the Authorization header is {len(header)} characters long; a real one is about 600 ({SCHEME} "
            'mchid="...",nonce_str="...",signature="...",timestamp="...",serial_no="...")',
            "Authorization",
            "too long",
            location="header",
        )
    scheme, _, rest = header.partition(" ")
    if scheme != SCHEME:
        raise sign_error(
            SCHEME_UNSUPPORTED,
            f"the Authorization scheme must be {SCHEME}, got {scheme[:64]!r}",
            "Authorization",
            f"scheme must be {SCHEME}",
            location="header",
        )
    fields = dict(AUTH_FIELD.findall(rest))
    missing = [n for n in AUTH_FIELDS if not fields.get(n)]
    if missing:
        raise sign_error(
            HEADER_MALFORMED,
            f'the Authorization header lacks {", ".join(missing)} (each as name="value", comma-separated)',
            missing[0],
            "missing",
        )
    return fields


def signing_string(method: str, uri: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{uri}\n{timestamp}\n{nonce}\n{body}\n"


def signed_message(method: str, uri: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The five lines as bytes; over the raw body, so a body that is not UTF-8 still verifies (and is then refused
    as a body, 400)."""
    return signing_string(method, uri, timestamp, nonce, "")[:-1].encode("utf-8") + body + b"\n"


def sign_information(method: str, uri: str, timestamp: str, nonce: str, body: bytes) -> dict:
    """What WeChat's SIGN_ERROR detail says it verified: the string's length in bytes, and the string with its
    body cut to the first QUOTED_BODY characters."""
    head = signing_string(method, uri, timestamp, nonce, "")[:-1]
    quoted = body.decode("utf-8", "replace")[:QUOTED_BODY]
    return {
        "method": method,
        "sign_message_length": len(head.encode("utf-8")) + len(body) + 1,
        "truncated_sign_message": f"{head}{quoted}\n",
        "url": uri,
    }


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
    information = sign_information(method, uri, fields["timestamp"], fields["nonce_str"], body)
    if fields["serial_no"].upper() != merchant["merchant_serial_no"]:
        raise sign_error(
            SERIAL_WRONG,
            f"serial_no {fields['serial_no'][:64]} is not the certificate serial registered for mchid "
            f"{merchant['merchant_id']} ({merchant['merchant_serial_no']})",
            "serial_no",
            "serial_no not match",
            sign_information=information,
        )
    _check_timestamp(fields["timestamp"], now, information)
    raw = signed_message(method, uri, fields["timestamp"], fields["nonce_str"], body)
    key = crypto.load_public_key(merchant["merchant_public_key"])
    if not crypto.verify(key, raw, fields["signature"]):
        raise sign_error(
            SIGNATURE_WRONG,
            f"the signature does not verify with the merchant key registered under serial_no "
            f"{merchant['merchant_serial_no']} (fingerprint {crypto.fingerprint(key)}, SHA256withRSA). The sandbox "
            f"verified this string (\\n = newline); diff it with what you signed: {raw.decode('utf-8', 'replace')!r}",
            "signature",
            "sign not match",
            sign_information=information,
        )
    return Caller(merchant, PUBLIC_KEY_MODE if serial_header == keys.public_key_id else CERTIFICATE_MODE)


def _check_timestamp(timestamp: str, now: float, information: dict) -> None:
    if not UNIX_SECONDS.fullmatch(timestamp):
        raise sign_error(
            HEADER_MALFORMED,
            f"timestamp {timestamp[:64]!r} is not unix seconds (up to 12 digits)",
            "timestamp",
            "timestamp is not unix seconds",
            sign_information=information,
        )
    stamp = int(timestamp)
    # The SDKs stamp the host's real time; the sandbox clock may have been moved on by a test: accept either.
    if min(abs(stamp - now), abs(stamp - time.time())) > MAX_SKEW:
        raise sign_error(
            TIMESTAMP_TOO_FAR,
            f"timestamp {stamp} is more than {MAX_SKEW} s away from the sandbox clock ({int(now)}) and from real time",
            "timestamp",
            "timestamp expired",
            sign_information=information,
        )


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


def probe_signature(noise_hex: str) -> str:
    """A Wechatpay-Signature as WeChat's probe traffic carries it: PROBE_PREFIX, then base64 noise. The whole is not
    base64 of a signature (its length is no multiple of 4), so only a merchant that never verifies accepts it."""
    return PROBE_PREFIX + base64.b64encode(bytes.fromhex(noise_hex)).decode()
