"""The UnionPay blueprint: appTransReq.do, queryTrans.do, backTransReq.do and frontTransReq.do.

docs/protocols/unionpay.md describes what they take and answer.

Every request is read the same way: POST, a bounded UTF-8 form body, the common fields, version 5.1.0 or 5.0.0,
signMethod 01, a registered merId whose certificate has the request's certId, a valid signature; then the
handler for the txnType runs. Every answer, refusals included, is HTTP 200 key=value text signed with the
sandbox's UnionPay signing key (the client checks signPubKeyCert), never HTML and never a 500.

frontTransReq.do is read and verified the same way, but its caller is the buyer's browser: a good consume is
answered with a 302 to the bank cashier (/cashier/unionpay/<queryId>), a refusal with an HTML error page
(HTTP 200, as the real gateway) that shows respCode and respMsg.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from sandbox import errors
from sandbox.bounded_body import oversized_body
from sandbox.core import crypto
from sandbox.gateways.unionpay import codec, handlers
from sandbox.gateways.unionpay.adapter import GATEWAY
from sandbox.gateways.unionpay.errors import SUCCESS, SUCCESS_MSG, UnionPayError, from_neutral

log = logging.getLogger("paysandbox.unionpay")
bp = Blueprint("unionpay", __name__)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
DEFAULT_VERSION = "5.1.0"
COMMON = ("version", "encoding", "signMethod", "certId", "signature", "merId", "txnType", "txnSubType", "bizType")
ECHO = ("accessType", "bizType", "txnType", "txnSubType", "channelType", "merId", "orderId", "txnTime")
SAFE_ECHO = re.compile(r"^[0-9A-Za-z]{1,64}$")  # only plain values are echoed into an unsigned-looking answer
TEXT = "text/plain; charset=utf-8"
HASH_NAMES = {"5.1.0": "SHA256withRSA over the lower-case hex SHA-256", "5.0.0": "SHA1withRSA over the hex SHA-1"}
TXN_NAMES = {"00": "query", "01": "consume", "04": "refund", "31": "undo"}


def _sandbox():
    return current_app.extensions["paysandbox"]


def _gateway():
    return _sandbox().gateways[GATEWAY]


# -- answers ------------------------------------------------------------------------------------------------


def _answer(params: dict, version: str, fields: dict) -> Response:
    echo = {name: params[name] for name in ECHO if SAFE_ECHO.match(params.get(name, ""))}
    body = {"version": version, "encoding": "UTF-8", "signMethod": "01", **echo, **fields}
    body = {k: str(v) for k, v in body.items() if v not in (None, "")}
    return Response(codec.render(_gateway().keys.signed(body, version)), status=200, content_type=TEXT)


def refusal(params: dict, version: str, error: UnionPayError) -> Response:
    return _answer(params, version, {"respCode": error.resp_code, "respMsg": error.resp_msg})


# -- reading a request --------------------------------------------------------------------------------------


def _read_form(name: str) -> dict:
    if request.method != "POST":
        raise UnionPayError("10", f"{name} takes POST with a form-urlencoded body, not {request.method}")
    if oversized := oversized_body(request.environ):
        raise UnionPayError("10", oversized)
    raw = request.get_data(cache=False)
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise UnionPayError("10", f"the body is not UTF-8 (encoding=UTF-8): {exc.reason} at byte {exc.start}") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise UnionPayError("10", f"the field {key} appears more than once")
        fields[key] = value
    fields = {k: v for k, v in fields.items() if v != ""}  # senders drop blank values; so does the signing string
    if not fields:
        raise UnionPayError("10", "the body holds no key=value fields (send application/x-www-form-urlencoded)")
    return fields


def _authenticate(params: dict, version: str) -> handlers.Call:
    missing = [name for name in COMMON if not params.get(name)]
    if missing:
        raise UnionPayError("13", f"required fields missing or empty: {', '.join(missing)}")
    if params["version"] not in codec.HASHES:
        raise UnionPayError("10", f"version must be 5.1.0 or 5.0.0, got {params['version']!r}")
    if params["encoding"].upper() not in ("UTF-8", "UTF8"):
        raise UnionPayError("10", f"encoding must be UTF-8, got {params['encoding']!r}")
    if params["signMethod"] != "01":
        raise UnionPayError(
            "10",
            f"signMethod {params['signMethod']!r} is not served: the sandbox verifies signMethod 01 "
            "(RSA with the merchant certificate) only",
        )
    mer_id = params["merId"]
    namespace = _sandbox().namespace_of_merchant(GATEWAY, mer_id)
    merchant = namespace.gateways[GATEWAY].merchant(mer_id)
    if merchant is None:
        raise UnionPayError(
            "31",
            f"merId {mer_id} is not registered with the sandbox; register it with POST /_sandbox/merchants "
            "(gateway unionpay, merchant_certificate) or use the demo merchant 777290058110097",
        )
    if params["certId"] != merchant["cert_id"]:
        raise UnionPayError(
            "11",
            f"certId {params['certId']} is not the certificate registered for merId {mer_id}; "
            f"its merchant certificate has certId {merchant['cert_id']} (the decimal serial number)",
        )
    key = crypto.load_public_key(merchant["merchant_certificate"])
    if not codec.verify(params, key, version):
        raise UnionPayError(
            "11",
            f"the sandbox verified {HASH_NAMES[version]} hex digest of this signing string, with the merchant "
            f"certificate of merId {mer_id} (certId {merchant['cert_id']}): {codec.signing_string(params)}",
        )
    if params.get("accessType", "0") != "0":
        raise UnionPayError("32", "the sandbox serves direct merchants only (accessType 0)")
    return handlers.Call(namespace, merchant, params, version)


# -- the views ----------------------------------------------------------------------------------------------


@bp.route("/gateway/api/appTransReq.do", methods=ALL_METHODS)
@bp.route("/gateway/api/queryTrans.do", methods=ALL_METHODS)
@bp.route("/gateway/api/backTransReq.do", methods=ALL_METHODS)
def serve() -> Response:
    name = request.path.rsplit("/", 1)[-1]
    params: dict = {}
    version = DEFAULT_VERSION
    try:
        params = _read_form(name)
        if params.get("version") in codec.HASHES:
            version = params["version"]
        call = _authenticate(params, version)
        handler = handlers.ENDPOINTS[name].get(params["txnType"])
        if handler is None:
            raise UnionPayError("32", _unserved(name, params["txnType"]))
        fields = handler(call)
    except UnionPayError as error:
        return refusal(params, version, error)
    except errors.SandboxError as error:
        return refusal(params, version, from_neutral(error))
    except Exception:
        request_id = _sandbox().ids.hex(16)
        log.exception("unionpay %s failed (request id %s)", name, request_id)
        message = f"the sandbox failed unexpectedly (request id {request_id}); see its log"
        return refusal(params, version, UnionPayError("99", message))
    return _answer(params, version, {"respCode": SUCCESS, "respMsg": SUCCESS_MSG, **fields})


def _unserved(name: str, txn_type: str) -> str:
    served = ", ".join(f"{t} ({TXN_NAMES[t]})" for t in handlers.ENDPOINTS[name])
    return f"txnType {txn_type} is not served at {name}; the sandbox serves txnType {served} there"


@bp.route("/gateway/api/frontTransReq.do", methods=ALL_METHODS)
def front() -> Response:
    """A browser's consume form: 302 to the bank cashier, or the error page."""
    params: dict = {}
    try:
        params = _read_form("frontTransReq.do")
        version = params["version"] if params.get("version") in codec.HASHES else DEFAULT_VERSION
        call = _authenticate(params, version)
        if params["txnType"] != "01":
            raise UnionPayError("32", f"txnType {params['txnType']} is not served at frontTransReq.do; it serves 01")
        order = handlers.front_consume(call)
    except UnionPayError as error:
        return error_page(params, error)
    except errors.SandboxError as error:
        return error_page(params, from_neutral(error))
    except Exception:
        request_id = _sandbox().ids.hex(16)
        log.exception("unionpay frontTransReq.do failed (request id %s)", request_id)
        message = f"the sandbox failed unexpectedly (request id {request_id}); see its log"
        return error_page(params, UnionPayError("99", message))
    return redirect(url_for("unionpay_pages.cashier", query_id=order.trade_no), code=302)


def error_page(params: dict, error: UnionPayError) -> Response:
    body = render_template(
        "unionpay/error.html",
        error=error,
        order_id=params.get("orderId", ""),
        mer_id=params.get("merId", ""),
        cert_id=params.get("certId", ""),
    )
    return Response(body, status=200, content_type="text/html; charset=utf-8")
