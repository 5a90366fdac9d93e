"""WeChat Pay refunds and closes made through the control API: POST /v3/refund/domestic/refunds and the close by
out_trade_no, run with the body the merchant would have sent. An order created over API v2 is refunded and
closed over v3 too, as WeChat lets its merchant do; its notifications still speak v2."""

from __future__ import annotations

import re

from sandbox.core.models import VIA_CONTROL_API, Order, Refund
from sandbox.core.ports import RefundRequest
from sandbox.errors import (
    GatewayRefused,
    InvalidParameter,
    MerchantNotFound,
    OrderAlreadyPaid,
    OrderNotFound,
    OrderNotPaid,
    SandboxError,
)
from sandbox.gateways.created import field_error, refund_amount, renamed
from sandbox.gateways.wechatpay.common import GATEWAY
from sandbox.gateways.wechatpay.keys import PUBLIC_KEY_MODE
from sandbox.gateways.wechatpay.v3 import handlers
from sandbox.gateways.wechatpay.v3.codec import Caller
from sandbox.gateways.wechatpay.v3.errors import V3Error

FIELDS = {"out_refund_no": "out_refund_no", "amount.refund": "amount", "reason": "reason"}
MAX_REASON = 80
OUT_REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")  # WeChat's rule: letters, digits and _-|*@
CONFLICTS = {
    "INVALID_REQUEST": OrderNotPaid,  # the refund handler's only one here (amount.total is the order's)
    "ORDERPAID": OrderAlreadyPaid,
    "RESOURCE_NOT_EXISTS": OrderNotFound,
}


def refund_order(sandbox, request: RefundRequest) -> tuple[Order, Refund]:
    if not OUT_REFUND_NO.match(request.out_refund_no):
        raise InvalidParameter(
            "out_refund_no",
            f"wechatpay refuses out_refund_no: 1 to 64 letters, digits or _-|*@, got {request.out_refund_no!r}",
        )
    if len(request.reason) > MAX_REASON:
        raise InvalidParameter("reason", f"wechatpay refuses reason: at most {MAX_REASON} characters")
    order = sandbox.payments.find(GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    body: dict = {
        "out_trade_no": request.out_trade_no,
        "out_refund_no": request.out_refund_no,
        "amount": {"refund": refund_amount(order, request), "total": order.amount, "currency": "CNY"},
    }
    if request.reason:
        body["reason"] = request.reason
    _run(sandbox, request.merchant_id, handlers.refund, body)
    order = sandbox.payments.find(GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    return order, order.find_refund(request.out_refund_no)


def close_order(sandbox, merchant_id: str, out_trade_no: str, base_url: str) -> Order:
    _run(sandbox, merchant_id, handlers.close, out_trade_no, {"mchid": merchant_id}, base_url=base_url)
    return sandbox.payments.find(GATEWAY, merchant_id, out_trade_no=out_trade_no)


def _run(sandbox, mchid: str, handler, *args, base_url: str = "") -> None:
    merchant = sandbox.merchants.get(GATEWAY, mchid)
    if merchant is None:
        raise MerchantNotFound(f"no wechatpay merchant {mchid!r} in the namespace {sandbox.name!r}")
    call = handlers.Call(sandbox, Caller(merchant, PUBLIC_KEY_MODE), base_url, via=VIA_CONTROL_API)
    try:
        handler(call, *args)
    except V3Error as error:
        if error.code == "PARAM_ERROR":
            raise field_error("wechatpay", error.field, FIELDS, error.message) from None
        raise CONFLICTS.get(error.code, GatewayRefused)(f"wechatpay refused it: {error.code} {error.message}") from None
    except SandboxError as error:
        raise renamed("wechatpay", error, FIELDS) from None
