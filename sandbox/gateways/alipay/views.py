"""The Alipay blueprint: /gateway.do (GET and POST) and the bill files it hands out."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from decimal import Decimal

from flask import Blueprint, Response, current_app, redirect, render_template, request

from sandbox import errors
from sandbox.bounded_body import oversized_body
from sandbox.core.namespace import Namespace
from sandbox.gateways.alipay import bills, codec, handlers
from sandbox.gateways.alipay.errors import AlipayError, from_neutral, invalid, missing
from sandbox.gateways.alipay.keys import HASH_OF
from sandbox.gateways.wire import public_base_url

log = logging.getLogger("paysandbox.alipay")
_CANONICAL_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
bp = Blueprint("alipay", __name__)


def _sandbox():
    return current_app.extensions["paysandbox"]


def _namespace(app_id: str) -> Namespace:
    """The namespace of the app the request names (the default one for an unknown app, which is refused there)."""
    return _sandbox().namespace_of_merchant("alipay", app_id)


def _gateway():
    return _sandbox().gateways["alipay"]


@bp.route("/gateway.do", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def gateway_do():
    gateway = _gateway()
    try:
        if request.method not in ("GET", "POST"):
            raise invalid("isv.invalid-parameter", f"gateway.do takes GET or POST, not {request.method}")
        params = codec.request_params(request)  # as the fault filter parsed it
    except AlipayError as error:
        return _answer("error_response", error.fields(), None, "RSA2")
    method = params.get("method", "")
    key = codec.response_key(method) if method in handlers.METHODS else "error_response"
    namespace = _namespace(params.get("app_id", ""))
    merchant = namespace.merchants.get("alipay", params.get("app_id", ""))
    sign_type = params.get("sign_type") if params.get("sign_type") in HASH_OF else "RSA2"
    signer = gateway.keys if merchant else None
    cert_mode = bool(params.get("app_cert_sn"))
    try:
        if oversized := oversized_body(request.environ):  # the query string alone was read: it may name the app
            raise invalid("isv.invalid-content-length", oversized)
        call = authenticate(params, merchant, namespace)
        if method in handlers.CASHIER_METHODS:
            order = handlers.METHODS[method](call)
            return redirect(f"/cashier/alipay/{order.trade_no}", code=302)
        inner = {"code": "10000", "msg": "Success", **handlers.METHODS[method](call)}
    except AlipayError as error:
        inner = error.fields()
    except errors.SandboxError as error:
        inner = from_neutral(error).fields()
    except Exception:
        request_id = _sandbox().ids.hex(16)
        log.exception("alipay %s failed (request id %s)", method, request_id)
        inner = AlipayError(
            "20000",
            "isp.unknow-error",
            f"the sandbox failed unexpectedly (request id {request_id}); see its log",
        ).fields()
    if method in handlers.CASHIER_METHODS:
        return render_template("alipay/error.html", error=inner, method=method), 200
    return _answer(key, inner, signer, sign_type, cert_mode, codec.charset_of(params))


def _answer(key: str, inner: dict, signer, sign_type: str, cert_mode: bool = False, charset: str = "utf-8"):
    # The answer is written and signed in the request's charset: the official SDK decodes it with that charset.
    body = codec.envelope(key, inner, signer, sign_type, cert_mode, charset)
    return Response(body.encode(charset), content_type=f"text/html;charset={charset}")


def authenticate(params: dict[str, str], merchant: dict | None, namespace: Namespace) -> handlers.Call:
    """The checks Alipay makes before a method runs, in its order, each with its own sub_code."""
    method = params.get("method", "")
    if not method:
        raise missing("isv.missing-method", "the common parameter 'method' is missing")
    if method not in handlers.METHODS:
        raise invalid(
            "isv.invalid-method",
            f"the sandbox does not implement {method!r}; it serves {', '.join(sorted(handlers.METHODS))}",
        )
    app_id = params.get("app_id", "")
    if not app_id:
        raise missing("isv.missing-app-id", "the common parameter 'app_id' is missing")
    if merchant is None:
        raise invalid(
            "isv.invalid-app-id",
            f"app_id {app_id} is not registered with the sandbox; register it with "
            "POST /_sandbox/merchants or use the demo app 2021000000000001",
        )
    for name in ("sign_type", "sign", "timestamp", "version"):
        if not params.get(name):
            sub_code = {"sign_type": "isv.missing-signature-type", "sign": "isv.missing-signature"}.get(
                name, f"isv.missing-{name}"
            )
            raise missing(sub_code, f"the common parameter '{name}' is missing")
    if params["sign_type"] not in HASH_OF:
        raise invalid("isv.invalid-signature-type", f"sign_type must be RSA2 or RSA, got {params['sign_type']!r}")
    _check_timestamp(params["timestamp"])
    if params["version"] != "1.0":
        raise invalid("isv.invalid-version", f"version must be 1.0, got {params['version']!r}")
    if params.get("encrypt_type"):
        raise invalid("isv.invalid-encrypt-type", "AES content encryption is not supported by the sandbox")
    _check_cert_mode(params, merchant)
    codec.verify_request(params, merchant["app_public_key"], app_id)
    return handlers.Call(
        sandbox=namespace,
        app_id=app_id,
        method=method,
        params=params,
        biz=_biz_content(params.get("biz_content", "")),
        sign_type=params["sign_type"],
        base_url=public_base_url(),
    )


def _check_timestamp(value: str) -> None:
    # No skew check: the SDKs stamp naive local time and hosts often run on UTC.
    try:
        if (found := _CANONICAL_TIMESTAMP.fullmatch(value)) is not None:
            datetime(*map(int, found.groups()))  # what strptime would check of this form, without its cost
        else:
            datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # also takes 1-digit fields and runs of spaces
    except ValueError:
        raise invalid("isv.invalid-timestamp", f"timestamp must be yyyy-MM-dd HH:mm:ss, got {value!r}") from None


def _check_cert_mode(params: dict[str, str], merchant: dict) -> None:
    problem = _gateway().keys.cert_mode_problem(
        merchant, params.get("app_cert_sn", ""), params.get("alipay_root_cert_sn", "")
    )
    if problem is not None:
        which, why = problem
        raise invalid("isv.app-cert-not-exist" if which == "app" else "isv.invalid-alipay-root-cert-sn", why)


def _biz_content(text: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text, parse_float=Decimal)
    except ValueError as exc:
        raise invalid("isv.invalid-parameter", f"biz_content is not valid JSON: {exc}") from None
    except RecursionError:
        raise invalid("isv.invalid-parameter", "biz_content is nested too deeply") from None
    try:
        if "\\u" in text:  # only a \u escape can make a lone surrogate (the text itself was decoded strictly)
            json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape such as \ud800 decodes to no character at all
        raise invalid(
            "isv.invalid-parameter", "biz_content holds an unpaired surrogate escape such as \\ud800"
        ) from None
    if not isinstance(value, dict):
        raise invalid("isv.invalid-parameter", "biz_content must be a JSON object")
    return value


@bp.route("/bills/alipay/<app_id>/<bill_type>/<bill_date>.csv.zip")
def bill_file(app_id: str, bill_type: str, bill_date: str):
    sandbox = _namespace(app_id)
    merchant = sandbox.merchants.get("alipay", app_id)
    if merchant is None:
        return Response(f"no Alipay app {app_id} in the sandbox\n", status=404, content_type="text/plain")
    try:
        bills.check_request(bill_type, bill_date, sandbox.clock.now())
    except errors.SandboxError as error:
        return Response(error.message + "\n", status=404, content_type="text/plain; charset=utf-8")
    orders = sandbox.payments.list(gateway="alipay", merchant_id=app_id)
    data = bills.build_zip(orders, merchant["seller_id"], bill_type, bill_date, sandbox.clock.now())
    name = f"{merchant['seller_id']}_{bill_date.replace('-', '')}.csv.zip"
    return Response(
        data,
        content_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
