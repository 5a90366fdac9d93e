"""The signature doctor for WeChat Pay API v2: the k=v&key= string the sandbox signs with the API key, and why not."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

from sandbox.core.canonical import sorted_query
from sandbox.gateways import doctor
from sandbox.gateways.doctor import Diagnosis, Question
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.v2 import codec
from sandbox.gateways.wechatpay.v2.errors import V2Error

PROTOCOL = "wechatpay_v2"
SIGN_NAMES = ("sign",)
DEMO = "wechatpay/demo/merchant.json"
SHOWN = {
    codec.API_KEY: "<the API v2 key set at registration>",
    codec.SANDBOX_KEY: "<the sandbox key from sandboxnew/pay/getsignkey>",
}
NAMED = {codec.API_KEY: "the API v2 key set at registration", codec.SANDBOX_KEY: "the sandbox key (getsignkey)"}
OTHER_TYPE = {codec.MD5: codec.HMAC_SHA256, codec.HMAC_SHA256: codec.MD5}


def diagnose(question: Question, namespace) -> Diagnosis:
    result = Diagnosis(PROTOCOL, question.merchant_id)
    their_key = None
    if question.request is not None:
        paste = doctor.read_request(question.request)
        path = paste.target.lstrip("/")
        kind = codec.SANDBOX_KEY if path.startswith("sandboxnew/") and "getsignkey" not in path else codec.API_KEY
        try:
            fields = codec.parse(paste.body.strip().encode("utf-8"), namespace.config.max_body)
        except V2Error as error:
            result.verdict, result.message = doctor.MALFORMED, f"The body cannot be read: {error.message}."
            return result
        signature, received = fields.get("sign", ""), question.string_to_sign
    else:
        kind, received, signature = codec.API_KEY, question.string_to_sign, question.signature or ""
        pairs = doctor.read_pairs(received or "")
        if pairs and pairs[-1][0] == "key":
            their_key = pairs.pop()[1]
        else:
            result.hint("the &key=<API key> at the end is missing: append it after the sorted pairs")
        fields = {k: v for k, v in pairs if k not in SIGN_NAMES}
        _string_hints(result, pairs)
    result.merchant_id = result.merchant_id or fields.get("mch_id") or None
    result.expected = "&".join(p for p in (codec.signing_string(fields), f"key={SHOWN[kind]}") if p)
    if received is not None:
        result.received = received
    merchant = namespace.gateways[GATEWAY].merchant(result.merchant_id) if result.merchant_id else None
    if their_key is not None and merchant and merchant.get("api_key"):
        _key_hints(result, their_key, codec.key_for(merchant, kind), merchant, kind, namespace)
    if not signature:
        result.message = f"No sign to check: sign the expected string with {NAMED[kind]} ({_type(fields)})."
    else:
        _judge(result, fields, signature.strip(), kind, namespace)
    if result.received is not None:
        result.differences = doctor.pair_differences(result.expected, result.received, SIGN_NAMES)
    return result


def _type(fields: dict) -> str:
    return fields.get("sign_type") or codec.MD5


def _string_hints(result: Diagnosis, pairs: list[tuple[str, str]]) -> None:
    if doctor.unsorted_keys(key for key, _ in pairs):
        result.hint("keys not sorted: sort the fields by key (ASCII order) before joining them")
    if any(key in SIGN_NAMES for key, _ in pairs):
        result.hint("sign included: the string to sign holds every field but sign")
    if any(value == "" for _, value in pairs):
        result.hint("empty values included: leave out fields whose value is empty")


def _judge(result: Diagnosis, fields: dict, signature: str, kind: str, namespace) -> None:
    doctor.require_merchant(result)
    merchant = namespace.gateways[GATEWAY].merchant(result.merchant_id)
    if merchant is None:
        doctor.unknown_merchant(result, "mch_id", namespace)
        return
    if not merchant.get("api_key"):
        result.verdict = doctor.UNKNOWN_MERCHANT
        result.message = f"mch_id {result.merchant_id} was registered without an api_key: register it again with one."
        return
    result.key = NAMED[kind]
    key = codec.key_for(merchant, kind)
    sign_type = _type(fields)
    if sign_type not in codec.SIGN_TYPES:
        result.verdict, result.message = doctor.MALFORMED, f"sign_type must be MD5 or HMAC-SHA256, got {sign_type!r}."
        return
    if codec.same_sign(codec.sign(fields, key, sign_type), signature):
        result.verdict, result.message = doctor.VALID, f"The sign verifies: {sign_type} with {NAMED[kind]}."
        return
    result.verdict = doctor.INVALID
    result.message = f"The sign is not the {sign_type} of the expected string with {NAMED[kind]}."
    _forensics(result, fields, signature, key, merchant, kind, namespace)


def _key_hints(result: Diagnosis, their_key: str, key: str, merchant: dict, kind: str, namespace) -> None:
    """The pasted string ends with the key itself: never echo ours, only say whether theirs is it."""
    if their_key == key:
        result.received = result.received.replace(f"key={their_key}", f"key={SHOWN[kind]}")
        return
    if their_key == codec.key_for(merchant, codec.SANDBOX_KEY if kind == codec.API_KEY else codec.API_KEY):
        result.hint(
            f"the key at the end is the {'sandbox key' if kind == codec.API_KEY else 'API key'}, not {NAMED[kind]}"
        )
    elif their_key == _demo_key(namespace):
        result.hint("the key at the end is the demo merchant's TEST-ONLY API key, not the one set at registration")
    else:
        result.hint(f"the key at the end is not {NAMED[kind]}")


def _demo_key(namespace) -> str:
    return json.loads(doctor.fixture(namespace.config.fixtures_dir, DEMO))["api_key"]


def _forensics(result: Diagnosis, fields: dict, signature: str, key: str, merchant: dict, kind: str, namespace) -> None:
    sign_type = _type(fields)
    expected = codec.sign(fields, key, sign_type)
    if signature == expected.lower():
        result.hint("lower-case MD5: the sign is upper-case hex" if sign_type == codec.MD5 else "lower-case hex sign")
        return
    size = {32: codec.MD5, 64: codec.HMAC_SHA256}.get(len(signature))
    if size and size != sign_type:
        result.hint(
            f"MD5 vs HMAC-SHA256: the sign is {len(signature)} hex digits, a {size} one, but sign_type says {sign_type}"
        )
    other = codec.SANDBOX_KEY if kind == codec.API_KEY else codec.API_KEY
    keys = [(NAMED[kind], key), (NAMED[other], codec.key_for(merchant, other))]
    keys.append(("the demo merchant's TEST-ONLY API key", _demo_key(namespace)))
    for key_name, candidate_key in keys:
        for hint, text in _mistakes(fields, candidate_key):
            for used in (sign_type, OTHER_TYPE[sign_type]):
                made = codec.sign_message(text, candidate_key, used)
                if codec.same_sign(made, signature.upper()):
                    wrong_key = key_name if key_name != NAMED[kind] else ""
                    _found(result, hint, wrong_key, (used, sign_type), signature != made, text, kind)
                    return
    if not size:
        result.hint(f"the sign is not hex of an MD5 (32 digits) or HMAC-SHA256 (64): {len(signature)} characters")
    result.hint("a sign made with another key, or over another string: check the key and that no value changed")


def _found(result: Diagnosis, hint: str, wrong_key: str, types: tuple[str, str], lower: bool, text: str, kind: str):
    """Say what the sign was made with: the mistake in the string, the key, the hash, the case."""
    if hint:
        result.hint(hint)
    if wrong_key:
        result.hint(f"a sign made with another key: {wrong_key}, not {NAMED[kind]}")
    used, declared = types
    if used != declared:
        result.hint(f"MD5 vs HMAC-SHA256: the sign is {used}, but sign_type says {declared}")
    if lower:
        result.hint("lower-case hex: the sign is upper-case (MD5 and HMAC-SHA256 alike)")
    if hint and result.received is None:
        head = text.rpartition("&")[0]
        result.received = f"{head}&key={SHOWN[kind]}"


def _mistakes(fields: dict, key: str) -> list[tuple[str, str]]:
    """("" for the right string, or what is wrong) and the string signed, before the key is appended."""
    signed = {k: v for k, v in fields.items() if k not in SIGN_NAMES}
    bodies = [
        ("", sorted_query(signed)),
        ("sign_type left out: sign it too when you send it", sorted_query(signed, exclude=("sign", "sign_type"))),
        ("empty values included: leave them out", sorted_query(signed, drop_empty=False)),
        ("keys not sorted: sort them by key (ASCII)", "&".join(f"{k}={v}" for k, v in signed.items() if v)),
        ("values URL-encoded before signing", sorted_query({k: quote_plus(v) for k, v in signed.items()})),
        ("values URL-encoded before signing", sorted_query({k: quote(v, safe="") for k, v in signed.items()})),
    ]
    found = [(hint, f"{body}&key={key}") for hint, body in bodies]
    found.append(("the key was appended without 'key=': end the string with &key=<API key>", f"{bodies[0][1]}&{key}"))
    found.append(("the &key=<API key> at the end is missing", bodies[0][1]))
    return found
