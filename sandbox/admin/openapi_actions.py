"""The OpenAPI description of the merchant's actions on an order: POST .../refund and POST .../close."""

from __future__ import annotations

from sandbox.admin import openapi_examples as ex
from sandbox.admin.openapi_schemas import obj, ref
from sandbox.admin.order_form import REFUND_FIELDS, TEXT_LIMIT
from sandbox.core.money import MAX_AMOUNT

REFUND_REQUEST = obj(
    {
        "amount": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_AMOUNT,
            "description": "fen; absent: what is left to refund (for a repeat of an out_refund_no: its amount)",
        },
        "out_refund_no": {
            "type": "string",
            "maxLength": TEXT_LIMIT,
            "description": "absent: a new SBXR<time><8 digits>. The gateway's rules: alipay (out_request_no) 1-64"
            " letters, digits, _ or -; wechatpay 1-64 letters, digits or _-|*@; unionpay (orderId) 8-40 letters or"
            " digits. The same number again with the same amount is the same refund (200)",
        },
        "reason": {
            "type": "string",
            "maxLength": TEXT_LIMIT,
            "description": "alipay refund_reason (up to 256), wechatpay reason (up to 80); unionpay has none (400)",
        },
    },
    closed=True,
)
assert tuple(REFUND_REQUEST["properties"]) == REFUND_FIELDS  # the document names every field the view takes
LINKS = {
    "pay_url": {
        "type": ["string", "null"],
        "description": "the hosted page a buyer opens to pay the order (null when none opens without the"
        " merchant's signature, e.g. wechatpay jsapi, or for a product paid elsewhere)",
    },
    "qr_code": {"type": ["string", "null"], "description": "what the order's QR code encodes; null without one"},
}
ORDER_WITH_LINKS = {"allOf": [ref("OrderWithNotifications")], "properties": LINKS, "required": list(LINKS)}
REFUNDED_ORDER = {
    "allOf": [ref("OrderWithLinks")],
    "properties": {"refund": {**ref("Refund"), "description": "the refund this call made (or found again)"}},
    "required": ["refund"],
}
NO_LINKS = {"pay_url": None, "qr_code": None}
REFUND = {**ex.REFUNDED_ORDER["refunds"][0], "status": "pending", "succeeded_at": None, "via": "control_api"}
REFUNDED = {
    **ex.REFUNDED_ORDER,
    **NO_LINKS,
    "refunds": [REFUND],
    "refund": REFUND,
    "notifications": [],
    "native": {"trade_state": "REFUND", "trade_state_desc": "转入退款", "api": "v3"},
}
CLOSED = {
    **ex.ORDER,
    "status": "closed",
    "paid_at": None,
    "closed_at": ex.NOW,
    "failure": {"reason": "closed by merchant", "via": "control_api"},
    "native": {"trade_status": "TRADE_CLOSED", "api": "gateway.do"},
    "notifications": [],
    **NO_LINKS,
}


def schemas() -> dict:
    return {"RefundRequest": REFUND_REQUEST, "OrderWithLinks": ORDER_WITH_LINKS, "RefundedOrder": REFUNDED_ORDER}


def paths(operation, answer, json_body, order_path: str, order_params: tuple[str, ...]) -> dict:
    """The operations, built with openapi.py's helpers (passed in: that module imports this one)."""
    refund_examples = {
        "part": ex.example("Refund 3.00 yuan", {"amount": 300, "out_refund_no": "QA-1001-R1", "reason": "broken"}),
        "rest": ex.example("Refund what is left, under a generated number", {}),
    }
    return {
        order_path + "/refund": {
            "post": operation(
                "orders",
                "refundOrder",
                "Refund an order as its merchant would",
                "Runs the gateway's own refund for the order's merchant (alipay.trade.refund with out_request_no,"
                " WeChat Pay /v3/refund/domestic/refunds, also for an order made over v2, UnionPay backTransReq"
                " txnType 04 on the consume's queryId): the same checks and refund notifications (WeChat"
                " REFUND.SUCCESS, UnionPay's) as the merchant's call; WeChat Pay and UnionPay refunds are pending"
                " until they settle on the sandbox clock. A scenario rule whose `api.error` matches the refund"
                " (operation refund, or a magic 6.09 amount) refuses it (409 GATEWAY_REFUSED with the gateway's"
                " code); other api faults shape wire answers only. Marked `via: control_api`: the integration report"
                " does not count it as the merchant's. 201 with the order and `refund`; 200 for an identical repeat"
                " of an out_refund_no. 409: ORDER_NOT_PAID, ORDER_CLOSED, REFUND_EXCEEDS_PAID, REFUND_MISMATCH (the"
                " number again with another amount), GATEWAY_REFUSED; 400 names the field; 404 for an unknown order.",
                {
                    "201": answer(
                        "Refunded (or on its way)", ref("RefundedOrder"), {"pending": ex.example("WeChat", REFUNDED)}
                    ),
                    "200": answer("The same refund again (an identical repeat)", ref("RefundedOrder")),
                },
                errors=(400, 404, 409),
                params=order_params,
                body=json_body(ref("RefundRequest"), refund_examples),
            )
        },
        order_path + "/close": {
            "post": operation(
                "orders",
                "closeOrder",
                "Close an order as its merchant would",
                "Runs the gateway's own close for the order's merchant (alipay.trade.close, WeChat Pay's close by"
                " out_trade_no): the buyer can no longer pay it. Alipay knows a page, wap or QR order only once the"
                " buyer opened its cashier or scanned its code (409 GATEWAY_REFUSED ACQ.TRADE_NOT_EXIST before)."
                " UnionPay has no close for a consume: 409 UNSUPPORTED_BY_GATEWAY (a pending one expires at its"
                " payTimeout; refund a paid one). A paid order is a 409 ORDER_ALREADY_PAID. The close records"
                " `failure.via: control_api`, which the integration report leaves out. No body, or {}.",
                {"200": answer("Closed", ref("OrderWithLinks"), {"closed": ex.example("Alipay", CLOSED)})},
                errors=(400, 404, 409),
                params=order_params,
                body=json_body(obj({}, closed=True)),
            )
        },
    }
