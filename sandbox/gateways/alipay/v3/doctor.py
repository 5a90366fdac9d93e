"""The signature doctor for Alipay OpenAPI v3: the lines the sandbox verifies the Authorization header's sign over."""

from __future__ import annotations

from sandbox.core import crypto
from sandbox.errors import InvalidParameter
from sandbox.gateways import doctor
from sandbox.gateways import doctor_lines as lines
from sandbox.gateways.alipay.v3 import codec
from sandbox.gateways.alipay.v3.errors import V3Error
from sandbox.gateways.doctor import Diagnosis, Question

PROTOCOL = "alipay_v3"
GATEWAY = "alipay"
NAMES = (lines.AUTH_STRING, lines.METHOD, lines.URL, lines.BODY, lines.TOKEN)
DEMO_KEY = "alipay/demo/app_public_key.pem"
HOST = "https://openapi.alipay.com"
FORM = f"{codec.SCHEME} app_id=...,nonce=...,timestamp=<ms>,sign=<base64>"


def diagnose(question: Question, namespace) -> Diagnosis:
    result = Diagnosis(PROTOCOL, question.merchant_id)
    auth, token, root_sn = None, "", ""
    if question.request is not None:
        paste = doctor.read_request(question.request)
        if paste.bare:
            raise InvalidParameter(
                "request", "alipay_v3 needs the request line and the Authorization header: paste the whole request"
            )
        parts = ["<authString>", paste.method, paste.target, paste.body]
        token, root_sn = paste.header("alipay-app-auth-token"), paste.header("alipay-root-cert-sn")
        try:
            auth = codec.parse_authorization(paste.header("authorization"))
        except V3Error as error:
            result.message = f"The Authorization header is wrong: {error.message}"
            if not paste.header("authorization"):
                result.message = f"The request has no Authorization header: sign the expected string, send {FORM}."
            else:
                result.verdict = doctor.MALFORMED
        if auth is not None:
            parts[0] = auth.auth_string
            result.merchant_id = auth.app_id or result.merchant_id
        received, signature = question.string_to_sign, auth.sign if auth else ""
    else:
        parts, problems = lines.string_parts(question.string_to_sign or "", 4)
        for problem in problems:
            result.hint(problem)
        result.merchant_id = result.merchant_id or _app_id(parts[0])
        received, signature = question.string_to_sign, question.signature or ""
    result.expected = _text(parts, token)
    if received is not None:
        result.received = received
        result.differences = lines.line_differences(result.expected, received, NAMES)
    if signature:
        _judge(result, parts, token, signature, auth, root_sn, namespace)
    elif not result.message:
        result.message = "No signature to check: sign the expected string with your app private key."
    return result


def _text(parts: list[str], token: str) -> str:
    return "".join(f"{part}\n" for part in parts) + (f"{token}\n" if token else "")


def _app_id(auth_string: str) -> str | None:
    try:
        return codec.parse_authorization(f"{codec.SCHEME} {auth_string},sign=-").app_id or None
    except V3Error:
        return None


def _judge(result: Diagnosis, parts, token, signature, auth, root_sn, namespace) -> None:
    doctor.require_merchant(result)
    merchant = namespace.merchants.get(GATEWAY, result.merchant_id)
    if merchant is None:
        doctor.unknown_merchant(result, "app_id", namespace)
        return
    key = crypto.load_public_key(merchant["app_public_key"])
    result.key = (
        f"the app public key registered for app_id {result.merchant_id} (fingerprint {crypto.fingerprint(key)})"
    )
    if problem := doctor.signature_problem(signature):
        result.verdict, result.message = doctor.MALFORMED, "The signature is not base64."
        result.hint(problem)
        return
    cert = None
    if auth is not None:
        cert = namespace.gateways[GATEWAY].keys.cert_mode_problem(merchant, auth.app_cert_sn, root_sn)
        _timestamp_hint(result, auth, namespace)
    if cert is not None:
        result.hint(f"cert mode: {cert[1]}")
    signed = _text(parts, token).encode("utf-8")
    wrong = cert[1] if cert else None
    demo = doctor.fixture(namespace.config.fixtures_dir, DEMO_KEY)
    lines.judge(result, key, signature, signed, wrong, demo, _mistakes(parts, token), NAMES, "OpenAPI v3")


def _timestamp_hint(result: Diagnosis, auth: codec.Authorization, namespace) -> None:
    try:
        codec.check_identity(auth)
        codec.check_timestamp(auth, int(namespace.clock.now().timestamp() * 1000))
    except V3Error as error:
        result.hint(f"the gateway would refuse it even when signed right: {error.message}")
    except ValueError:  # a timestamp too long for a number: check_identity says so first
        result.hint("the timestamp is not Unix milliseconds")


def _mistakes(parts: list[str], token: str) -> list[tuple[str, bytes]]:
    auth, method, url, body = parts

    def message(*changed: str, tail: str = token) -> bytes:
        return _text(list(changed or parts), tail).encode("utf-8")

    mistakes = [
        (lines.TRAILING_NEWLINE, message()[:-1]),
        (lines.CRLF, message().replace(b"\n", b"\r\n")),
        ("the URL line is the path and query (/v3/...), not the full URL", message(auth, method, HOST + url, body)),
    ]
    if token:
        mistakes.append(("the app auth token line is missing: sign the alipay-app-auth-token too", message(tail="")))
    if "?" in url:
        mistakes.append(
            (
                "query string missing from the URL line: sign the path with its query",
                message(auth, method, url.partition("?")[0], body),
            )
        )
    variants = lines.body_variants(body.encode("utf-8"))
    mistakes += [(lines.BODY_DIFFERS, message(auth, method, url, v.decode("utf-8"))) for v in variants]
    return mistakes
