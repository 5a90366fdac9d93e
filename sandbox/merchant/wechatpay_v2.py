"""Reference helpers for WeChat Pay API v2: XML, MD5 / HMAC-SHA256 signatures with the API key, and the payment
and refund notifications a merchant receives (docs/protocols/wechatpay-v2.md)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from xml.etree.ElementTree import ParseError

from Crypto.Cipher import AES
from Crypto.Util.Padding import unpad
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from sandbox.core.canonical import sorted_query
from sandbox.merchant.wechatpay import WechatPayClientError, WechatPaySignatureError

V2_SIGN_TYPES = ("MD5", "HMAC-SHA256")
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def v2_nonce() -> str:
    return secrets.token_hex(16)


def v2_sign(params: Mapping[str, object], api_key: str, sign_type: str = "MD5") -> str:
    """Upper-case hex MD5 or HMAC-SHA256 of `k=v&...&key=API_KEY` over sorted keys, without `sign` and empty values.

    Empty means None or "" (WeChat's rule); note wechatpy also leaves out an integer 0.
    """
    if sign_type not in V2_SIGN_TYPES:
        raise ValueError(f"sign_type must be one of {', '.join(V2_SIGN_TYPES)}, got {sign_type!r}")
    content = "&".join(filter(None, [sorted_query(params, exclude=("sign",)), f"key={api_key}"])).encode("utf-8")
    if sign_type == "MD5":
        return hashlib.md5(content).hexdigest().upper()
    return hmac.new(api_key.encode("utf-8"), content, hashlib.sha256).hexdigest().upper()


def v2_verify(params: Mapping[str, object], api_key: str, sign_type: str = "") -> bool:
    """True if `params["sign"]` is right; the sign type is the argument, else the message's `sign_type`, else MD5."""
    signature = str(params.get("sign") or "")
    kind = sign_type or str(params.get("sign_type") or "MD5")
    if not signature or kind not in V2_SIGN_TYPES:
        return False
    # As bytes: compare_digest raises TypeError on text with non-ASCII characters.
    return hmac.compare_digest(
        signature.upper().encode("utf-8", "surrogatepass"), v2_sign(params, api_key, kind).encode()
    )


def v2_build_xml(params: Mapping[str, object]) -> str:
    """`<xml>` with sorted keys, `sign` last; integers and digit strings bare, everything else in CDATA."""
    lines = ["<xml>"]
    for key in [*sorted(k for k in params if k != "sign"), *(["sign"] if "sign" in params else [])]:
        value = params[key]
        if value is None:
            continue
        if not _XML_NAME.match(key):
            raise ValueError(f"{key!r} is not a valid XML element name")
        if isinstance(value, bool):
            raise TypeError(f"{key}: booleans have no v2 form; send 'true'/'false' or Y/N as WeChat documents")
        text = str(value)
        if isinstance(value, int) or (text.isascii() and text.isdigit()):
            lines.append(f"<{key}>{text}</{key}>")
        else:
            lines.append(f"<{key}><![CDATA[{text.replace(']]>', ']]]]><![CDATA[>')}]]></{key}>")
    lines.append("</xml>")
    return "\n".join(lines)


def v2_parse_xml(text: str | bytes) -> dict[str, str]:
    """A flat `<xml>` (or `<root>`) document as {tag: text}; DTDs, entities and external references are refused."""
    try:
        root = SafeElementTree.fromstring(text, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise WechatPayClientError(f"not a WeChat Pay XML document: {exc}") from None
    return {child.tag: child.text or "" for child in root}


def v2_parse_payment_notification(
    xml: str | bytes, api_key: str, *, appid: str = "", mch_id: str = "", sign_type: str = ""
) -> dict[str, str]:
    """Verify a v2 payment notification; answer its fields. Refused: no or bad sign, another appid or mch_id."""
    fields = v2_parse_xml(xml)
    if fields.get("return_code") != "SUCCESS":
        raise WechatPayClientError(f"return_code {fields.get('return_code')!r}: {fields.get('return_msg', '')}")
    if not fields.get("sign"):
        raise WechatPaySignatureError("the notification carries no sign")
    if not v2_verify(fields, api_key, sign_type):
        raise WechatPaySignatureError("the notification's sign does not match (wrong API key, or it was altered)")
    _same_merchant(fields, appid, mch_id)
    return fields


def v2_decrypt_req_info(req_info: str, api_key: str) -> dict[str, str]:
    """A refund notification's req_info: AES-256-ECB with md5(API key) hex as the key, PKCS#7, `<root>` XML."""
    key = hashlib.md5(api_key.encode("utf-8")).hexdigest().encode("ascii")
    try:
        data = base64.b64decode(req_info, validate=True)
        plain = unpad(AES.new(key, AES.MODE_ECB).decrypt(data), AES.block_size)
        text = plain.decode("utf-8")
    except (ValueError, binascii.Error):
        raise WechatPaySignatureError("req_info does not decrypt with this API key") from None
    return v2_parse_xml(text)


def v2_parse_refund_notification(xml: str | bytes, api_key: str, *, appid: str, mch_id: str) -> dict[str, str]:
    """Decrypt a v2 refund notification (it has no sign: only the right key decrypts it); answer the inner fields."""
    fields = v2_parse_xml(xml)
    if fields.get("return_code") != "SUCCESS":
        raise WechatPayClientError(f"return_code {fields.get('return_code')!r}: {fields.get('return_msg', '')}")
    _same_merchant(fields, appid, mch_id)
    if not fields.get("req_info"):
        raise WechatPaySignatureError("the refund notification has no req_info")
    return v2_decrypt_req_info(fields["req_info"], api_key)


def v2_reply(ok: bool = True, message: str = "OK") -> str:
    """The merchant's answer to a v2 notification; anything else makes WeChat retry."""
    return v2_build_xml({"return_code": "SUCCESS" if ok else "FAIL", "return_msg": message})


def _same_merchant(fields: Mapping[str, str], appid: str, mch_id: str) -> None:
    if appid and fields.get("appid") != appid:
        raise WechatPaySignatureError(f"the notification is for appid {fields.get('appid')}, not {appid}")
    if mch_id and fields.get("mch_id") != mch_id:
        raise WechatPaySignatureError(f"the notification is for mch_id {fields.get('mch_id')}, not {mch_id}")
