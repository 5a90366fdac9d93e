"""The signature doctor for UnionPay ACP: the string whose hex digest the merchant certificate's key signs."""

from __future__ import annotations

import hashlib
from urllib.parse import quote, quote_plus

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.errors import InvalidParameter
from sandbox.gateways import doctor
from sandbox.gateways.doctor import Diagnosis, Question
from sandbox.gateways.unionpay import codec
from sandbox.gateways.unionpay.adapter import GATEWAY

PROTOCOL = "unionpay"
SIGN_NAMES = ("signature",)
DEMO_CERT = "unionpay/demo/merchant_cert.pem"
HASH_OF = {"5.1.0": "SHA256", "5.0.0": "SHA1"}


def diagnose(question: Question, namespace) -> Diagnosis:
    hints: list[str] = []
    if question.request is not None:
        paste = doctor.read_request(question.request)
        pairs = doctor.read_pairs(paste.body.strip())
        if not pairs:
            raise InvalidParameter("request", "the request holds no key=value fields: paste the form body")
        fields = {k: v for k, v in pairs if v != ""}  # senders drop blank values, as the gateway does
        signature, received = fields.pop("signature", ""), question.string_to_sign
    else:
        pairs = doctor.read_pairs(question.string_to_sign or "")
        fields = {k: v for k, v in pairs if k not in SIGN_NAMES}
        signature, received = question.signature or "", question.string_to_sign
        _string_hints_of(pairs, hints)
    result = Diagnosis(PROTOCOL, question.merchant_id or fields.get("merId") or None)
    result.expected = codec.signing_string(fields)
    if received is not None:
        result.received = received
        result.differences = doctor.pair_differences(result.expected, received, SIGN_NAMES)
    for hint in hints:
        result.hint(hint)
    if signature:
        _judge(result, fields, signature, namespace)
    else:
        result.message = "No signature to check: sign the hex SHA-256 of the expected string with your merchant key."
    return result


def _string_hints_of(pairs: list[tuple[str, str]], hints: list[str]) -> None:
    if doctor.unsorted_keys(key for key, _ in pairs):
        hints.append("keys not sorted: sort the fields by key (ASCII order) before joining them")
    if any(key in SIGN_NAMES for key, _ in pairs):
        hints.append("signature included: the string to sign holds every field but signature")
    if any(value == "" for _, value in pairs):
        hints.append("empty values included: leave out fields whose value is empty")


def _judge(result: Diagnosis, fields: dict, signature: str, namespace) -> None:
    doctor.require_merchant(result)
    merchant = namespace.gateways[GATEWAY].merchant(result.merchant_id)
    if merchant is None:
        doctor.unknown_merchant(result, "merId", namespace)
        return
    key = crypto.load_public_key(merchant["merchant_certificate"])
    result.key = f"the merchant certificate registered for merId {result.merchant_id} (certId {merchant['cert_id']})"
    version = fields.get("version") or "5.1.0"
    if version not in codec.HASHES:
        result.verdict, result.message = doctor.MALFORMED, f"version must be 5.1.0 or 5.0.0, got {version[:20]!r}."
        return
    if fields.get("signMethod", "01") != "01":
        result.verdict = doctor.MALFORMED
        result.message = "signMethod must be 01 (RSA with the merchant certificate): the sandbox verifies no other."
        return
    if problem := doctor.signature_problem(signature):
        result.verdict, result.message = doctor.MALFORMED, "The signature is not base64."
        result.hint(problem)
        return
    cert_id = fields.get("certId", "")
    wrong_cert = bool(cert_id) and cert_id != merchant["cert_id"]
    if wrong_cert:
        result.hint(
            f"the certId does not match the merchant's cert: certId {cert_id[:40]} is sent, but the certificate "
            f"registered for merId {result.merchant_id} has certId {merchant['cert_id']} (its decimal serial)"
        )
    if codec.verify({**fields, "signature": signature}, key, version):
        result.verdict = doctor.INVALID if wrong_cert else doctor.VALID
        result.message = (
            "The signature is right, but the certId names another certificate."
            if wrong_cert
            else f"The signature verifies: {HASH_OF[version]}withRSA over the hex digest of the expected string."
        )
        return
    result.verdict = doctor.INVALID
    result.message = (
        f"The signature does not verify as {HASH_OF[version]}withRSA over the lower-case hex {HASH_OF[version]} of "
        "the expected string, with the registered certificate."
    )
    _forensics(result, fields, signature, key, version, namespace)


def _forensics(result: Diagnosis, fields: dict, signature: str, key, version: str, namespace) -> None:
    text = codec.signing_string(fields).encode("utf-8")
    direct = doctor.RsaSignature(key, signature)
    if direct.covers(text):
        result.hint(
            "the string itself was signed: ACP signs the lower-case hex digest of the string (the 64 or 40 "
            "characters), not the string"
        )
        return
    digest = hashlib.new(HASH_OF[version].lower(), text).hexdigest()
    if direct.covers(digest.upper().encode()):
        result.hint("upper-case hex digest: ACP signs the digest in lower-case hex")
        return

    def wrong_hash(name: str) -> str | None:
        if name == HASH_OF[version]:
            return None
        other = next(v for v, hashed in HASH_OF.items() if hashed == name)
        return f"signed as version {other} ({name}) while version says {version} ({HASH_OF[version]})"

    doctor.forensics(
        result,
        key,
        signature,
        doctor.fixture(namespace.config.fixtures_dir, DEMO_CERT),
        text,
        [(hint, message.encode("utf-8")) for hint, message in _mistakes(fields)],
        lambda expected, received: doctor.pair_differences(expected, received, SIGN_NAMES),
        hex_first=True,
        wrong_hash=wrong_hash,
    )


def _mistakes(fields: dict) -> list[tuple[str, str]]:
    return [
        ("keys not sorted: sort them by key (ASCII)", "&".join(f"{k}={v}" for k, v in fields.items() if v)),
        ("values URL-encoded before signing", sorted_query({k: quote_plus(v) for k, v in fields.items()})),
        ("values URL-encoded before signing", sorted_query({k: quote(v, safe="") for k, v in fields.items()})),
        ("empty values included: leave them out", sorted_query(fields, exclude=(), drop_empty=False)),
    ]
