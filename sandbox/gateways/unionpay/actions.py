"""UnionPay refunds made through the control API: backTransReq.do txnType 04 on the consume's queryId, run with the
fields the merchant would have posted. ACP has no close for a consume: the control API says so."""

from __future__ import annotations

from sandbox.core.models import VIA_CONTROL_API, Order, Refund
from sandbox.core.ports import RefundRequest
from sandbox.errors import (
    GatewayRefused,
    InvalidParameter,
    MerchantNotFound,
    OrderNotPaid,
    RefundExceedsPaid,
    RefundMismatch,
    SandboxError,
    UnsupportedByGateway,
)
from sandbox.gateways.created import refund_amount, renamed
from sandbox.gateways.unionpay import handlers
from sandbox.gateways.unionpay.adapter import GATEWAY
from sandbox.gateways.unionpay.errors import UnionPayError

FIELDS = {"orderId": "out_refund_no", "txnAmt": "amount"}
DEFAULT_VERSION = "5.1.0"
CONFLICTS = {
    "35": OrderNotPaid,  # the consume is not paid (or not there)
    "36": RefundExceedsPaid,  # more than is left
    "45": RefundExceedsPaid,  # already refunded in full (or undone)
    "12": RefundMismatch,  # the orderId names another transaction
}


def refund_order(sandbox, request: RefundRequest) -> tuple[Order, Refund]:
    if request.reason:
        raise InvalidParameter("reason", "unionpay refunds carry no reason: backTransReq has no such field")
    if not handlers.ORDER_ID.match(request.out_refund_no):
        raise InvalidParameter(
            "out_refund_no",
            f"unionpay refuses out_refund_no (orderId): 8 to 40 letters or digits, got {request.out_refund_no!r}",
        )
    merchant = sandbox.merchants.get(GATEWAY, request.merchant_id)
    if merchant is None:
        raise MerchantNotFound(f"no unionpay merchant {request.merchant_id!r} in the namespace {sandbox.name!r}")
    order = sandbox.payments.find(GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    version = order.extra.get("version") or DEFAULT_VERSION
    params = {
        "version": version,
        "encoding": "UTF-8",
        "signMethod": "01",
        "txnType": "04",
        "txnSubType": "00",
        "bizType": handlers.CONSUME_BIZ_TYPE,
        "channelType": "07",
        "accessType": "0",
        "merId": request.merchant_id,
        "orderId": request.out_refund_no,
        "txnTime": _txn_time(sandbox, order, request.out_refund_no),
        "txnAmt": str(refund_amount(order, request)),
        "currencyCode": handlers.CNY,
        "origQryId": order.trade_no,
        "backUrl": order.notify_url,  # the refund's notification goes where the consume's went
    }
    call = handlers.Call(sandbox, merchant, {k: v for k, v in params.items() if v}, version, via=VIA_CONTROL_API)
    try:
        handlers.refund(call)
    except UnionPayError as error:
        reason = f"unionpay refused it: respCode {error.resp_code} {error.resp_msg}"
        raise CONFLICTS.get(error.resp_code, GatewayRefused)(reason) from None
    except SandboxError as error:
        raise renamed("unionpay", error, FIELDS) from None
    order = sandbox.payments.find(GATEWAY, request.merchant_id, out_trade_no=request.out_trade_no)
    return order, order.find_refund(request.out_refund_no)


def close_order(sandbox, merchant_id: str, out_trade_no: str, base_url: str) -> Order:
    raise UnsupportedByGateway(
        "unionpay has no close for a consume: a pending one expires at its payTimeout, a paid one is refunded"
        " (POST .../refund) or undone"
    )


def _txn_time(sandbox, order: Order, out_refund_no: str) -> str:
    """Now on the sandbox clock; a refund made before keeps its own, so sending it again is the identical request
    UnionPay answers with the same refund."""
    made = order.find_refund(out_refund_no)
    if made is not None and made.extra.get("txnTime"):
        return made.extra["txnTime"]
    return sandbox.clock.now().strftime("%Y%m%d%H%M%S")
