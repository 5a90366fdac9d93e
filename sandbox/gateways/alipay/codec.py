"""Alipay OpenAPI wire format: parse gateway.do requests, verify them, render signed JSON envelopes."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.gateways.alipay.errors import AlipayError, invalid
from sandbox.gateways.alipay.keys import HASH_OF, AlipayKeys

CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gbk", "gb2312": "gbk"}


PARSED = "paysandbox.alipay.params"  # where a request keeps its parameters (or why they are refused) once parsed


def request_params(request) -> dict[str, str]:
    """The parameters of a gateway.do request, parsed once for the fault filter and the view (do not mutate them)."""
    parsed = request.environ.get(PARSED)
    if parsed is None:
        try:
            parsed = parse_params(request.query_string, request.get_data(), request.content_type or "")
        except AlipayError as error:
            parsed = error
        request.environ[PARSED] = parsed
    if isinstance(parsed, AlipayError):
        raise parsed
    return parsed


def parse_params(raw_query: bytes, raw_body: bytes, content_type: str) -> dict[str, str]:
    """Query and form merged (form wins), decoded strictly in the request's declared charset."""
    form = raw_body if (not content_type or "x-www-form-urlencoded" in content_type.lower()) else b""
    sources = [source.decode("latin-1") for source in (raw_query, form)]
    utf8 = _strict_utf8_pairs(sources)
    if utf8 is not None:  # the usual request: each source parsed once, its charset read from what was parsed
        charset = _charset_among(pair for pairs in utf8 for pair in pairs)
        if charset == "utf-8":
            return {key: value for pairs in utf8 for key, value in pairs}
    charset = _declared_charset(*sources)
    params: dict[str, str] = {}
    for text in sources:
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


def _strict_utf8_pairs(sources: list[str]) -> list[list[tuple[str, str]]] | None:
    """Each source's pairs decoded as strict UTF-8, or None where that fails (then the slow path reports why): where
    it succeeds they are what the lenient charset lookup and a strict UTF-8 parse would both read."""
    try:
        return [parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict") for text in sources]
    except UnicodeDecodeError:
        return None


def _declared_charset(*sources: str) -> str:
    return _charset_among(pair for source in sources for pair in parse_qsl(source, keep_blank_values=True))


def _charset_among(pairs) -> str:
    for key, value in pairs:
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
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    strings = _JSON_STRING.findall(text)
    if any("{" in string or "}" in string for string in strings):
        return _JSON_STRING.sub(_escape_braces, text)
    return text


# A JSON string literal; json.dumps writes nothing else with a quote in it, so scanning from the start stays aligned.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _escape_braces(found: re.Match) -> str:
    return found.group().replace("{", "\\u007b").replace("}", "\\u007d")


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
