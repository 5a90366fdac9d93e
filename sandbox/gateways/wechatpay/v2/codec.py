"""WeChat Pay v2 wire format: safe XML in, XML out as wechatpy writes it, MD5 and HMAC-SHA256 signs.

docs/protocols/wechatpay-v2.md describes them."""

from __future__ import annotations

import base64
import hashlib
import hmac
from xml.etree.ElementTree import ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from sandbox.core.canonical import sorted_query
from sandbox.core.digits import ascii_digits
from sandbox.gateways.wechatpay.v2.errors import refused

MD5, HMAC_SHA256 = "MD5", "HMAC-SHA256"
SIGN_TYPES = (MD5, HMAC_SHA256)
API_KEY, SANDBOX_KEY = "api", "sandbox"  # which key signs: the merchant's API key or its sandbox key


# -- reading ------------------------------------------------------------------------------------------------


def parse(data: bytes, max_body: int) -> dict[str, str]:
    """The flat <xml><name>value</name>...</xml> of a request (or a merchant's ack) as a dict.

    DTDs, entities and external references are refused before anything is expanded, so a billion-laughs
    or XXE body costs nothing; every problem is a return-level failure that says what is wrong.
    """
    if len(data) > max_body:
        raise refused("INVALID_REQUEST", f"the body is {len(data)} bytes; the sandbox takes at most {max_body}")
    if not data.strip():
        raise refused("POST_DATA_EMPTY", "the body is empty; POST the request as <xml><name>value</name>...</xml>")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refused("NOT_UTF8", f"the body is not UTF-8 (bad byte at offset {exc.start}); send UTF-8") from None
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DTDForbidden:
        raise refused("XML_FORMAT_ERROR", "a DOCTYPE (DTD) is not allowed in a request: send plain <xml>") from None
    except (EntitiesForbidden, ExternalReferenceForbidden):
        raise refused("XML_FORMAT_ERROR", "entity declarations and external references are not allowed") from None
    except (ParseError, ValueError, RecursionError) as exc:
        raise refused("XML_FORMAT_ERROR", f"the body is not well-formed XML ({exc})") from None
    if root.tag != "xml":
        raise refused("XML_FORMAT_ERROR", f"the root element must be <xml>, not <{root.tag}>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            raise refused("XML_FORMAT_ERROR", f"<{child.tag}> holds elements; every field is a flat <name>value</name>")
        if child.tag in fields:
            raise refused("XML_FORMAT_ERROR", f"<{child.tag}> appears more than once")
        fields[child.tag] = child.text or ""
    return fields


# -- signing ------------------------------------------------------------------------------------------------


def signing_string(fields: dict) -> str:
    """Sorted k=v joined with &, empty values and `sign` left out; `&key=<key>` is appended to sign it."""
    return sorted_query(fields)


def sign(fields: dict, key: str, sign_type: str = MD5) -> str:
    return sign_message("&".join(part for part in (signing_string(fields), f"key={key}") if part), key, sign_type)


def sign_message(text: str, key: str, sign_type: str = MD5) -> str:
    """Upper-case hex MD5 of the text (which ends with `&key=<key>`), or its HMAC-SHA256 keyed with the key."""
    message = text.encode("utf-8")
    if sign_type == HMAC_SHA256:
        return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(message).hexdigest().upper()


def verify(fields: dict, key: str, sign_type: str) -> bool:
    return same_sign(sign(fields, key, sign_type), str(fields.get("sign", "")))


def same_sign(expected: str, given: str) -> bool:
    """Constant-time, and false (not TypeError, as compare_digest on text) for a sign with non-ASCII characters."""
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "surrogatepass"))


def sandbox_key(api_key: str) -> str:
    """The merchant's sandbox signing key (what getsignkey hands out): stable, derived from its API key."""
    return hashlib.md5(f"{api_key}sandbox".encode()).hexdigest().upper()


def key_for(merchant: dict, kind: str) -> str:
    """The key of `kind` (API_KEY or SANDBOX_KEY) for a merchant with a registered api_key."""
    return sandbox_key(merchant["api_key"]) if kind == SANDBOX_KEY else merchant["api_key"]


# -- writing ------------------------------------------------------------------------------------------------


def render(fields: dict, sign_value: str = "", root: str = "xml") -> str:
    """As wechatpy's dict_to_xml writes it: sorted keys, digits bare, the rest in CDATA, <sign> last."""
    lines = [f"<{root}>\n"]
    for key in sorted(fields):
        value = fields[key]
        if value is None:
            continue
        text = str(value)
        if isinstance(value, int) or ascii_digits(text):
            lines.append(f"<{key}>{text}</{key}>\n")
        else:
            lines.append(f"<{key}>{cdata(text)}</{key}>\n")
    if sign_value:
        lines.append(f"<sign>{cdata(sign_value)}</sign>\n")
    lines.append(f"</{root}>")
    return "".join(lines)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def signed(fields: dict, key: str, sign_type: str = MD5) -> str:
    clean = {k: str(v) for k, v in fields.items() if v is not None}
    return render(clean, sign(clean, key, sign_type))


def encrypt_req_info(key: str, plaintext: str) -> str:
    """A refund notification's req_info: AES-256-ECB under md5(key) in hex, PKCS#7, base64
    (docs/protocols/wechatpay-v2.md#notifications)."""
    from Crypto.Cipher import AES  # pycryptodome loads cffi: imported on first use, not at start
    from Crypto.Util.Padding import pad

    aes_key = hashlib.md5(key.encode("utf-8")).hexdigest().encode("ascii")
    cipher = AES.new(aes_key, AES.MODE_ECB)
    return base64.b64encode(cipher.encrypt(pad(plaintext.encode("utf-8"), AES.block_size))).decode("ascii")
