"""WeChat Pay orders made through the control API (POST /_sandbox/orders): the API v3 prepay handler, called with
what the merchant would have sent to /v3/pay/transactions/<kind>."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from sandbox.core.ports import CreatedOrder, OrderRequest
from sandbox.errors import GatewayRefused, InvalidParameter, SandboxError
from sandbox.gateways.created import field_error, renamed
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.keys import PUBLIC_KEY_MODE
from sandbox.gateways.wechatpay.v3 import handlers
from sandbox.gateways.wechatpay.v3.codec import Caller
from sandbox.gateways.wechatpay.v3.errors import V3Error

METHODS = ("native", "jsapi", "h5")  # the first is the default
FIELDS = {
    "out_trade_no": "out_trade_no",
    "description": "subject",
    "amount.total": "amount",
    "notify_url": "notify_url",
}
H5_SCENE = {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}}


def create_order(sandbox, request: OrderRequest) -> CreatedOrder:
    if request.return_url and request.method != "h5":
        raise InvalidParameter(
            "return_url", f"wechatpay {request.method} has no return_url: only h5 sends the buyer back (redirect_url)"
        )
    merchant = sandbox.merchants.get(GATEWAY, request.merchant_id)
    body: dict = {
        "appid": merchant["appid"],
        "mchid": request.merchant_id,
        "out_trade_no": request.out_trade_no,
        "description": request.subject,
        "notify_url": request.notify_url,
        "amount": {"total": request.amount, "currency": "CNY"},
    }
    if request.method == "jsapi":  # a real shop learns it from WeChat's OAuth; one per order here
        body["payer"] = {"openid": "oSbx" + sandbox.ids.alnum(24)}
    if request.method == "h5":
        body["scene_info"] = H5_SCENE
    # Nothing asked for a key: notifications are signed as for a merchant of today, with the platform public key
    # (a merchant's own key_mode still decides).
    call = handlers.Call(sandbox, Caller(merchant, PUBLIC_KEY_MODE), request.base_url)
    try:
        handlers.prepay(call, request.method, body)
    except V3Error as error:
        raise _neutral(error) from None
    except SandboxError as error:
        raise renamed("wechatpay", error, FIELDS) from None
    order = sandbox.payments.find(GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    pay_url, qr_code = pay_links(order, request.base_url)
    if pay_url and request.method == "h5" and request.return_url:  # the merchant appends where WeChat sends back
        pay_url += f"&redirect_url={quote(request.return_url, safe='')}"
    return CreatedOrder(order, pay_url, qr_code)


def pay_links(order, base_url: str) -> tuple[str | None, str | None]:
    """The page a buyer opens to pay `order` (native: the scan page of its code_url; H5: the MWEB page), and what a
    native order's QR code encodes. A JSAPI or APP order opens only with the merchant's paySign: none."""
    trade_type = order.extra.get("trade_type", "")
    if trade_type == "NATIVE" and order.extra.get("pr"):
        pr = order.extra["pr"]
        return f"{base_url}/cashier/wechatpay/native/{pr}", f"weixin://wxpay/bizpayurl?pr={pr}"
    if trade_type == "MWEB" and order.extra.get("prepay_id"):
        query = urlencode({"prepay_id": order.extra["prepay_id"], "package": order.trade_no[-10:]})
        return f"{base_url}/cashier/wechatpay/h5?{query}", None
    return None, None


def _neutral(error: V3Error) -> SandboxError:
    if error.code == "PARAM_ERROR":
        return field_error("wechatpay", error.field, FIELDS, error.message)
    return GatewayRefused(f"wechatpay refused it: {error.code} {error.message}")
