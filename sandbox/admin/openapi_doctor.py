"""The OpenAPI description of POST /_sandbox/signature/doctor: its question, its diagnosis and examples."""

from __future__ import annotations

from sandbox.admin.openapi_examples import APP_ID, MCHID, example
from sandbox.admin.openapi_schemas import obj, ref, text
from sandbox.gateways.doctor import VERDICTS

PROTOCOLS = ("alipay", "alipay_v3", "wechatpay_v3", "wechatpay_v2", "unionpay")
PATH = "/_sandbox/signature/doctor"
TAG = "signatures"
TAG_TEXT = "The signature doctor: why a signature fails (验签失败)"

ALIPAY_STRING = (
    f'app_id={APP_ID}&biz_content={{"out_trade_no":"QA-1001"}}&charset=utf-8&format=JSON'
    "&method=alipay.trade.query&sign_type=RSA2&timestamp=2025-01-15 10:30:00&version=1.0"
)
WECHAT_REQUEST = (
    f"GET /v3/pay/transactions/out-trade-no/QA-1001?mchid={MCHID} HTTP/1.1\n"
    "Host: api.mch.weixin.qq.com\n"
    f'Authorization: WECHATPAY2-SHA256-RSA2048 mchid="{MCHID}",nonce_str="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",'
    'signature="Ww2...==",timestamp="1736908200",serial_no="444F4864EA9B34415BD1F5E5D01F7B2C1A3E5C7D"\n\n'
)
QUESTIONS = {
    "request": example("A pasted request (WeChat Pay v3)", {"protocol": "wechatpay_v3", "request": WECHAT_REQUEST}),
    "string": example(
        "A string to sign and its signature (gateway.do)",
        {"protocol": "alipay", "merchant_id": APP_ID, "string_to_sign": ALIPAY_STRING, "signature": "Kx3...=="},
    ),
}
INVALID = {
    "protocol": "alipay",
    "merchant_id": APP_ID,
    "verdict": "invalid",
    "message": "The signature does not verify as RSA2 over the expected string with the registered key.",
    "key": f"the app public key registered for app_id {APP_ID} (fingerprint 3f1c2a9b0d4e5f60)",
    "expected_string_to_sign": "a=1&b=2&sign_type=RSA2",
    "received_string_to_sign": "a=1&b=2",
    "differences": [
        {"at": 8, "expected": "sign_type=RSA2", "received": "", "hint": "sign_type is in the expected string ..."}
    ],
    "hints": ["sign_type left out: gateway.do requests sign it too (only notifications leave it out)"],
}


def schemas() -> dict:
    difference = obj(
        {
            "at": {"type": "integer", "minimum": 0, "description": "offset in the expected string where they part"},
            "line": {"type": "integer", "minimum": 1, "description": "the line (v3 strings, one part per line)"},
            "expected": text("the expected pair or line ('' when it is extra in what was signed)"),
            "received": text("the pair or line signed instead ('' when it is missing)"),
            "hint": text("what this difference most likely is"),
        },
        ("at", "expected", "received", "hint"),
    )
    question = obj(
        {
            "protocol": {"enum": list(PROTOCOLS), "description": "which string to sign and verification"},
            "request": text(
                "the raw HTTP request as pasted (request line, headers, blank line, body); for gateway.do also a"
                " bare URL or form body, for WeChat Pay v2 a bare XML body, for UnionPay a bare key=value body"
            ),
            "string_to_sign": text(
                "what your code signed; alone (with signature) it is checked as it is, with request it is diffed"
                " with the request's expected string"
            ),
            "signature": text("the signature of string_to_sign (base64, or hex for WeChat Pay v2); not with request"),
            "merchant_id": text("app_id, mchid or merId, when the paste does not name it"),
        },
        ("protocol",),
        anyOf=[{"required": ["request"]}, {"required": ["string_to_sign"]}],
    )
    diagnosis = obj(
        {
            "protocol": {"enum": list(PROTOCOLS)},
            "merchant_id": {"type": ["string", "null"]},
            "verdict": {"enum": list(VERDICTS)},
            "message": text("one sentence: what is wrong (or that it verifies)"),
            "key": text("the key the sandbox verified with ('' when none was looked up)"),
            "expected_string_to_sign": {"type": ["string", "null"], "description": "what the sandbox verifies"},
            "received_string_to_sign": text(
                "the string pasted, or else the string the signature was found to cover (one of the usual mistakes)"
            ),
            "differences": {"type": "array", "items": ref("SignatureDifference")},
            "hints": {"type": "array", "items": text(), "description": "the usual mistakes that apply"},
        },
        ("protocol", "merchant_id", "verdict", "message", "key", "expected_string_to_sign", "differences", "hints"),
    )
    return {"SignatureQuestion": question, "SignatureDiagnosis": diagnosis, "SignatureDifference": difference}


def paths(operation, answer, json_body) -> dict:
    """The doctor's path item, built with openapi.py's helpers (passed in: that module imports this one)."""
    return {
        PATH: {
            "post": operation(
                TAG,
                "signatureDoctor",
                "Why does a signature fail?",
                "Paste a request, or a string to sign with its signature, as the merchant's code made them: the answer"
                " says what the sandbox verifies (the expected string to sign), with which of the merchant's keys"
                " (looked up in the call's namespace), whether the signature verifies, where what was signed differs,"
                " and which usual mistakes apply. Read-only. A request or string the doctor cannot read at all, or an"
                " unknown protocol, is a 400 naming the field; a readable one that is wrong is a verdict.",
                {"200": answer("The diagnosis", ref("SignatureDiagnosis"), {"invalid": example("Invalid", INVALID)})},
                errors=(400,),
                body=json_body(ref("SignatureQuestion"), QUESTIONS, required=True),
            )
        }
    }
