"""Alipay's hosted pages: the desktop cashier (page.pay), the mobile cashier (wap.pay) and the QR scan page."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request
from markupsafe import Markup

from sandbox.core.models import PAID, PENDING, Order
from sandbox.core.money import format_yuan
from sandbox.gateways.alipay.notify import return_params
from sandbox.pages import buyer
from sandbox.pages.buyer import namespace_of, processing

bp = Blueprint("alipay_pages", __name__, url_prefix="/cashier/alipay")

# What a buyer can pick when the payment fails, and the sub_code each stands for.
FAIL_REASONS = {
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": "Balance not enough (余额不足)",
    "ACQ.BUYER_ENABLE_STATUS_FORBID": "Account frozen (账户状态异常)",
    "ACQ.RISK_CONTROL_REJECT": "Rejected by risk control (风控拒绝)",
    "ACQ.PAYMENT_FAIL": "Payment failed (支付失败)",
}


def _sandbox():
    return current_app.extensions["paysandbox"]


def _order(trade_no: str) -> Order:
    order = _sandbox().order_by_trade_no("alipay", trade_no)
    if order is None:
        abort(404, description=f"no Alipay trade {trade_no} in the sandbox")
    return order


def _merchant_name(order: Order) -> str:
    record = namespace_of(order).merchants.get("alipay", order.merchant_id)
    return record["name"] if record else order.merchant_id


def _context(order: Order, **extra) -> dict:
    return {
        "order": order,
        "merchant_name": _merchant_name(order),
        "amount": format_yuan(order.amount),
        "expires_at": order.expires_at.strftime("%Y-%m-%d %H:%M:%S") if order.expires_at else "",
        "reasons": FAIL_REASONS,
        **extra,
    }


def _seen(order: Order) -> Order:
    """Opening the cashier (or scanning the code) is what makes the trade exist at Alipay; its first moment is kept."""
    return namespace_of(order).payments.mark_opened(order, visible=True)


@bp.get("/<trade_no>")
def cashier(trade_no: str):
    order = _seen(_order(trade_no))
    template = "alipay/wap.html" if order.product == "wap" else "alipay/cashier.html"
    if order.status != PENDING or processing(order):
        return _result(order)
    return render_template(template, **_context(order))


@bp.get("/qr/<trade_no>")
def scan(trade_no: str):
    order = _seen(_order(trade_no))
    import segno  # on the first QR page, not at start (about 5 ms)

    code = segno.make(request.url, error="m")
    # A viewBox and no fixed size, so the stylesheet can size it; a white quiet zone on any background.
    svg = code.svg_inline(omitsize=True, dark="#1a1a1a", light="#fff", title=f"QR code of {order.out_trade_no}")
    return render_template("alipay/scan.html", **_context(order, qr_svg=Markup(svg), qr_url=request.url))


@bp.post("/<trade_no>/pay")
def act(trade_no: str):
    action = request.form.get("action", "")
    order = buyer.act(_order(trade_no), action, request.form.get("reason", ""), FAIL_REASONS)
    if action == "leave":
        return _leave(order)
    # Only a paid trade returns to the merchant: a Pay click on a trade closed meanwhile shows it closed.
    if action == "pay" and order.status == PAID and order.return_url and order.product in ("page", "wap"):
        return redirect(_return_location(order))
    return _result(order)


def _return_location(order: Order) -> str:
    namespace = namespace_of(order)
    gateway = namespace.gateways["alipay"]
    method = order.extra.get("method", "alipay.trade.page.pay")
    params = return_params(order, method, namespace.clock.now(), gateway.keys, gateway.seller_id(order.merchant_id))
    separator = "&" if urlsplit(order.return_url).query else "?"
    return order.return_url + separator + urlencode(params)


def _leave(order: Order):
    quit_url = order.extra.get("quit_url")
    if quit_url:
        return redirect(quit_url)
    return render_template("alipay/result.html", outcome="left", back_url=_shop_url(order), **_context(order))


def _shop_url(order: Order) -> str:
    """Where "back to the shop" goes: the origin of return_url, since no signed return is owed."""
    target = order.return_url or order.notify_url
    if not target:
        return ""
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.netloc}/"


def _result(order: Order):
    outcome = {"paid": "paid", "refunded": "paid", "failed": "failed", "closed": "closed"}.get(order.status, "left")
    if processing(order):
        outcome = "processing"
    return render_template("alipay/result.html", outcome=outcome, back_url=_shop_url(order), **_context(order))
