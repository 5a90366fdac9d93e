"""The signature doctor for gateway.do: the string the sandbox verifies (RSA2 or RSA, cert mode too), and why not."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

from sandbox.core import crypto
from sandbox.core.canonical import sorted_query
from sandbox.errors import InvalidParameter
from sandbox.gateways import doctor
from sandbox.gateways.alipay import codec
from sandbox.gateways.alipay.keys import HASH_OF
from sandbox.gateways.doctor import Diagnosis, Question

PROTOCOL = "alipay"
SIGN_NAMES = ("sign",)
DEMO_KEY = "alipay/demo/app_public_key.pem"
OTHER = {"RSA2": "RSA", "RSA": "RSA2"}


def diagnose(question: Question, namespace) -> Diagnosis:
    if question.request is not None:
        params = _request_params(question.request)
        received = question.string_to_sign
        signature = params.get("sign", "")
    else:
        params = dict(doctor.read_pairs(question.string_to_sign or ""))
        received = question.string_to_sign
        signature = question.signature or ""
    result = Diagnosis(PROTOCOL, question.merchant_id or params.get("app_id") or None)
    result.expected = codec.signing_string(params)
    if received is not None:
        result.received = received
        result.differences = doctor.pair_differences(result.expected, received, SIGN_NAMES)
        _string_hints(result, received)
    if question.request is None:
        for name in SIGN_NAMES:
            params.pop(name, None)
    _judge(result, params, signature, namespace, question.request is None)
    return result


def _request_params(text: str) -> dict[str, str]:
    """Query and form merged (form wins), from a raw request, a bare URL or a bare query or form body."""
    paste = doctor.read_request(text)
    if paste.bare:
        query, body = "", paste.body.strip()
        if "?" in body.split("&", 1)[0]:  # a URL or a path with its query
            query, body = body.partition("?")[2], ""
    else:
        content_type = paste.header("content-type")
        form = not content_type or "x-www-form-urlencoded" in content_type.lower()
        query, body = paste.query, paste.body.strip() if form else ""
    charset = codec.CHARSETS.get(dict(doctor.read_pairs(query + "&" + body)).get("charset", "").lower(), "utf-8")
    params = dict(doctor.read_pairs(query, charset)) | dict(doctor.read_pairs(body, charset))
    if not params:
        raise InvalidParameter("request", "the request holds no parameters: paste the gateway.do URL or form body")
    return params


def _string_hints(result: Diagnosis, received: str) -> None:
    pairs = doctor.read_pairs(received)
    if doctor.unsorted_keys(key for key, _ in pairs):
        result.hint("keys not sorted: sort the parameters by key (ASCII order) before joining them")
    if any(key in SIGN_NAMES for key, _ in pairs):
        result.hint("sign included: the string to sign holds every parameter but sign")
    if pairs and not any(key == "sign_type" for key, _ in pairs):
        result.hint("sign_type left out: gateway.do requests sign it too (only notifications leave it out)")
    if any(value == "" for _, value in pairs):
        result.hint("empty values included: leave out parameters whose value is empty")
    if doctor.ENCODED.search(received):
        result.hint("values URL-encoded before signing: sign the raw values, encode only when sending")


def _judge(result: Diagnosis, params: dict[str, str], signature: str, namespace, string_mode: bool) -> None:
    app_id = result.merchant_id
    if not signature:
        result.message = "No signature to check: sign the expected string with your app private key."
        return
    if not app_id:
        if string_mode:
            doctor.require_merchant(result)
        result.verdict, result.message = doctor.MALFORMED, "The request has no app_id: every gateway.do call sends it."
        return
    merchant = namespace.merchants.get(PROTOCOL, app_id)
    if merchant is None:
        doctor.unknown_merchant(result, "app_id", namespace)
        return
    key = crypto.load_public_key(merchant["app_public_key"])
    result.key = f"the app public key registered for app_id {app_id} (fingerprint {crypto.fingerprint(key)})"
    sign_type = params.get("sign_type", "")
    if problem := doctor.signature_problem(signature):
        result.verdict, result.message = doctor.MALFORMED, "The signature is not base64."
        result.hint(problem)
        return
    problem = namespace.gateways[PROTOCOL].keys.cert_mode_problem(
        merchant, params.get("app_cert_sn", ""), params.get("alipay_root_cert_sn", "")
    )
    if sign_type in HASH_OF and codec.verifies({**params, "sign": signature}, merchant["app_public_key"]):
        if problem is None:
            result.verdict = doctor.VALID
            result.message = f"The signature verifies: {sign_type} over the expected string, with the registered key."
            return
        result.verdict, result.message = doctor.INVALID, f"The signature is right, but {problem[1]}."
        return
    if sign_type in HASH_OF:
        result.verdict = doctor.INVALID
        result.message = (
            f"The signature does not verify as {sign_type} over the expected string with the registered key."
        )
    elif not sign_type:
        result.verdict = doctor.INVALID
        result.message = "There is no sign_type: gateway.do requests send it (RSA2 or RSA) and sign it too."
    else:
        result.verdict, result.message = doctor.MALFORMED, f"sign_type must be RSA2 or RSA, got {sign_type[:40]!r}."
    if problem is not None:
        result.hint(f"cert mode: {problem[1]}")
    _forensics(result, params, signature, key, sign_type, namespace)


def _forensics(result: Diagnosis, params: dict[str, str], signature: str, key, sign_type: str, namespace) -> None:
    def wrong_hash(name: str) -> str | None:
        used = next((kind for kind, hashed in HASH_OF.items() if hashed == name), name)
        if sign_type not in HASH_OF or used == sign_type:
            return None
        return (
            f"RSA vs RSA2: sign_type says {sign_type} ({HASH_OF[sign_type]}withRSA) but the signature was made with "
            f"{name}withRSA ({used}): sign with the hash sign_type names, or set sign_type={used}"
        )

    charset = codec.charset_of(params)
    doctor.forensics(
        result,
        key,
        signature,
        doctor.fixture(namespace.config.fixtures_dir, DEMO_KEY),
        codec.signed_bytes(params),
        [(hint, text.encode(charset, errors="replace")) for hint, text in _mistakes(params)],
        lambda expected, received: doctor.pair_differences(expected, received, SIGN_NAMES),
        wrong_hash=wrong_hash,
        encoding=charset,
    )


def _mistakes(params: dict[str, str]) -> list[tuple[str, str]]:
    """The usual wrong strings to sign, each with what is wrong with it."""
    signed = {k: v for k, v in params.items() if k not in SIGN_NAMES}
    mistakes = [
        ("sign_type left out: gateway.do requests sign it too", sorted_query(signed, exclude=("sign_type",))),
        ("empty values included: leave them out", sorted_query(signed, drop_empty=False)),
        ("keys not sorted: sort them by key (ASCII)", "&".join(f"{k}={v}" for k, v in signed.items() if v)),
        ("values URL-encoded before signing", sorted_query({k: quote_plus(v) for k, v in signed.items()})),
        ("values URL-encoded before signing", sorted_query({k: quote(v, safe="") for k, v in signed.items()})),
    ]
    if "sign_type" not in signed:
        for name in HASH_OF:
            hint = f"sign_type left out of the pasted string: the request sends sign_type={name}, so sign it too"
            mistakes.append((hint, sorted_query({**signed, "sign_type": name})))
    return mistakes
