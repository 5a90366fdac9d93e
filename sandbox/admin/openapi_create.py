"""The OpenAPI description of the create form's operations: POST /_sandbox/orders and GET /_sandbox/gateways."""

from __future__ import annotations

from sandbox.admin import openapi_examples as ex
from sandbox.admin.openapi_schemas import obj, ref, text
from sandbox.admin.order_form import FIELDS, TEXT_LIMIT
from sandbox.core.money import MAX_AMOUNT
from sandbox.gateways.alipay.adapter import AlipayGateway
from sandbox.gateways.unionpay.adapter import UnionPayGateway
from sandbox.gateways.wechatpay.adapter import WechatPayGateway

METHODS = {gateway.name: gateway.create_methods for gateway in (AlipayGateway, WechatPayGateway, UnionPayGateway)}
LIMITED = {"type": "string", "maxLength": TEXT_LIMIT}
URL = {**LIMITED, "pattern": "^https?://", "format": "uri"}

ORDER_CREATION = obj(
    {
        "gateway": ref("Gateway"),
        "merchant_id": {**LIMITED, "description": "absent: the gateway's demo merchant, if this namespace has it"},
        "amount": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT, "description": "fen (990 is 9.90 yuan)"},
        "out_trade_no": {**LIMITED, "description": "absent: a new SBX<time><8 digits>; the gateway's own rules apply"},
        "subject": {**LIMITED, "description": "absent: paysandbox test order"},
        "notify_url": {**URL, "description": "required by wechatpay and unionpay (their protocols need one)"},
        "return_url": {
            **URL,
            "description": "where the buyer goes back: alipay page and wap, wechatpay h5 (redirect_url),"
            " unionpay frontTrans (frontUrl, required there); other methods have none (400)",
        },
        "method": {
            "enum": sorted({m for methods in METHODS.values() for m in methods}),
            "description": "; ".join(f"{g}: {', '.join(m)} (default {m[0]})" for g, m in METHODS.items()),
        },
    },
    ("gateway", "amount"),
    closed=True,
)
assert tuple(ORDER_CREATION["properties"]) == FIELDS  # the document names every field the view takes
CREATED_ORDER = {
    "allOf": [ref("Order")],
    "properties": {
        "pay_url": {
            "type": ["string", "null"],
            "description": "the hosted page a buyer opens to pay; null for wechatpay jsapi, whose pay sheet opens"
            " only with the merchant's paySign (pay it with POST .../pay)",
        },
        "qr_code": text("what the QR code encodes: alipay precreate's qr_code, wechatpay native's code_url"),
    },
    "required": ["pay_url"],
}
GATEWAY_CHOICES = obj(
    {
        "gateway": ref("Gateway"),
        "methods": {"type": "array", "items": text()},
        "default_method": text(),
        "demo_merchant_id": {"type": ["string", "null"], "description": "null when this namespace does not have it"},
        "merchants": {"type": "array", "items": text(), "description": "the ids registered in this namespace"},
    },
    "all",
)
NOTIFY = "https://shop.example.com/notify"
CREATED = {
    **ex.ORDER,
    "status": "pending",
    "product": "NATIVE",
    "gateway": "wechatpay",
    "merchant_id": ex.MCHID,
    "paid_at": None,
    "native": {"trade_state": "NOTPAY", "trade_state_desc": "未支付", "api": "v3"},
    "pay_url": f"{ex.SANDBOX_URL}/cashier/wechatpay/native/Kq3V0fQ8xJd2mTzA",
    "qr_code": "weixin://wxpay/bizpayurl?pr=Kq3V0fQ8xJd2mTzA",
}
GATEWAYS = {
    "gateways": [
        {
            "gateway": name,
            "methods": list(methods),
            "default_method": methods[0],
            "demo_merchant_id": demo,
            "merchants": [demo],
        }
        for (name, methods), demo in zip(METHODS.items(), (ex.APP_ID, ex.MCHID, "777290058110097"), strict=True)
    ]
}


def schemas() -> dict:
    return {"OrderCreation": ORDER_CREATION, "CreatedOrder": CREATED_ORDER, "GatewayChoices": GATEWAY_CHOICES}


def paths(operation, answer, json_body, listing) -> dict:
    """The operations, built with openapi.py's helpers (passed in: that module imports this one)."""
    creation_examples = {
        "native": ex.example("A WeChat Pay QR code", {"gateway": "wechatpay", "amount": 990, "notify_url": NOTIFY}),
        "page": ex.example("The demo Alipay app's desktop cashier, 0.01 yuan", {"gateway": "alipay", "amount": 1}),
    }
    return {
        "/_sandbox/orders": {
            "post": operation(
                "orders",
                "createOrder",
                "Create an order as its merchant would",
                "Runs the gateway's own create (alipay.trade.page.pay/wap.pay/precreate, /v3/pay/transactions/"
                "native/jsapi/h5, UnionPay front or app consume) for the merchant: the same checks, scenario rules"
                " (operation create), expiry and notifications as a merchant's call, but no api faults. 201 with the"
                " order, `pay_url` and, for a QR product, `qr_code`; 200 with the same order for an identical repeat"
                " of an out_trade_no; 409 when the gateway refuses the repeat (another amount, already paid)."
                " 400 names the field (`error.field`); 404 for a merchant_id not registered in this namespace.",
                {
                    "201": answer("Created", ref("CreatedOrder"), {"native": ex.example("WeChat Pay Native", CREATED)}),
                    "200": answer("The same order again (an identical repeat)", ref("CreatedOrder")),
                },
                errors=(400, 404, 409),
                body=json_body(ref("OrderCreation"), creation_examples, required=True),
            )
        },
        "/_sandbox/gateways": {
            "get": operation(
                "orders",
                "listGateways",
                "What an order can be created with",
                "Each gateway's methods (the default first), its demo merchant if this namespace has it, and the"
                " merchants registered here.",
                {
                    "200": answer(
                        "The gateways",
                        listing("gateways", ref("GatewayChoices")),
                        {"default": ex.example("The default namespace", GATEWAYS)},
                    )
                },
            )
        },
    }
