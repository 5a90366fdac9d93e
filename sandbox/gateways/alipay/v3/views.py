"""The Alipay OpenAPI v3 blueprint: `/v3/alipay/<method as a path>`, the same handlers as gateway.do.

An order created here is the same order gateway.do sees: it is paid on the gateway.do cashier pages, queried on
either protocol, and notified as gateway.do notifies (RSA2 form posts). Only the envelope differs: JSON bodies,
the Authorization header, bare JSON answers signed in headers, errors as 4xx `{code, message, links}`.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, request

from sandbox import errors
from sandbox.bounded_body import oversized_body
from sandbox.gateways.alipay import handlers
from sandbox.gateways.alipay.errors import AlipayError
from sandbox.gateways.alipay.v3 import codec
from sandbox.gateways.alipay.v3.errors import V3Error, from_alipay, from_neutral
from sandbox.gateways.wire import public_base_url, raw_path_and_query

log = logging.getLogger("paysandbox.alipay")
PREFIX = "/v3/alipay/"
bp = Blueprint("alipay_v3", __name__, url_prefix="/v3/alipay")
# Every gateway.do method but the cashier redirects (page.pay, wap.pay), which have no v3 route.
METHODS = {name: fn for name, fn in handlers.METHODS.items() if name not in handlers.CASHIER_METHODS}
# Reads may come as GET with the fields in the query (Java's v3 client queries that way); everything may POST.
READS = ("alipay.trade.query", "alipay.trade.fastpay.refund.query", "alipay.data.dataservice.bill.downloadurl.query")


def _sandbox():
    return current_app.extensions["paysandbox"]


def method_of(path: str) -> str:
    """`/v3/alipay/trade/precreate` -> `alipay.trade.precreate` (the method name with dots as slashes)."""
    return "alipay." + path.removeprefix(PREFIX).strip("/").replace("/", ".")


@bp.route("/<path:name>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
def v3_call(name: str):
    method = method_of(request.path)
    cert_mode = False
    try:
        _check_route(method)
        if oversized := oversized_body(request.environ):
            raise V3Error(413, "invalid-content-length", oversized)
        auth = codec.parse_authorization(request.headers.get("Authorization", ""))
        cert_mode = bool(auth.app_cert_sn)
        call = authenticate(method, auth)
        status, payload = _run(call)
    except V3Error as error:
        return answer(error.status, error.body(), cert_mode)
    return answer(status, payload, cert_mode)


def _check_route(method: str) -> None:
    if method in handlers.CASHIER_METHODS:
        raise V3Error(
            404,
            "invalid-method",
            f"{method} has no OpenAPI v3 route: it stays on gateway.do (the SDK's pageExec / pageExecute builds "
            "that form), and its order is the same one v3 queries",
        )
    if method not in METHODS:
        raise V3Error(
            404,
            "invalid-method",
            f"the sandbox does not implement {method!r} on OpenAPI v3; it serves "
            + ", ".join(f"/v3/{m.replace('.', '/')}" for m in METHODS),
        )
    allowed = ("GET", "POST") if method in READS else ("POST",)
    if request.method not in allowed:
        raise V3Error(405, "invalid-http-method", f"{request.path} takes {' or '.join(allowed)}, not {request.method}")


def authenticate(method: str, auth: codec.Authorization) -> handlers.Call:
    """The checks Alipay makes before a v3 method runs, each failure with its own code and a fix."""
    codec.check_identity(auth)
    sandbox = _sandbox().namespace_of_merchant("alipay", auth.app_id)
    merchant = sandbox.merchants.get("alipay", auth.app_id)
    if merchant is None:
        raise V3Error(
            400,
            "invalid-app-id",
            f"app_id {auth.app_id[:40]} is not registered with the sandbox; register it with "
            "POST /_sandbox/merchants or use the demo app 2021000000000001",
        )
    codec.check_timestamp(auth, int(sandbox.clock.now().timestamp() * 1000))
    _check_certificates(auth, merchant)
    if request.headers.get("alipay-encrypt-type"):
        raise V3Error(400, "invalid-encrypt-type", "AES content encryption is not supported by the sandbox")
    body = request.get_data()
    codec.verify(auth, request.method, raw_path_and_query(), body, _app_auth_token(), merchant)
    biz = _fields(body)
    return handlers.Call(
        sandbox=sandbox,
        app_id=auth.app_id,
        method=method,
        params={"notify_url": _text(biz, "notify_url"), "return_url": _text(biz, "return_url")},
        biz=biz,
        sign_type="RSA2",
        base_url=public_base_url(),
        protocol="v3",
    )


def _check_certificates(auth: codec.Authorization, merchant: dict) -> None:
    root_sn = request.headers.get("alipay-root-cert-sn", "")
    if root_sn and not auth.app_cert_sn:
        raise V3Error(
            401,
            "missing-app-cert-sn",
            "the request is in certificate mode (it sends alipay-root-cert-sn) but the authString has no "
            "app_cert_sn: configure the app certificate in the SDK",
        )
    problem = _sandbox().gateways["alipay"].keys.cert_mode_problem(merchant, auth.app_cert_sn, root_sn)
    if problem is not None:
        which, why = problem
        raise V3Error(401, "invalid-app-cert-sn" if which == "app" else "invalid-alipay-root-cert-sn", why)


def _app_auth_token() -> str:
    return request.headers.get("alipay-app-auth-token", "")


def _fields(body: bytes) -> dict:
    """The business fields: the JSON body of a POST, or the query of a GET."""
    if request.method == "GET":
        return dict(parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True))
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise V3Error(400, "invalid-parameter", f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise V3Error(400, "invalid-parameter", "the body must be a JSON object of the method's fields")
    try:
        # A lone surrogate comes from a backslash-u escape, or from non-ASCII bytes (json.loads lets it through).
        if not body.isascii() or b"\\u" in body:
            json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape such as \ud800 decodes to no character at all
        raise V3Error(400, "invalid-parameter", "the body holds an unpaired surrogate escape such as \\ud800") from None
    return value


def _text(fields: dict, name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def _run(call: handlers.Call) -> tuple[int, dict]:
    """The handler's answer: 200, or 202 for a barcode payment waiting for the buyer (gateway.do's 10003)."""
    try:
        fields = METHODS[call.method](call)
    except AlipayError as error:
        raise from_alipay(error) from None
    except errors.SandboxError as error:
        raise from_neutral(error) from None
    except Exception:
        request_id = _sandbox().ids.hex(16)
        log.exception("alipay v3 %s failed (request id %s)", call.method, request_id)
        raise V3Error(
            500, "unknow-error", f"the sandbox failed unexpectedly (request id {request_id}); see its log"
        ) from None
    if fields.get("code") == "10003":
        return 202, {k: v for k, v in fields.items() if k not in ("code", "msg")}
    return 200, fields


def answer(status: int, payload: dict, cert_mode: bool) -> Response:
    """A v3 answer: compact JSON, signed in headers (errors too: the sandbox has nothing to hide in them)."""
    sandbox = _sandbox()
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    keys = sandbox.gateways["alipay"].keys
    headers = codec.signed_headers(body, keys, sandbox.ids.alnum(32), sandbox.ids.hex(32), cert_mode)
    response = Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")
    if status == 405:
        response.headers["Allow"] = "GET, POST" if method_of(request.path) in READS else "POST"
    return response
