"""The WeChat Pay v2 blueprint: /pay/..., /secapi/pay/... and the same under /sandboxnew/, XML in and out.

Every request is read the same way: POST, a bounded UTF-8 XML body, a registered mch_id, a valid signature
(with the API key, or the sandbox key under /sandboxnew/), the merchant's appid; then the handler runs and
its fields go back signed with the key and sign type the request used.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from sandbox import errors
from sandbox.bounded_body import oversized_body
from sandbox.core.merchants import Merchants
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.v2 import codec, handlers
from sandbox.gateways.wechatpay.v2.errors import RETURN, V2Error, from_neutral, refused
from sandbox.gateways.wire import public_base_url

log = logging.getLogger("paysandbox.wechatpay")
bp = Blueprint("wechatpay_v2", __name__)

PREFIXES = ("/pay/", "/secapi/", "/sandboxnew/")  # the paths app-level error handlers answer in v2 XML
SANDBOX_PREFIX = "sandboxnew/"
GETSIGNKEY = "pay/getsignkey"
# The sandbox tree also answers refund and reverse without secapi/, as WeChat's sandbox documentation lists them.
SANDBOX_ALIASES = {"pay/refund": "secapi/pay/refund", "pay/reverse": "secapi/pay/reverse"}
XML = "text/xml; charset=utf-8"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _sandbox():
    return current_app.extensions["paysandbox"]


# -- answers ------------------------------------------------------------------------------------------------


def fail_response(return_msg: str, status: int = 200, err_code: str = "") -> Response:
    """A return-level failure: return_code=FAIL and what is wrong, unsigned (nothing was trusted yet)."""
    fields = {"return_code": "FAIL", "return_msg": return_msg}
    if err_code:
        fields["err_code"] = err_code
    return Response(codec.render(fields), status=status, content_type=XML)


def http_error_answer(error: HTTPException) -> Response:
    """Unknown paths and methods under the v2 trees (used by the app-level error handler)."""
    return fail_response(f"{error.code} {error.name}: {error.description} {_endpoint_list()}", error.code or 400)


def crash_answer(message: str) -> Response:
    return fail_response(message, 500, "SYSTEMERROR")


def _refused(error: V2Error) -> Response:
    return Response(codec.render(error.return_fields()), content_type=XML)


def _answer(call: handlers.Call, fields: dict) -> Response:
    body = {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": call.params.get("appid"),
        "mch_id": call.mchid,
        "device_info": call.params.get("device_info") or None,
        "nonce_str": call.sandbox.ids.alnum(16),
        **fields,
    }
    return Response(codec.signed(body, call.key, call.sign_type), content_type=XML)


def _endpoint_list() -> str:
    names = ", ".join(sorted(handlers.ENDPOINTS))
    return f"(the sandbox serves {names}, each also under sandboxnew/, and sandboxnew/{GETSIGNKEY})"


# -- reading a request --------------------------------------------------------------------------------------


def _authenticate(wire: str, sandbox_mode: bool) -> handlers.Call:
    if request.method != "POST":
        raise refused("REQUIRE_POST_METHOD", f"{wire} takes POST with an XML body, not {request.method}")
    if oversized := oversized_body(request.environ):
        raise refused("INVALID_REQUEST", oversized)
    params = codec.parse(request.get_data(), _sandbox().config.max_body)
    mch_id = params.get("mch_id", "")
    if not mch_id:
        raise refused("LACK_PARAMS", "mch_id is required")
    namespace = _sandbox().namespace_of_merchant(GATEWAY, mch_id)
    gateway = namespace.gateways[GATEWAY]
    merchant = gateway.merchant(mch_id)
    if merchant is None:
        raise refused(
            "MCHID_NOT_EXIST",
            f"mch_id {mch_id} is not registered with the sandbox; register it with POST /_sandbox/merchants "
            "(with its api_key) or use the demo merchant 1900000109",
        )
    if not merchant.get("api_key"):
        raise refused(
            "NOAUTH",
            f"mch_id {mch_id} was registered without an api_key (the v2 API key), so the sandbox cannot check "
            "v2 signatures; register it again with api_key",
        )
    for name in ("nonce_str", "sign"):
        if not params.get(name):
            raise refused("LACK_PARAMS", f"{name} is required")
    sign_type = params.get("sign_type") or codec.MD5
    if sign_type not in codec.SIGN_TYPES:
        raise refused("PARAM_ERROR", f"sign_type must be MD5 or HMAC-SHA256, got {sign_type!r}")
    key_kind = codec.SANDBOX_KEY if sandbox_mode and wire != GETSIGNKEY else codec.API_KEY
    key = codec.key_for(merchant, key_kind)
    if not codec.verify(params, key, sign_type):
        raise refused("SIGNERROR", _sign_error(params, merchant, key_kind, sign_type))
    if wire != GETSIGNKEY:
        _check_appid(params, merchant, namespace.merchants)
    base_url = public_base_url()
    return handlers.Call(namespace, merchant, params, key, key_kind, sign_type, base_url)


def _describe_key(mch_id: str, kind: str) -> str:
    if kind == codec.SANDBOX_KEY:
        return f"the sandbox key of mch_id {mch_id}, from sandboxnew/pay/getsignkey"
    return f"the API key of mch_id {mch_id}"


def _sign_error(params: dict, merchant: dict, key_kind: str, sign_type: str) -> str:
    """Exactly what the sandbox signed, the key named but never shown, and a hint when the other key fits."""
    mch_id = merchant["merchant_id"]
    other = codec.API_KEY if key_kind == codec.SANDBOX_KEY else codec.SANDBOX_KEY
    shown = "&".join(p for p in (codec.signing_string(params), f"key=<{_describe_key(mch_id, key_kind)}>") if p)
    message = (
        f"the sign does not match. The sandbox computed {sign_type} (upper-case hex) over this string, values "
        f"as received, empty values and sign left out: {shown}"
    )
    if codec.verify(params, codec.key_for(merchant, other), sign_type):
        where = "under /sandboxnew/" if key_kind == codec.SANDBOX_KEY else "outside /sandboxnew/"
        message += f". The request was signed with {_describe_key(mch_id, other)} instead, which does not apply {where}"
    return message


def _check_appid(params: dict, merchant: dict, merchants: Merchants) -> None:
    appid, mch_id = params.get("appid", ""), merchant["merchant_id"]
    if not appid:
        raise refused("LACK_PARAMS", "appid is required")
    if appid == merchant["appid"]:
        return
    owner = next(
        (m for m in merchants.all() if m["gateway"] == GATEWAY and m.get("appid") == appid),
        None,
    )
    if owner is not None:
        raise refused(
            "APPID_MCHID_NOT_MATCH",
            f"appid {appid} belongs to mch_id {owner['merchant_id']}, not to mch_id {mch_id} "
            f"(whose appid is {merchant['appid']})",
        )
    raise refused(
        "APPID_NOT_EXIST",
        f"appid {appid} is not the appid of any registered merchant; mch_id {mch_id} uses {merchant['appid']}",
    )


# -- the one view -------------------------------------------------------------------------------------------


def _resolve(path: str) -> tuple[str, bool, object]:
    """(wire endpoint, sandbox mode, handler or None) for a request path."""
    wire = path.lstrip("/")
    sandbox_mode = wire.startswith(SANDBOX_PREFIX)
    if sandbox_mode:
        wire = wire.removeprefix(SANDBOX_PREFIX)
        wire = SANDBOX_ALIASES.get(wire, wire)
        if wire == GETSIGNKEY:
            return wire, True, getsignkey
    return wire, sandbox_mode, handlers.ENDPOINTS.get(wire)


@bp.route("/pay/<name>", methods=ALL_METHODS)
@bp.route("/secapi/pay/<name>", methods=ALL_METHODS)
@bp.route("/sandboxnew/pay/<name>", methods=ALL_METHODS)
@bp.route("/sandboxnew/secapi/pay/<name>", methods=ALL_METHODS)
def serve(name: str) -> Response:
    wire, sandbox_mode, handler = _resolve(request.path)
    if handler is None:
        return fail_response(f"no WeChat Pay v2 endpoint at {request.path} {_endpoint_list()}", 404)
    try:
        call = _authenticate(wire, sandbox_mode)
    except V2Error as error:
        return _refused(error)
    except errors.SandboxError as error:
        return _refused(refused(from_neutral(error).err_code, error.message))
    except Exception:
        return _refused(refused("SYSTEMERROR", _logged_crash(wire)))
    try:
        result = handler(call)
    except V2Error as error:
        failure = error
    except errors.SandboxError as error:
        failure = from_neutral(error)
    except Exception:
        failure = V2Error("SYSTEMERROR", _logged_crash(wire))
    else:
        if isinstance(result, handlers.Raw):
            return Response(result.body, content_type=result.content_type)
        if isinstance(result, Response):
            return result
        return _answer(call, {"result_code": "SUCCESS", **result})
    if failure.level == RETURN:
        return _refused(failure)
    return _answer(call, failure.result_fields())


def _logged_crash(wire: str) -> str:
    request_id = _sandbox().ids.hex(16)
    log.exception("wechatpay v2 %s failed (request id %s)", wire, request_id)
    return f"the sandbox failed unexpectedly (request id {request_id}); see its log"


def getsignkey(call: handlers.Call) -> Response:
    """The merchant's sandbox signing key; the request is signed with its real API key, the answer unsigned."""
    fields = {
        "return_code": "SUCCESS",
        "return_msg": "ok",
        "mch_id": call.mchid,
        "sandbox_signkey": codec.sandbox_key(call.merchant["api_key"]),
    }
    return Response(codec.render(fields), content_type=XML)
