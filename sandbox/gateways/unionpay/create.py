"""UnionPay orders made through the control API (POST /_sandbox/orders): the consume handler, called with the fields
the merchant would have posted to frontTransReq.do or appTransReq.do."""

from __future__ import annotations

from sandbox.core.ports import CreatedOrder, OrderRequest
from sandbox.errors import GatewayRefused, InvalidParameter, OrderMismatch, OrderNotFound, SandboxError
from sandbox.gateways.created import renamed
from sandbox.gateways.unionpay import handlers
from sandbox.gateways.unionpay.adapter import GATEWAY
from sandbox.gateways.unionpay.errors import UnionPayError

# method -> (product, channelType); the first is the default.
METHODS = {"frontTrans": ("front", "07"), "appTrans": ("app", "08")}
FIELDS = {"orderId": "out_trade_no", "txnAmt": "amount", "orderDesc": "subject", "backUrl": "notify_url"}
FIELDS_FRONT = {**FIELDS, "frontUrl": "return_url"}
VERSION = "5.1.0"


def create_order(sandbox, request: OrderRequest) -> CreatedOrder:
    product, channel = METHODS[request.method]
    if request.return_url and product == "app":
        raise InvalidParameter("return_url", "unionpay appTrans has no return_url: the buyer pays in the app")
    merchant = sandbox.merchants.get(GATEWAY, request.merchant_id)
    params = {
        "version": VERSION,
        "encoding": "UTF-8",
        "signMethod": "01",
        "txnType": "01",
        "txnSubType": "01",
        "bizType": handlers.CONSUME_BIZ_TYPE,
        "channelType": channel,
        "accessType": "0",
        "merId": request.merchant_id,
        "orderId": request.out_trade_no,
        "txnTime": _txn_time(sandbox, request),
        "txnAmt": str(request.amount),
        "currencyCode": handlers.CNY,
        "backUrl": request.notify_url,
        "frontUrl": request.return_url if product == "front" else "",
        "orderDesc": request.subject,
    }
    call = handlers.Call(sandbox, merchant, {k: v for k, v in params.items() if v}, VERSION)
    fields = FIELDS_FRONT if product == "front" else FIELDS
    try:
        if product == "front":
            order = handlers.front_consume(call)
            return CreatedOrder(order, *pay_links(order, request.base_url))
        handlers.app_consume(call)
    except UnionPayError as error:
        if error.resp_code == "12":  # the orderId is taken by another transaction
            raise OrderMismatch(f"unionpay refused it: {error.resp_msg}") from None
        raise GatewayRefused(f"unionpay refused it: respCode {error.resp_code} {error.resp_msg}") from None
    except SandboxError as error:
        raise renamed("unionpay", error, fields) from None
    order = sandbox.payments.find(GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    return CreatedOrder(order, *pay_links(order, request.base_url))


def pay_links(order, base_url: str) -> tuple[str | None, str | None]:
    """The bank cashier a buyer opens to pay `order`: a front consume's by its queryId, an app consume's by its tn."""
    if order.product == "front":
        return f"{base_url}/cashier/unionpay/{order.trade_no}", None
    if order.product == "app" and order.extra.get("tn"):
        return f"{base_url}/cashier/unionpay/tn/{order.extra['tn']}", None
    return None, None


def _txn_time(sandbox, request: OrderRequest) -> str:
    """The moment sent, on the sandbox clock; an order made before keeps its own, so sending the same one again is
    the identical consume UnionPay answers with the same order."""
    try:
        return sandbox.payments.find(GATEWAY, request.merchant_id, request.out_trade_no).extra.get("txnTime", "")
    except OrderNotFound:
        return sandbox.clock.now().strftime("%Y%m%d%H%M%S")
