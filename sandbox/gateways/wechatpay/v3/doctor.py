"""The signature doctor for WeChat Pay API v3: the five lines the sandbox verifies, and why a signature fails."""

from __future__ import annotations

import time

from sandbox.core import crypto
from sandbox.errors import InvalidParameter
from sandbox.gateways import doctor
from sandbox.gateways import doctor_lines as lines
from sandbox.gateways.doctor import Diagnosis, Question
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.v3 import codec
from sandbox.gateways.wechatpay.v3.errors import V3Error

PROTOCOL = "wechatpay_v3"
NAMES = (lines.METHOD, lines.URL, lines.TIMESTAMP, lines.NONCE, lines.BODY)
DEMO_CERT = "wechatpay/demo/merchant_cert.pem"
HOST = "https://api.mch.weixin.qq.com"
FORM = f'{codec.SCHEME} mchid="...",nonce_str="...",signature="...",timestamp="...",serial_no="..."'


def diagnose(question: Question, namespace) -> Diagnosis:
    result = Diagnosis(PROTOCOL, question.merchant_id)
    serial = None
    if question.request is not None:
        paste = doctor.read_request(question.request)
        if paste.bare:
            raise InvalidParameter(
                "request", "wechatpay_v3 needs the request line and the Authorization header: paste the whole request"
            )
        parts = [paste.method, paste.target, "<timestamp>", "<nonce_str>", paste.body]
        header = paste.header("authorization")
        fields: dict[str, str] = {}
        if header:
            try:
                fields = codec.parse_authorization(header)
            except V3Error as error:
                result.verdict, result.message = doctor.MALFORMED, f"The Authorization header is wrong: {error.message}"
        if fields:
            parts[2:4] = fields["timestamp"], fields["nonce_str"]
            result.merchant_id, serial, signature = fields["mchid"], fields["serial_no"], fields["signature"]
        else:
            signature = ""
            if not header:
                result.message = f"The request has no Authorization header: sign the expected string, send {FORM}."
        received = question.string_to_sign
    else:
        parts, problems = lines.string_parts(question.string_to_sign or "", len(NAMES))
        for problem in problems:
            result.hint(problem)
        received, signature = question.string_to_sign, question.signature or ""
    result.expected = codec.signing_string(*parts)
    if received is not None:
        result.received = received
        result.differences = lines.line_differences(result.expected, received, NAMES)
    if signature:
        _judge(result, parts, signature, serial, namespace)
    elif not result.message:
        result.message = "No signature to check: sign the expected string with your merchant private key."
    return result


def _judge(result: Diagnosis, parts: list[str], signature: str, serial: str | None, namespace) -> None:
    doctor.require_merchant(result)
    merchant = namespace.gateways[GATEWAY].merchant(result.merchant_id)
    if merchant is None:
        doctor.unknown_merchant(result, "mchid", namespace)
        return
    key = crypto.load_public_key(merchant["merchant_public_key"])
    result.key = (
        f"the merchant key registered under serial_no {merchant['merchant_serial_no']} "
        f"(fingerprint {crypto.fingerprint(key)})"
    )
    if problem := doctor.signature_problem(signature):
        result.verdict, result.message = doctor.MALFORMED, "The signature is not base64."
        result.hint(problem)
        return
    _timestamp_hint(result, parts[2], namespace)
    wrong_serial = serial is not None and serial.upper() != merchant["merchant_serial_no"]
    if wrong_serial:
        result.hint(
            f"serial_no {serial[:64]} is not the certificate serial registered for mchid {result.merchant_id} "
            f"({merchant['merchant_serial_no']})"
        )
    signed = codec.signed_message(*parts[:4], parts[4].encode("utf-8"))
    wrong = "the Authorization header names another serial_no" if wrong_serial else None
    demo = doctor.fixture(namespace.config.fixtures_dir, DEMO_CERT)
    lines.judge(result, key, signature, signed, wrong, demo, _mistakes(parts), NAMES, "API v3")


def _timestamp_hint(result: Diagnosis, stamp: str, namespace) -> None:
    if not codec.UNIX_SECONDS.fullmatch(stamp):
        result.hint(f"the timestamp {stamp[:20]!r} is not Unix seconds")
        return
    away = min(abs(int(stamp) - time.time()), abs(int(stamp) - namespace.clock.now().timestamp()))
    if away > codec.MAX_SKEW:
        result.hint(
            f"the timestamp is {int(away)} s from now: the gateway refuses one more than {codec.MAX_SKEW} s away, "
            "even when the signature is right"
        )


def _mistakes(parts: list[str]) -> list[tuple[str, bytes]]:
    method, url, stamp, nonce, body = parts
    raw = body.encode("utf-8")

    def message(*changed: str, signed_body: bytes = raw) -> bytes:
        head = "\n".join(changed or (method, url, stamp, nonce)) + "\n"
        return head.encode("utf-8") + signed_body + b"\n"

    mistakes = [
        (lines.TRAILING_NEWLINE, message()[:-1]),
        (lines.CRLF, message().replace(b"\n", b"\r\n")),
        ("the URL line is the path and query (/v3/...), not the full URL", message(method, HOST + url, stamp, nonce)),
    ]
    if "?" in url:
        mistakes.append(
            (
                "query string missing from the URL line: sign the path with its query",
                message(method, url.partition("?")[0], stamp, nonce),
            )
        )
    mistakes += [(lines.BODY_DIFFERS, message(signed_body=variant)) for variant in lines.body_variants(raw)]
    return mistakes
