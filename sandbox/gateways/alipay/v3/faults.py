"""OpenAPI v3's side of the API fault filter: what a `/v3/alipay/...` call is, and its spoiled answers.

A spoiled v3 answer keeps its JSON body and loses (unsigned) or corrupts (invalid_signature) the
`alipay-signature` header: that is what the SDKs verify.
"""

from __future__ import annotations

import contextlib
import json

from flask import Response, request

from sandbox import errors
from sandbox.core import crypto
from sandbox.core.money import parse_yuan
from sandbox.core.rules import Context
from sandbox.gateways.alipay.v3 import codec, views
from sandbox.gateways.alipay.v3.errors import V3Error, status_of, v3_code

GATEWAY = "alipay"


def request_context(req, operations: dict[str, str]) -> Context:
    method = views.method_of(req.path)
    app_id = ""
    with contextlib.suppress(V3Error):
        app_id = codec.parse_authorization(req.headers.get("Authorization", "")).app_id
    fields = _fields(req)
    operation = operations.get(method, "")
    amount = None
    if operation in ("create", "pay"):
        with contextlib.suppress(errors.InvalidParameter):
            amount = parse_yuan(fields.get("total_amount"), "total_amount")
    return Context(GATEWAY, operation, method, app_id, str(fields.get("out_trade_no", "")), amount)


def _fields(req) -> dict:
    if req.method == "GET":
        return dict(req.args)
    try:
        value = json.loads(req.get_data(cache=True) or b"{}")
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def error_answer(ctx: Context, code: str) -> Response:
    wire = v3_code(code)
    error = V3Error(status_of(wire, system=wire == "unknow-error"), wire, "answered by a sandbox scenario rule")
    return views.answer(error.status, error.body(), _cert_mode())


def _cert_mode() -> bool:
    with contextlib.suppress(V3Error):
        return bool(codec.parse_authorization(request.headers.get("Authorization", "")).app_cert_sn)
    return False


def altered_answer(response: Response, how: str) -> Response:
    if how == "unsigned":
        response.headers.pop("alipay-signature", None)
    elif "alipay-signature" in response.headers:
        response.headers["alipay-signature"] = crypto.spoil(response.headers["alipay-signature"])
    return response
