"""Alipay orders made through the control API (POST /_sandbox/orders): the wire method's own handler, called with
what the app would have sent to gateway.do."""

from __future__ import annotations

import re

from sandbox.core.money import format_yuan
from sandbox.core.ports import CreatedOrder, OrderRequest
from sandbox.errors import GatewayRefused, InvalidParameter, SandboxError
from sandbox.gateways.alipay import handlers
from sandbox.gateways.alipay.errors import AlipayError
from sandbox.gateways.created import field_error, renamed

# method -> (wire method, product_code); the first is the default.
METHODS = {
    "page": ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
    "wap": ("alipay.trade.wap.pay", "QUICK_WAP_WAY"),
    "precreate": ("alipay.trade.precreate", ""),
}
FIELDS = {"out_trade_no": "out_trade_no", "total_amount": "amount", "subject": "subject"}
NAMED = re.compile(r"biz_content\.(\w+)")


def create_order(sandbox, request: OrderRequest) -> CreatedOrder:
    method, product_code = METHODS[request.method]
    if request.method == "precreate" and request.return_url:
        raise InvalidParameter(
            "return_url", "alipay precreate has no return_url: the buyer scans the QR code and pays on the phone"
        )
    biz = {"out_trade_no": request.out_trade_no, "total_amount": format_yuan(request.amount)}
    biz.update(subject=request.subject, **({"product_code": product_code} if product_code else {}))
    params = {k: v for k, v in (("notify_url", request.notify_url), ("return_url", request.return_url)) if v}
    call = handlers.Call(sandbox, request.merchant_id, method, params, biz, "RSA2", request.base_url)
    try:
        if request.method == "precreate":
            handlers.trade_precreate(call)
            order = sandbox.payments.find("alipay", request.merchant_id, out_trade_no=request.out_trade_no)
        else:
            order = handlers.METHODS[method](call)
    except AlipayError as error:
        raise _neutral(error) from None
    except SandboxError as error:
        raise renamed("alipay", error, FIELDS) from None
    return CreatedOrder(order, *pay_links(order, request.base_url))


def pay_links(order, base_url: str) -> tuple[str | None, str | None]:
    """The page a buyer opens to pay `order`, and what its QR code encodes (the scan page's own address)."""
    if order.product == "precreate":
        scan_page = f"{base_url}/cashier/alipay/qr/{order.trade_no}"
        return scan_page, scan_page
    if order.product in ("page", "wap"):
        return f"{base_url}/cashier/alipay/{order.trade_no}", None
    return None, None  # paid in the Alipay app (create, app) or by the cashier's scanner (barcode)


def _neutral(error: AlipayError) -> SandboxError:
    if error.sub_code == "ACQ.INVALID_PARAMETER":
        named = NAMED.search(error.sub_msg)
        return field_error("alipay", named[1] if named else "", FIELDS, error.sub_msg)
    return GatewayRefused(f"alipay refused it: {error.sub_code} {error.sub_msg}")
