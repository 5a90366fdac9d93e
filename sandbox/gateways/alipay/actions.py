"""Alipay refunds and closes made through the control API: alipay.trade.refund and alipay.trade.close, run with
what the merchant's app would have put in biz_content."""

from __future__ import annotations

import re

from sandbox.core.models import VIA_CONTROL_API, Order, Refund
from sandbox.core.money import format_yuan
from sandbox.core.ports import RefundRequest
from sandbox.errors import (
    GatewayRefused,
    InvalidParameter,
    OrderAlreadyPaid,
    OrderClosed,
    OrderNotPaid,
    SandboxError,
)
from sandbox.gateways.alipay import handlers
from sandbox.gateways.alipay.adapter import AlipayGateway
from sandbox.gateways.alipay.errors import AlipayError
from sandbox.gateways.created import field_error, refund_amount, renamed

FIELDS = {"refund_amount": "amount", "out_request_no": "out_refund_no", "refund_reason": "reason"}
OUT_REQUEST_NO = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")  # as out_trade_no: the numbers merchants send
MAX_REASON = 256  # what trade_refund reads of refund_reason
NAMED = re.compile(r"biz_content\.(\w+)")
# The sub_codes that mean a state conflict the control API names in its own words, per method.
REFUND_CONFLICTS = {
    "ACQ.TRADE_STATUS_ERROR": OrderNotPaid,
    "ACQ.TRADE_NOT_EXIST": OrderNotPaid,  # the order is here: Alipay has no trade until the buyer opens the cashier
    "ACQ.TRADE_HAS_CLOSE": OrderClosed,
}
CLOSE_CONFLICTS = {"ACQ.TRADE_STATUS_ERROR": OrderAlreadyPaid}


def refund_order(sandbox, request: RefundRequest) -> tuple[Order, Refund]:
    if not OUT_REQUEST_NO.match(request.out_refund_no):
        raise InvalidParameter(
            "out_refund_no",
            f"alipay refuses out_refund_no (out_request_no): 1 to 64 letters, digits, _ or -, "
            f"got {request.out_refund_no!r}",
        )
    if len(request.reason) > MAX_REASON:
        raise InvalidParameter("reason", f"alipay refuses reason (refund_reason): at most {MAX_REASON} characters")
    order = sandbox.payments.find(handlers.GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    biz = {
        "out_trade_no": request.out_trade_no,
        "refund_amount": format_yuan(refund_amount(order, request)),
        "out_request_no": request.out_refund_no,
    }
    if request.reason:
        biz["refund_reason"] = request.reason
    _run(sandbox, request.merchant_id, "refund", biz, request.base_url, REFUND_CONFLICTS)
    order = sandbox.payments.find(handlers.GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    return order, order.find_refund(request.out_refund_no)


def close_order(sandbox, merchant_id: str, out_trade_no: str, base_url: str) -> Order:
    _run(sandbox, merchant_id, "close", {"out_trade_no": out_trade_no}, base_url, CLOSE_CONFLICTS)
    return sandbox.payments.find(handlers.GATEWAY, merchant_id, out_trade_no=out_trade_no)


def _run(sandbox, app_id: str, action: str, biz: dict, base_url: str, conflicts: dict) -> None:
    method = AlipayGateway.action_methods[action]
    call = handlers.Call(sandbox, app_id, method, {}, biz, "RSA2", base_url, via=VIA_CONTROL_API)
    try:
        handlers.METHODS[method](call)
    except AlipayError as error:
        raise _neutral(error, conflicts) from None
    except SandboxError as error:
        raise renamed("alipay", error, FIELDS) from None


def _neutral(error: AlipayError, conflicts: dict) -> SandboxError:
    reason = f"alipay refused it: {error.sub_code} {error.sub_msg}"
    if error.sub_code == "ACQ.INVALID_PARAMETER":
        named = NAMED.search(error.sub_msg)
        return field_error("alipay", named[1] if named else "", FIELDS, error.sub_msg)
    return conflicts.get(error.sub_code, GatewayRefused)(reason)
