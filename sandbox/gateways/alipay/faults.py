"""Alipay's side of the API fault filter (gateways/faults.py): what a gateway.do or OpenAPI v3 call is, and its
spoiled answers (v3 calls are handed to v3/faults.py)."""

from __future__ import annotations

import contextlib
import json
import re

from flask import Response, current_app, render_template, request

from sandbox import errors
from sandbox.core import crypto
from sandbox.core.money import parse_yuan
from sandbox.core.rules import Context
from sandbox.gateways.alipay import codec, handlers
from sandbox.gateways.alipay.errors import AlipayError
from sandbox.gateways.alipay.keys import HASH_OF
from sandbox.gateways.alipay.v3 import faults as v3_faults
from sandbox.gateways.alipay.v3.views import PREFIX as V3_PREFIX

GATEWAY = "alipay"
OPERATIONS = {
    "alipay.trade.page.pay": "create",
    "alipay.trade.wap.pay": "create",
    "alipay.trade.precreate": "create",
    "alipay.trade.create": "create",
    "alipay.trade.pay": "pay",
    "alipay.trade.query": "query",
    "alipay.trade.fastpay.refund.query": "query",
    "alipay.trade.refund": "refund",
    "alipay.trade.close": "close",
    "alipay.trade.cancel": "cancel",
    "alipay.data.dataservice.bill.downloadurl.query": "bill",
}
_SIGN = re.compile(r',"sign":"([^"]*)"')


def _params() -> dict[str, str]:
    return codec.request_params(request)


def request_context(req) -> Context | None:
    if req.path.startswith(V3_PREFIX):
        return v3_faults.request_context(req, OPERATIONS)
    if req.path != "/gateway.do":
        return None
    try:
        params = _params()
        biz = json.loads(params.get("biz_content") or "{}")
    except (AlipayError, ValueError, RecursionError):
        return Context(GATEWAY, "")
    biz = biz if isinstance(biz, dict) else {}
    method = params.get("method", "")
    operation = OPERATIONS.get(method, "")
    amount = None
    if operation in ("create", "pay"):
        with contextlib.suppress(errors.InvalidParameter):
            amount = parse_yuan(biz.get("total_amount"), "total_amount")
    return Context(GATEWAY, operation, method, params.get("app_id", ""), str(biz.get("out_trade_no", "")), amount)


def error_answer(ctx: Context, code: str) -> Response:
    if request.path.startswith(V3_PREFIX):
        return v3_faults.error_answer(ctx, code)
    params = _params()
    inner = AlipayError(
        "40004" if code.startswith("ACQ.") else "20000", code, "answered by a sandbox scenario rule"
    ).fields()
    if ctx.method in handlers.CASHIER_METHODS:
        return Response(render_template("alipay/error.html", error=inner, method=ctx.method))
    sandbox = current_app.extensions["paysandbox"]
    merchant = sandbox.namespace_of_merchant(GATEWAY, ctx.merchant_id).merchants.get(GATEWAY, ctx.merchant_id)
    sign_type = params.get("sign_type") if params.get("sign_type") in HASH_OF else "RSA2"
    charset = codec.charset_of(params)
    key = codec.response_key(ctx.method) if ctx.method in handlers.METHODS else "error_response"
    signer = sandbox.gateways[GATEWAY].keys if merchant else None
    body = codec.envelope(key, inner, signer, sign_type, bool(params.get("app_cert_sn")), charset)
    return Response(body.encode(charset), content_type=f"text/html;charset={charset}")


def altered_answer(response: Response, how: str) -> Response:
    """Remove or spoil the "sign" of a signed envelope; a cashier page has none to spoil."""
    if request.path.startswith(V3_PREFIX):
        return v3_faults.altered_answer(response, how)
    charset = response.mimetype_params.get("charset", "utf-8")
    text = response.get_data().decode(charset)
    found = _SIGN.search(text)
    if found is None:
        return response
    if how == "unsigned":
        text = text[: found.start()] + text[found.end() :]
    else:
        text = text[: found.start(1)] + crypto.spoil(found.group(1)) + text[found.end(1) :]
    response.set_data(text.encode(charset))
    return response
