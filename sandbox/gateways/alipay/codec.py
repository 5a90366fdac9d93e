"""Alipay OpenAPI wire format: parse gateway.do requests, verify them, render signed JSON envelopes."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.gateways.alipay.errors import invalid
from sandbox.gateways.alipay.keys import HASH_OF, AlipayKeys

CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gbk", "gb2312": "gbk"}


def parse_params(raw_query: bytes, raw_body: bytes, content_type: str) -> dict[str, str]:
    """Query and form merged (form wins), decoded strictly in the request's declared charset."""
    form = raw_body if (not content_type or "x-www-form-urlencoded" in content_type.lower()) else b""
    charset = _declared_charset(raw_query, form)
    params: dict[str, str] = {}
    for source in (raw_query, form):
        text = source.decode("latin-1")
        try:
            pairs = parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict")
        except UnicodeDecodeError as exc:
            raise invalid(
                "isv.invalid-charset",
                f"the request is not valid {charset}: {exc.reason} at byte {exc.start}; "
                f"declare the charset you encode with (charset=utf-8 or gbk)",
            ) from None
        params.update(pairs)
    return params


def _declared_charset(*sources: bytes) -> str:
    for source in sources:
        for key, value in parse_qsl(source.decode("latin-1"), keep_blank_values=True):
            if key == "charset":
                if value.lower() not in CHARSETS:
                    raise invalid("isv.invalid-charset", f"charset {value!r} is not supported; use utf-8 or gbk")
                return CHARSETS[value.lower()]
    return "utf-8"


def charset_of(params: dict[str, str]) -> str:
    return CHARSETS.get(params.get("charset", "utf-8").lower(), "utf-8")


def signing_string(params: dict[str, str]) -> str:
    """What the merchant signs: every parameter but `sign`, sorted, raw values, empties dropped."""
    return sorted_query(params, exclude=("sign",))


def signed_bytes(params: dict[str, str]) -> bytes:
    # The SDKs sign the bytes of the declared charset (the official SDK with charset=GBK signs GBK).
    return signing_string(params).encode(charset_of(params), errors="replace")


def verifies(params: dict[str, str], app_public_key_pem: str) -> bool:
    """Whether `sign` is the app's signature over the string to sign, with the hash `sign_type` names."""
    key = crypto.load_public_key(app_public_key_pem)
    return crypto.verify(key, signed_bytes(params), params["sign"], HASH_OF[params["sign_type"]])


def verify_request(params: dict[str, str], app_public_key_pem: str, app_id: str) -> None:
    if verifies(params, app_public_key_pem):
        return
    content = signing_string(params)
    sign_type = params["sign_type"]
    key = crypto.load_public_key(app_public_key_pem)
    raise invalid(
        "isv.invalid-signature",
        f"verified with the app public key registered for app_id {app_id} "
        f"(fingerprint {crypto.fingerprint(key)}, {sign_type} = SHA{'256' if sign_type == 'RSA2' else '1'}"
        f"withRSA). The sandbox checked your signature over this string; diff it with what you signed: "
        f"{content}",
    )


def dumps(value: object) -> str:
    """Compact JSON, Chinese kept as is, and no raw braces inside strings (python-alipay-sdk counts them)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("{", "\\u007b").replace("}", "\\u007d")
    return json.dumps(value)


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def fit_charset(text: str, charset: str) -> str:
    """Write what the answer's charset cannot hold (an emoji in GBK) as JSON escapes, so it can be encoded."""
    if charset == "utf-8":
        return text
    return "".join(c if c.encode(charset, errors="ignore") else json.dumps(c)[1:-1] for c in text)


def envelope(
    key: str, inner: dict, keys: AlipayKeys | None, sign_type: str, cert_mode: bool = False, charset: str = "utf-8"
) -> str:
    """`{"<key>":{...},"sign":"..."}` signed over the exact inner text (in `charset`); unsigned when keys is None."""
    text = fit_charset(dumps(inner), charset)
    if keys is None:
        return '{"' + key + '":' + text + "}"
    body = '{"' + key + '":' + text + ',"sign":"' + keys.sign(text, sign_type, charset) + '"'
    if cert_mode:
        # The official SDK needs "sign" right after the response object, so the SN goes last.
        body += ',"alipay_cert_sn":"' + keys.alipay_cert_sn + '"'
    return body + "}"
