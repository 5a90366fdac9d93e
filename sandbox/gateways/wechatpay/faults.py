"""WeChat Pay's side of the API fault filter (gateways/faults.py): what a v3 or v2 call is, and its spoiled answers.

Wire method names a rule's `match.operation` may use (beside the neutral operation):

| request                                              | wire method                 | operation |
|------------------------------------------------------|-----------------------------|-----------|
| POST /v3/pay/transactions/native (jsapi, app, h5)    | transactions.native (...)   | create    |
| POST /v3/pay/transactions/codepay                    | transactions.codepay        | pay       |
| GET  /v3/pay/transactions/out-trade-no/{no}          | transactions.query          | query     |
| GET  /v3/pay/transactions/id/{transaction_id}        | transactions.query_by_id    | query     |
| POST /v3/pay/transactions/out-trade-no/{no}/close    | transactions.close          | close     |
| POST /v3/pay/transactions/out-trade-no/{no}/reverse  | transactions.reverse        | cancel    |
| POST /v3/refund/domestic/refunds                     | refunds.create              | refund    |
| GET  /v3/refund/domestic/refunds/{out_refund_no}     | refunds.query               | query     |
| GET  /v3/bill/tradebill, /v3/billdownload/file       | bill.tradebill, bill.download | bill    |
| GET  /v3/certificates                                | certificates                | keys      |
| v2: the endpoint, e.g. POST /pay/orderquery          | pay/orderquery              | query     |

v2 endpoints: pay/unifiedorder (create), pay/micropay (pay), pay/orderquery and pay/refundquery (query),
pay/closeorder (close), secapi/pay/reverse (cancel), secapi/pay/refund (refund), pay/downloadbill (bill),
pay/getsignkey (keys); the same under /sandboxnew/.
"""

from __future__ import annotations

import contextlib
import json
import re
import time

from flask import Response, current_app, request

from sandbox.core import crypto
from sandbox.core.rules import Context
from sandbox.gateways.wechatpay import codes
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.keys import CERTIFICATE_MODE, PUBLIC_KEY_MODE
from sandbox.gateways.wechatpay.v2 import codec as v2_codec
from sandbox.gateways.wechatpay.v2 import notify as v2_notify
from sandbox.gateways.wechatpay.v2 import views as v2_views
from sandbox.gateways.wechatpay.v2.errors import DESCRIPTIONS, RETURN, V2Error
from sandbox.gateways.wechatpay.v3 import codec as v3_codec

SCENARIO_MESSAGE = "answered by a sandbox scenario rule (GET /_sandbox/scenarios)"
V2_OPERATIONS = {
    "pay/unifiedorder": "create",
    "pay/micropay": "pay",
    "pay/orderquery": "query",
    "pay/refundquery": "query",
    "pay/closeorder": "close",
    "secapi/pay/reverse": "cancel",
    "secapi/pay/refund": "refund",
    "pay/downloadbill": "bill",
    "pay/getsignkey": "keys",
}
V2_RETURN_LEVEL = ("pay/downloadbill", "pay/getsignkey")  # their failures are return_code=FAIL, as on WeChat
_V3_ROUTES = [  # (HTTP method, path pattern, wire method, operation)
    ("POST", re.compile(r"/v3/pay/transactions/(native|jsapi|app|h5)"), "transactions.{0}", "create"),
    ("POST", re.compile(r"/v3/pay/transactions/codepay"), "transactions.codepay", "pay"),
    ("GET", re.compile(r"/v3/pay/transactions/out-trade-no/([^/]+)"), "transactions.query", "query"),
    ("GET", re.compile(r"/v3/pay/transactions/id/([^/]+)"), "transactions.query_by_id", "query"),
    ("POST", re.compile(r"/v3/pay/transactions/out-trade-no/([^/]+)/close"), "transactions.close", "close"),
    ("POST", re.compile(r"/v3/pay/transactions/out-trade-no/([^/]+)/reverse"), "transactions.reverse", "cancel"),
    ("POST", re.compile(r"/v3/refund/domestic/refunds"), "refunds.create", "refund"),
    ("GET", re.compile(r"/v3/refund/domestic/refunds/([^/]+)"), "refunds.query", "query"),
    ("GET", re.compile(r"/v3/bill/tradebill"), "bill.tradebill", "bill"),
    ("GET", re.compile(r"/v3/billdownload/file"), "bill.download", "bill"),
    ("GET", re.compile(r"/v3/certificates"), "certificates", "keys"),
]
_AUTH_MCHID = re.compile(r'mchid="([^"]*)"')
_V2_SIGN = re.compile(r"<sign>(?:<!\[CDATA\[)?([^<\]]*)(?:\]\]>)?</sign>\n?")


def _sandbox():
    return current_app.extensions["paysandbox"]


def _merchant(mchid: str) -> dict | None:
    """The merchant record of `mchid`, in whichever namespace holds it."""
    return _sandbox().namespace_of_merchant(GATEWAY, mchid).gateways[GATEWAY].merchant(mchid) if mchid else None


def request_context(req) -> Context | None:
    if req.path.startswith("/v3/"):
        return _v3_context(req)
    if req.path.startswith(v2_views.PREFIXES):
        return _v2_context(req)
    return None


# -- what a call is ---------------------------------------------------------------------------------------


def _v3_context(req) -> Context:
    method, operation, segment = _v3_route(req.method, req.path)
    body = _json_object(req.get_data(cache=True)) if req.method == "POST" else {}
    found = _AUTH_MCHID.search(req.headers.get("Authorization", ""))
    mchid = found.group(1) if found else str(body.get("mchid") or req.args.get("mchid", ""))
    out_trade_no = str(body.get("out_trade_no") or "")
    amount = None
    if operation in ("create", "pay"):
        total = body.get("amount", {}).get("total") if isinstance(body.get("amount"), dict) else None
        amount = total if isinstance(total, int) and not isinstance(total, bool) else None
    elif method in ("transactions.query", "transactions.close", "transactions.reverse"):
        out_trade_no = segment
    elif method == "transactions.query_by_id" or (method == "refunds.create" and not out_trade_no):
        out_trade_no = _number_of(mchid, transaction_id=segment or str(body.get("transaction_id") or ""))
    elif method == "refunds.query":
        out_trade_no = _number_of(mchid, out_refund_no=segment)
    return Context(GATEWAY, operation, method, mchid, out_trade_no[:64], amount)


def _v3_route(http_method: str, path: str) -> tuple[str, str, str]:
    """(wire method, operation, the path's id segment); an unknown path is its own method with no operation."""
    for verb, pattern, method, operation in _V3_ROUTES:
        found = pattern.fullmatch(path)
        if found and verb == http_method:
            segment = found.group(1) if found.groups() else ""
            return method.format(segment), operation, segment
    return path, "", ""


def _json_object(data: bytes) -> dict:
    try:
        value = json.loads(data or b"{}")
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _v2_context(req) -> Context:
    wire, _, _ = v2_views._resolve(req.path)
    operation = V2_OPERATIONS.get(wire, "")
    try:
        params = v2_codec.parse(req.get_data(cache=True), _sandbox().config.max_body)
    except V2Error:
        return Context(GATEWAY, operation, wire)
    mchid = params.get("mch_id", "")
    out_trade_no = params.get("out_trade_no", "")
    amount = None
    if operation in ("create", "pay"):
        fee = params.get("total_fee", "")
        amount = int(fee) if fee.isascii() and fee.isdigit() and len(fee) <= 12 else None
    elif not out_trade_no:
        out_trade_no = _number_of(mchid, params.get("transaction_id", ""), params.get("out_refund_no", ""))
    return Context(GATEWAY, operation, wire, mchid, out_trade_no[:64], amount)


def _number_of(mchid: str, transaction_id: str = "", out_refund_no: str = "") -> str:
    """The out_trade_no behind a transaction id or a refund number, so rules can match it; "" if unknown."""
    payments = _sandbox().namespace_of_merchant(GATEWAY, mchid).payments
    order = None
    with contextlib.suppress(Exception):  # any lookup problem only means the rule cannot match by order
        if transaction_id and mchid:
            order = payments.by_trade_no(GATEWAY, transaction_id[:64])
        elif out_refund_no and mchid:
            order = payments.find_by_refund(GATEWAY, mchid, out_refund_no[:64])
    return order.out_trade_no if order is not None and order.merchant_id == mchid else ""


# -- a business error, as WeChat answers it -----------------------------------------------------------------


def error_answer(ctx: Context, code: str) -> Response:
    if request.path.startswith("/v3/"):
        return _v3_error(ctx, codes.V3_SPELLING.get(code, code))
    return _v2_error(ctx, codes.V2_SPELLING.get(code, code))


def _v3_error(ctx: Context, code: str) -> Response:
    """`{code, message}` with the code's HTTP status, signed like every answer (wechatpayv3 verifies 2xx ones)."""
    status, message = codes.API_ERRORS[code]
    text = json.dumps({"code": code, "message": f"{message}: {SCENARIO_MESSAGE}"}, ensure_ascii=False)
    gateway = _sandbox().gateways[GATEWAY]
    asks_public_key = request.headers.get("Wechatpay-Serial") == gateway.keys.public_key_id
    asked = PUBLIC_KEY_MODE if asks_public_key else CERTIFICATE_MODE
    mode = gateway.answer_key(_merchant(ctx.merchant_id), asked)
    ids = _sandbox().ids
    headers = v3_codec.signed_headers(text, gateway.keys, mode, int(time.time()), ids.alnum(32), ids.hex(32))
    return Response(text.encode("utf-8"), status=status, headers=headers, content_type="application/json")


def _v2_error(ctx: Context, code: str) -> Response:
    """result_code=FAIL with err_code, signed with the key and sign type of the request (return level where
    WeChat answers that endpoint's failures so, or where there is no merchant key to sign with)."""
    known = code in DESCRIPTIONS  # V2Error puts WeChat's own description first
    error = V2Error(code, SCENARIO_MESSAGE if known else f"{codes.API_MESSAGES.get(code, code)}: {SCENARIO_MESSAGE}")
    merchant = _merchant(ctx.merchant_id)
    if ctx.method in V2_RETURN_LEVEL or merchant is None or not merchant.get("api_key"):
        return _xml(v2_codec.render(V2Error(code, error.message, RETURN).return_fields()))
    params = {}
    with contextlib.suppress(V2Error):
        params = v2_codec.parse(request.get_data(cache=True), _sandbox().config.max_body)
    sign_type = params.get("sign_type") if params.get("sign_type") in v2_codec.SIGN_TYPES else v2_codec.MD5
    sandbox_mode = request.path.lstrip("/").startswith(v2_views.SANDBOX_PREFIX)
    key = v2_codec.key_for(merchant, v2_codec.SANDBOX_KEY if sandbox_mode else v2_codec.API_KEY)
    fields = {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "appid": params.get("appid") or merchant["appid"],
        "mch_id": ctx.merchant_id,
        "nonce_str": _sandbox().ids.alnum(16),
        **error.result_fields(),
    }
    return _xml(v2_codec.signed(fields, key, sign_type))


def _xml(text: str) -> Response:
    return Response(text.encode("utf-8"), content_type=v2_views.XML)


# -- a spoiled answer ---------------------------------------------------------------------------------------


def altered_answer(response: Response, how: str) -> Response:
    """v3: drop, spoil or probe the Wechatpay-Signature header; v2: drop or spoil <sign> (v2 has no probe traffic).
    Unsigned answers stay as they are."""
    if how == "probe":
        if "Wechatpay-Signature" in response.headers:
            response.headers["Wechatpay-Signature"] = v3_codec.probe_signature(_sandbox().ids.hex(512))
        return response
    if "Wechatpay-Signature" in response.headers:
        if how == "unsigned":
            del response.headers["Wechatpay-Signature"]
        else:
            response.headers["Wechatpay-Signature"] = crypto.spoil(response.headers["Wechatpay-Signature"])
        return response
    text = response.get_data().decode("utf-8", "replace")
    found = _V2_SIGN.search(text)
    if found is None:
        return response
    if how == "unsigned":
        text = text[: found.start()] + text[found.end() :]
    else:
        text = text[: found.start(1)] + v2_notify.spoil_hex(found.group(1)) + text[found.end(1) :]
    response.set_data(text.encode("utf-8"))
    return response
