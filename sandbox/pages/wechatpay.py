"""WeChat Pay's hosted pages: the Native scan page, the H5 (MWEB) page, the JSAPI (in-WeChat) and APP pay sheets.

How a buyer's browser gets to each page:

* Native: the merchant has a code_url ``weixin://wxpay/bizpayurl?pr=<pr>`` (v3 ``/v3/pay/transactions/native``).
  A real phone cannot open it, so the sandbox shows it: ``GET /cashier/wechatpay/native?code_url=<url-encoded
  code_url>`` or the shortcut ``GET /cashier/wechatpay/native/<pr>``. The page draws the code_url as a QR code (what
  WeChat's own QR encodes) and, beside it, the buyer's phone where the payment is confirmed, failed or abandoned.
* H5: the h5_url the sandbox answers already points here (``/cashier/wechatpay/h5?prepay_id=..&package=..``); the
  merchant appends ``&redirect_url=<url-encoded>`` as with real WeChat. After pay, fail or leave the browser goes to
  redirect_url (WeChat returns the buyer whatever happened: the merchant must query), else to a result page.
* JSAPI: a page inside WeChat calls ``WeixinJSBridge.invoke('getBrandWCPayRequest', {appId, timeStamp, nonceStr,
  package: "prepay_id=..", signType, paySign}, callback)``. In a normal browser include the shim first::

      <script src="http://127.0.0.1:8080/cashier/wechatpay/jsbridge.js"></script>

  and the shop's code runs unmodified: the shim lays the sandbox's pay sheet over the page in an iframe (POST
  ``/cashier/wechatpay/jsapi``) and calls the shop's callback with ``get_brand_wcpay_request:ok``, ``:fail`` or
  ``:cancel`` when the buyer taps Done. With ``<script src=".../jsbridge.js" data-mode="page">`` it navigates the
  whole window to the pay sheet instead (for shops whose CSP forbids frames); the callback is then never called and
  the result page links back to the shop page. The same parameters can also be sent by hand: ``GET`` or ``POST
  /cashier/wechatpay/jsapi?appId=..&timeStamp=..&nonceStr=..&package=prepay_id%3D..&signType=RSA&paySign=..``.
  paySign is checked as WeChat does: RSA (API v3) with the merchant's registered public key over
  ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``; MD5 or HMAC-SHA256 (API v2) over the sorted ``k=v`` pairs plus
  ``&key=<API key>``. A wrong one shows what the sandbox verified, and with which key, never the key itself.

* APP: what the WeChat app does with a PayReq: ``GET`` or ``POST /cashier/wechatpay/app`` with ``appid, partnerid,
  prepayid, package=Sign=WXPay, noncestr, timestamp, sign`` (RSA for a v3 order; MD5 or HMAC-SHA256 for v2).

Opening a page never changes the order. The buttons POST to ``/cashier/wechatpay/<transaction_id>/pay``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request
from markupsafe import Markup

from sandbox.core import crypto
from sandbox.core.models import PENDING, Order
from sandbox.core.money import format_yuan
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.v2 import codec as v2_codec
from sandbox.pages import buyer, headers

bp = Blueprint("wechatpay_pages", __name__, url_prefix="/cashier/wechatpay")

# What a buyer can pick when the payment fails: the reason stored on the order (its failure.reason) and the label.
# Whichever is picked, the order's trade_state becomes PAYERROR and, as with real WeChat, no notification is sent.
FAIL_REASONS = {
    "NOTENOUGH": "Balance not enough (余额不足)",
    "BANKERROR": "Bank system error (银行系统异常)",
    "USERPAYING_TIMEOUT": "Password not entered in time (用户支付超时)",
    "PAYERROR": "Payment failed (支付失败)",
}

# The callback's err_msg after each outcome, as WeixinJSBridge reports it to the shop's page.
JSAPI_ERR_MSG = {
    "paid": "get_brand_wcpay_request:ok",
    "failed": "get_brand_wcpay_request:fail",
    "closed": "get_brand_wcpay_request:fail",
    "left": "get_brand_wcpay_request:cancel",
    "error": "get_brand_wcpay_request:fail",
    # The buyer did their part and the payment is processing: WeChat answers ok, and ok never proves payment
    # (the shop must query or await the notification), so nothing misleading is said.
    "processing": "get_brand_wcpay_request:ok",
}

CODE_URL_PREFIX = "weixin://wxpay/bizpayurl?pr="
KINDS = {"native": "NATIVE", "h5": "MWEB", "jsapi": "JSAPI", "app": "APP"}  # page -> the trade_type it pays
API_FOR = {
    "NATIVE": "/v3/pay/transactions/native (v2: pay/unifiedorder trade_type=NATIVE)",
    "MWEB": "/v3/pay/transactions/h5 (v2: pay/unifiedorder trade_type=MWEB)",
    "JSAPI": "/v3/pay/transactions/jsapi (v2: pay/unifiedorder trade_type=JSAPI)",
    "APP": "/v3/pay/transactions/app (v2: pay/unifiedorder trade_type=APP)",
}
SIGN_TYPES = ("RSA", "MD5", "HMAC-SHA256")
JSAPI_PARAMS = ("appId", "timeStamp", "nonceStr", "package", "signType", "paySign")
APP_PARAMS = ("appid", "partnerid", "prepayid", "package", "noncestr", "timestamp", "sign")  # the app SDK's PayReq


class PageError(Exception):
    """Shown as the error page: a heading (WeChat's wording), an explanation, and optional details."""

    def __init__(self, status: int, title: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.details = status, title, message, details or {}


@bp.before_request
def _pay_sheet_framing() -> None:
    """The JSAPI pay sheet (its form, result and error pages) may be framed by the shop page whose shim opened it."""
    if request.endpoint in ("wechatpay_pages.jsapi", "wechatpay_pages.act"):
        headers.allow_framing_by(request.values.get("embedder", ""))


@bp.errorhandler(PageError)
def _page_error(error: PageError):
    kind = request.endpoint.rsplit(".", 1)[-1] if request.endpoint else ""
    body = render_template(
        "wechatpay/error.html",
        error=error,
        mobile=kind in ("h5", "jsapi"),
        err_msg=JSAPI_ERR_MSG["error"] if kind == "jsapi" else "",
        return_to=_safe_url(request.values.get("return_to", "")),
    )
    return body, error.status


def _sandbox():
    return current_app.extensions["paysandbox"]


def _merchant_name(order: Order) -> str:
    record = buyer.namespace_of(order).merchants.get(GATEWAY, order.merchant_id)
    return record["name"] if record else order.merchant_id


def _by_handle(handle: str, what: str) -> Order:
    order = _sandbox().order_by_handle(GATEWAY, handle)
    if order is None:
        raise PageError(
            404,
            "订单不存在 · Order not found",
            f"No WeChat Pay order in this sandbox has {what}. The sandbox may have been reset since the merchant "
            "created it, or the value was copied wrong.",
        )
    return order


def _require_kind(order: Order, page: str, what: str) -> None:
    trade_type = KINDS[page]
    if order.extra.get("trade_type") != trade_type:
        actual = order.extra.get("trade_type", "?")
        raise PageError(
            400,
            "商户参数错误 · Wrong kind of order",
            f"{what} belongs to a {actual} order (out_trade_no {order.out_trade_no}); this page pays {trade_type} "
            f"orders, created with {API_FOR[trade_type]}.",
        )


def _context(order: Order, page: str, **extra) -> dict:
    return {
        "order": order,
        "page": page,
        "merchant_name": _merchant_name(order),
        "amount": format_yuan(order.amount),
        "expires_at": order.expires_at.strftime("%Y-%m-%d %H:%M:%S") if order.expires_at else "",
        "reasons": FAIL_REASONS,
        "mobile": page in ("h5", "jsapi"),
        "processing": buyer.processing(order),
        "redirect_url": "",
        "return_to": "",
        "embedder": g.get("frame_ancestor", ""),
        **extra,
    }


def _safe_url(url: str) -> str:
    """Only http(s) URLs are followed or linked: never javascript: or data: from a query string."""
    return url if urlsplit(url).scheme in ("http", "https") else ""


# -- Native ------------------------------------------------------------------------------------------


@bp.get("/native")
def native_code_url():
    code_url = request.args.get("code_url", "").strip()
    if not code_url:
        raise PageError(
            400,
            "缺少参数 · Missing code_url",
            "Open this page as /cashier/wechatpay/native?code_url=<the url-encoded code_url> "
            "or /cashier/wechatpay/native/<pr>.",
        )
    if not code_url.startswith(CODE_URL_PREFIX) or len(code_url) == len(CODE_URL_PREFIX):
        raise PageError(
            400,
            "二维码无效 · Not a WeChat Pay code_url",
            f"{code_url!r} is not a code_url: WeChat's look like {CODE_URL_PREFIX}<token>.",
        )
    return _native(code_url[len(CODE_URL_PREFIX) :].split("&", 1)[0])


@bp.get("/native/<pr>")
def native(pr: str):
    return _native(pr)


def _native(pr: str):
    order = _by_handle(f"pr:{pr}", f"the code_url token pr={pr}")
    _require_kind(order, "native", f"pr={pr}")
    order = buyer.opened(order)
    code_url = CODE_URL_PREFIX + pr
    # WeChat's QR code carries the code_url itself, not a web address.
    import segno  # on the first QR page, not at start (about 5 ms)

    code = segno.make(code_url, error="m")
    svg = code.svg_inline(omitsize=True, dark="#1a1a1a", light="#fff", title=f"QR code of {order.out_trade_no}")
    return render_template("wechatpay/native.html", **_context(order, "native", qr_svg=Markup(svg), code_url=code_url))


# -- H5 ------------------------------------------------------------------------------------------------


def h5_package(order: Order) -> str:
    """The package in an h5_url: the last 10 digits of the transaction id (as the v3 prepay answer builds it)."""
    return order.trade_no[-10:]


@bp.get("/h5")
def h5():
    prepay_id = request.args.get("prepay_id", "").strip()
    if not prepay_id:
        message = "An h5_url carries prepay_id and package: open it as it was returned."
        raise PageError(400, "缺少参数 · Missing prepay_id", message)
    order = _by_handle(prepay_id, f"prepay_id {prepay_id}")
    _require_kind(order, "h5", f"prepay_id {prepay_id}")
    package = request.args.get("package", "")
    if package and package != h5_package(order):
        raise PageError(
            400,
            "商家参数格式有误 · The h5_url was altered",
            f"package {package!r} does not belong to prepay_id {prepay_id}: open the h5_url exactly as it was "
            "returned, adding only &redirect_url=.",
        )
    raw_redirect = request.args.get("redirect_url", "")
    redirect_url = _safe_url(raw_redirect)
    if raw_redirect and not redirect_url:
        raise PageError(
            400,
            "商家参数格式有误 · Bad redirect_url",
            f"redirect_url must be an http(s) URL, url-encoded after the h5_url; got {raw_redirect!r}.",
        )
    context = _context(buyer.opened(order), "h5", redirect_url=redirect_url)
    if order.status != PENDING or context["processing"]:
        return _result(order, context)
    return render_template("wechatpay/h5.html", **context)


# -- JSAPI ---------------------------------------------------------------------------------------------


@bp.route("/jsapi", methods=["GET", "POST"])
def jsapi():
    values = request.values
    params = {name: values.get(name, "") for name in JSAPI_PARAMS}
    params["timeStamp"] = params["timeStamp"] or values.get("timestamp", "")  # wx.chooseWXPay spells it so
    missing = [name for name in JSAPI_PARAMS if not params[name]]
    if missing:
        raise PageError(
            400,
            "缺少参数 · Missing parameters",
            f"getBrandWCPayRequest needs {', '.join(JSAPI_PARAMS)}; missing: {', '.join(missing)}.",
        )
    package = params["package"]
    if not package.startswith("prepay_id=") or len(package) == len("prepay_id="):
        raise PageError(400, "商户参数错误 · Bad package", f'package must be "prepay_id=<prepay_id>", got {package!r}.')
    prepay_id = package[len("prepay_id=") :]
    order = _by_handle(prepay_id, f"prepay_id {prepay_id}")
    _require_kind(order, "jsapi", f"prepay_id {prepay_id}")
    appid = order.extra.get("appid", "")
    if params["appId"] != appid:
        raise PageError(
            400,
            "商户参数错误 · appId does not match",
            f"appId {params['appId']} is not the appid prepay_id {prepay_id} was created with ({appid}).",
        )
    checked_with = _verify_pay_sign(order, params)
    order = buyer.opened(order)
    context = _context(order, "jsapi", return_to=_safe_url(values.get("return_to", "")), checked_with=checked_with)
    if context["processing"]:
        return _result(order, context)
    if order.status != PENDING:
        # WeChat refuses to pay an order that is already paid or closed: the callback gets :fail.
        return _result(order, context, err_msg=JSAPI_ERR_MSG["error"])
    return render_template("wechatpay/jsapi.html", **context)


def _verify_pay_sign(order: Order, params: dict[str, str]) -> str:
    """Check a JSAPI paySign as WeChat does; answer how it was checked (for the page), raise PageError if wrong."""
    sign_type, api = params["signType"], order.extra.get("api", "v3")
    if sign_type not in SIGN_TYPES:
        message = f"signType must be RSA (API v3), MD5 or HMAC-SHA256 (API v2), got {sign_type!r}."
        raise PageError(400, "商户参数错误 · Bad signType", message)
    if api == "v3" and sign_type != "RSA":
        raise PageError(
            400,
            "支付验证签名失败 · Wrong signType",
            f"prepay_id {order.extra['prepay_id']} comes from API v3, whose JSAPI payments are signed with signType "
            f"RSA (wechatpayv3: wx.sign([appId, timeStamp, nonceStr, package])), not {sign_type}.",
        )
    if api != "v3" and sign_type == "RSA":
        raise PageError(
            400,
            "支付验证签名失败 · Wrong signType",
            f"prepay_id {order.extra['prepay_id']} comes from API v2, whose JSAPI payments are signed with signType "
            "MD5 or HMAC-SHA256 and the API key (wechatpy: jsapi.get_jsapi_params), not RSA.",
        )
    rsa_lines = [params[name] for name in ("appId", "timeStamp", "nonceStr", "package")]
    v2_fields = {name: params[name] for name in ("appId", "nonceStr", "package", "signType", "timeStamp")}
    return _check_signature(
        order, sign_type, rsa_lines, "appId\\ntimeStamp\\nnonceStr\\npackage\\n", v2_fields, params["paySign"]
    )


def _check_signature(
    order: Order, sign_type: str, rsa_lines: list[str], rsa_recipe: str, v2_fields: dict[str, str], signature: str
) -> str:
    """RSA (v3) over the lines, each followed by a newline, with the merchant key; MD5 or HMAC-SHA256 (v2) over
    the sorted fields plus &key=<the API key, or the sandbox key for /sandboxnew/ orders>."""
    mchid = order.merchant_id
    merchant = buyer.namespace_of(order).gateways[GATEWAY].merchant(mchid)
    if merchant is None:
        raise PageError(400, "商户不存在 · Unknown merchant", f"mchid {mchid} is not registered with the sandbox.")
    if sign_type == "RSA":
        message = "".join(line + "\n" for line in rsa_lines)
        key = crypto.load_public_key(merchant["merchant_public_key"])
        key_name = (
            f"the merchant public key of mchid {mchid} (certificate serial {merchant.get('merchant_serial_no', '?')}, "
            f"sha256 fingerprint {crypto.fingerprint(key)})"
        )
        if crypto.verify(key, message.encode("utf-8"), signature):
            return f"SHA256withRSA, {key_name}"
        _bad_sign(f"SHA256withRSA over {rsa_recipe}", message, key_name, signature)
    api_key = merchant.get("api_key", "")
    if not api_key:
        raise PageError(
            400,
            "支付验证签名失败 · No API key",
            f"mchid {mchid} has no API v2 key (api_key) registered with the sandbox, so a {sign_type} signature "
            "cannot be checked. Register it with POST /_sandbox/merchants.",
        )
    with_key = v2_codec.signing_string(v2_fields) + "&key="
    kind = order.extra.get("sign_key_kind", v2_codec.API_KEY)
    key_name = f"the API key of mchid {mchid}"
    hint = ""
    if kind == v2_codec.SANDBOX_KEY:
        # Ordered under /sandboxnew/: wechatpy(sandbox=True) signs the page params with the getsignkey key too.
        key_name = f"the sandbox key of mchid {mchid} (from sandboxnew/pay/getsignkey)"
        if v2_codec.same_sign(v2_codec.sign(v2_fields, api_key, sign_type), signature.upper()):
            hint = "signed with the API key; an order placed under /sandboxnew/ is paid with the sandbox key"
    if v2_codec.same_sign(v2_codec.sign(v2_fields, v2_codec.key_for(merchant, kind), sign_type), signature.upper()):
        return f"{sign_type}, {key_name}"
    recipe = f"{sign_type}, upper-case hex, over the sorted k=v pairs followed by &key=<the key>"
    _bad_sign(recipe, with_key + f"<{key_name}>", key_name, signature, hint)
    return ""  # not reached


@bp.route("/app", methods=["GET", "POST"])
def app_pay():
    """What the WeChat app does with an APP order's PayReq: appid, partnerid, prepayid, package=Sign=WXPay,
    noncestr, timestamp, sign (RSA for v3; MD5 or, with signType, HMAC-SHA256 for v2)."""
    values = request.values
    params = {name: values.get(name, "") for name in APP_PARAMS}
    missing = [name for name in APP_PARAMS if not params[name]]
    if missing:
        raise PageError(
            400,
            "缺少参数 · Missing parameters",
            f"PayReq needs {', '.join(APP_PARAMS)}; missing: {', '.join(missing)}.",
        )
    if params["package"] != "Sign=WXPay":
        raise PageError(400, "商户参数错误 · Bad package", f'package must be "Sign=WXPay", got {params["package"]!r}.')
    order = _by_handle(params["prepayid"], f"prepayid {params['prepayid']}")
    _require_kind(order, "app", f"prepayid {params['prepayid']}")
    if (params["appid"], params["partnerid"]) != (order.extra.get("appid", ""), order.merchant_id):
        raise PageError(
            400,
            "商户参数错误 · appid or partnerid does not match",
            f"prepayid {params['prepayid']} belongs to appid {order.extra.get('appid')} and mchid "
            f"{order.merchant_id}, not appid {params['appid']} and partnerid {params['partnerid']}.",
        )
    v3 = order.extra.get("api", "v3") == "v3"
    sign_type = "RSA" if v3 else values.get("signType", "MD5")
    if sign_type not in SIGN_TYPES[1:] and not v3:
        raise PageError(400, "商户参数错误 · Bad signType", f"signType must be MD5 or HMAC-SHA256, got {sign_type!r}.")
    rsa_lines = [params[name] for name in ("appid", "timestamp", "noncestr", "prepayid")]
    v2_fields = {name: params[name] for name in APP_PARAMS if name != "sign"}
    checked_with = _check_signature(
        order, sign_type, rsa_lines, "appid\\ntimestamp\\nnoncestr\\nprepayid\\n", v2_fields, params["sign"]
    )
    order = buyer.opened(order)
    context = _context(order, "app", checked_with=checked_with)
    if order.status != PENDING or context["processing"]:
        return _result(order, context)
    return render_template("wechatpay/jsapi.html", **context)


def _bad_sign(recipe: str, message: str, key_name: str, signature: str, hint: str = "") -> None:
    details = {
        "Algorithm": recipe,
        "String verified": message.replace("\n", "\\n"),
        "Key": key_name,
        "Signature received": signature,
    }
    if hint:
        details["Hint"] = hint
    raise PageError(
        400,
        "支付验证签名失败 · paySign is wrong",
        "The sandbox could not verify paySign. Compare the string below with the one your code signed, "
        "and check it signs with the key named here.",
        details,
    )


@bp.get("/jsbridge.js")
def jsbridge():
    body = render_template("wechatpay/jsbridge.js")
    return Response(body, content_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


# -- actions -------------------------------------------------------------------------------------------


@bp.post("/<trade_no>/pay")
def act(trade_no: str):
    order = _sandbox().order_by_trade_no(GATEWAY, trade_no)
    if order is None:
        raise PageError(404, "订单不存在 · Order not found", f"No WeChat Pay transaction {trade_no} in this sandbox.")
    page = request.form.get("page", "native")
    if page not in KINDS:
        abort(400, description="page must be native, h5 or jsapi")
    action = request.form.get("action", "")
    redirect_url = _safe_url(request.form.get("redirect_url", ""))
    if not buyer.processing(order):  # a second tap while it processes changes nothing
        order = buyer.act(order, action, request.form.get("reason", ""), FAIL_REASONS)
    if page == "h5" and redirect_url:
        # WeChat sends the buyer back to redirect_url whatever happened; the merchant queries the order.
        return redirect(redirect_url)
    context = _context(order, page, redirect_url=redirect_url, return_to=_safe_url(request.form.get("return_to", "")))
    return _result(order, context, left=action == "leave")


def _shop_url(order: Order) -> str:
    """Where "back to the shop" goes when the merchant gave nothing better: the origin of notify_url."""
    if not order.notify_url:
        return ""
    parts = urlsplit(order.notify_url)
    return f"{parts.scheme}://{parts.netloc}/"


def _result(order: Order, context: dict, left: bool = False, err_msg: str = ""):
    outcome = {"paid": "paid", "refunded": "paid", "failed": "failed", "closed": "closed"}.get(order.status, "left")
    if left and order.status == PENDING:
        outcome = "left"
    if context["processing"]:
        outcome = "processing"  # paid by the buyer, left pending by a scenario or magic amount: it settles alone
    back_url = context["redirect_url"] or context["return_to"] or _shop_url(order)
    if context["page"] == "jsapi":
        err_msg = err_msg or JSAPI_ERR_MSG[outcome]
    return render_template("wechatpay/result.html", outcome=outcome, back_url=back_url, err_msg=err_msg, **context)
