"""POST /_sandbox/signature/doctor: a pasted request or string to sign, what the sandbox expects, and why it differs."""

from __future__ import annotations

from flask import g, jsonify

from sandbox import errors
from sandbox.admin.views import bp, json_body
from sandbox.gateways.alipay import doctor as alipay
from sandbox.gateways.alipay.v3 import doctor as alipay_v3
from sandbox.gateways.doctor import Question
from sandbox.gateways.unionpay import doctor as unionpay
from sandbox.gateways.wechatpay.v2 import doctor as wechatpay_v2
from sandbox.gateways.wechatpay.v3 import doctor as wechatpay_v3

# protocol -> diagnose(question, namespace): each gateway builds and verifies its own string to sign.
DOCTORS = {
    "alipay": alipay.diagnose,
    "alipay_v3": alipay_v3.diagnose,
    "wechatpay_v3": wechatpay_v3.diagnose,
    "wechatpay_v2": wechatpay_v2.diagnose,
    "unionpay": unionpay.diagnose,
}
TEXTS = ("request", "string_to_sign", "signature", "merchant_id")


@bp.post("/signature/doctor")
def signature_doctor():
    """Diagnose a signature in the namespace of the call (the merchant's keys are looked up there)."""
    question = read_question(json_body())
    return jsonify(DOCTORS[question.protocol](question, g.paysandbox_namespace).view())


def read_question(body: dict) -> Question:
    """The question, or a 400 naming the field that is missing or wrong."""
    protocol = body.get("protocol")
    known = ", ".join(DOCTORS)
    if protocol is None or protocol == "":
        raise errors.MissingParameter("protocol", f"protocol is required: one of {known}")
    if not isinstance(protocol, str) or protocol not in DOCTORS:
        raise errors.InvalidParameter("protocol", f"protocol must be one of {known}, got {str(protocol)[:40]!r}")
    texts = {}
    for name in TEXTS:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise errors.InvalidParameter(name, f"{name} must be a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.InvalidParameter(name, f"{name} holds an unpaired surrogate escape such as \\ud800") from None
        texts[name] = value
    if "request" not in texts and "string_to_sign" not in texts:
        raise errors.MissingParameter(
            "request", "give request (the raw HTTP request as pasted) or string_to_sign (with merchant_id, signature)"
        )
    if "request" in texts and not texts["request"].strip():
        raise errors.InvalidParameter("request", "request is empty: paste the request line, headers and body")
    if "string_to_sign" in texts and not texts["string_to_sign"]:
        raise errors.InvalidParameter("string_to_sign", "string_to_sign is empty")
    if "request" in texts and "signature" in texts:
        raise errors.InvalidParameter(
            "signature", "signature goes with string_to_sign alone: a request carries its own"
        )
    return Question(protocol, **texts)
