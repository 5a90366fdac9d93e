"""The WeChat Pay v3 blueprint: authenticate, dispatch to a handler, sign every 2xx answer."""

from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, current_app, request

from sandbox import errors
from sandbox.bounded_body import oversized_body
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.v3 import codec, handlers
from sandbox.gateways.wechatpay.v3.errors import V3Error, from_neutral
from sandbox.gateways.wire import public_base_url, raw_path_and_query

log = logging.getLogger("paysandbox.wechatpay")
bp = Blueprint("wechatpay_v3", __name__, url_prefix="/v3")


def _sandbox():
    return current_app.extensions["paysandbox"]


def _call() -> handlers.Call:
    if oversized := oversized_body(request.environ):
        raise V3Error(400, "INVALID_REQUEST", oversized)
    fields = codec.parse_authorization(request.headers.get("Authorization", ""))
    namespace = _sandbox().namespace_of_merchant(GATEWAY, fields["mchid"])
    gateway = namespace.gateways[GATEWAY]
    merchant = gateway.merchant(fields["mchid"])
    if merchant is None:
        raise V3Error(
            400,
            "MCH_NOT_EXISTS",
            f"mchid {fields['mchid']} is not registered with the sandbox; register "
            "it with POST /_sandbox/merchants or use the demo merchant 1900000109",
        )
    caller = codec.authenticate(
        fields,
        merchant,
        request.method,
        raw_path_and_query(),
        request.get_data(),
        namespace.clock.now().timestamp(),
        request.headers.get("Wechatpay-Serial", ""),
        gateway.keys,
    )
    base_url = public_base_url()
    return handlers.Call(namespace, caller, base_url)


def _json_body() -> dict:
    try:
        body = json.loads(request.get_data() or b"{}")
    except (ValueError, RecursionError):
        raise V3Error(400, "PARAM_ERROR", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise V3Error(400, "PARAM_ERROR", "the body must be a JSON object")
    return body


def _signed(call: handlers.Call, status: int, payload) -> Response:
    text = "" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    sandbox = _sandbox()
    gateway = sandbox.gateways[GATEWAY]
    headers = codec.signed_headers(
        text,
        gateway.keys,
        gateway.answer_key(call.caller.merchant, call.caller.mode),
        int(time.time()),
        sandbox.ids.alnum(32),
        sandbox.ids.hex(32),
    )
    response = Response(text.encode("utf-8"), status=status, headers=headers)
    if payload is not None:
        response.content_type = "application/json"
    return response


def _run(handler, *args, body: bool = False) -> Response:
    call = _call()  # size and signature first: the body is read as JSON only for a signed request
    if body:
        args = (*args, _json_body())
    status, payload = handler(call, *args)
    return _signed(call, status, payload)


@bp.errorhandler(V3Error)
def v3_error(error: V3Error):
    return Response(json.dumps(error.body(), ensure_ascii=False), status=error.status, content_type="application/json")


@bp.errorhandler(errors.SandboxError)
def neutral_error(error: errors.SandboxError):
    return v3_error(from_neutral(error))


@bp.post("/pay/transactions/<kind>")
def prepay(kind: str):
    if kind not in handlers.TRADE_TYPES:
        raise V3Error(404, "NOT_FOUND", f"no such endpoint /v3/pay/transactions/{kind}")
    return _run(handlers.prepay, kind, body=True)


@bp.get("/pay/transactions/id/<transaction_id>")
def query_by_id(transaction_id: str):
    return _run(handlers.query_by_transaction_id, transaction_id, request.args.get("mchid", ""))


@bp.get("/pay/transactions/out-trade-no/<out_trade_no>")
def query_by_out_trade_no(out_trade_no: str):
    return _run(handlers.query_by_out_trade_no, out_trade_no, request.args.get("mchid", ""))


@bp.post("/pay/transactions/out-trade-no/<out_trade_no>/close")
def close(out_trade_no: str):
    return _run(handlers.close, out_trade_no, body=True)


@bp.post("/pay/transactions/out-trade-no/<out_trade_no>/reverse")
def reverse(out_trade_no: str):
    return _run(handlers.reverse, out_trade_no, body=True)


@bp.post("/refund/domestic/refunds")
def refund():
    return _run(handlers.refund, body=True)


@bp.get("/refund/domestic/refunds/<out_refund_no>")
def query_refund(out_refund_no: str):
    return _run(handlers.query_refund, out_refund_no)


@bp.get("/bill/tradebill")
def trade_bill():
    return _run(handlers.trade_bill, request.args)


@bp.get("/billdownload/file")
def download_bill():
    call = _call()
    # A bill file is not signed (the SDKs skip verifying it); the trade bill answer carries its SHA1 instead.
    return Response(
        handlers.download_bill(call, request.args.get("token", "")), content_type="application/octet-stream"
    )


@bp.get("/certificates")
def certificates():
    return _run(handlers.certificates)
