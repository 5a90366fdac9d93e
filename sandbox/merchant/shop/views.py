"""The shop's pages and the endpoints the gateways call: catalogue, cart, checkout, order pages, refunds,
notifications (/notify/<gateway>), browser returns (/return/<gateway>), and the pages that explain it all."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup

from sandbox.merchant.shop import headers
from sandbox.merchant.shop.catalog import BY_SKU, MAX_QUANTITY, PRODUCTS, lines_of
from sandbox.merchant.shop.gateways.base import Inbound
from sandbox.merchant.shop.orders import REFUND_OPEN, OrderError, total
from sandbox.merchant.shop.service import Shop
from sandbox.merchant.shop.settings import BEIJING

bp = Blueprint("shop", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


def shop() -> Shop:
    return current_app.extensions["shop"]


def _cart() -> dict[str, int]:
    return {k: v for k, v in session.get("cart", {}).items() if k in BY_SKU}


# -- catalogue and cart ------------------------------------------------------------------------------------------


@bp.get("/")
def products():
    return render_template("shop/products.html", products=PRODUCTS, cart=_cart())


@bp.post("/cart")
def add_to_cart():
    sku = request.form.get("sku", "")
    if sku not in BY_SKU:
        abort(400, f"no product {sku!r}")
    cart = _cart()
    cart[sku] = min(cart.get(sku, 0) + 1, MAX_QUANTITY)
    session["cart"] = cart
    return redirect(url_for("shop.cart"))


@bp.post("/cart/update")
def update_cart():
    before, cart = _cart(), {}
    for sku in BY_SKU:
        raw = request.form.get(f"qty_{sku}", "").strip()
        if raw.isascii() and raw.isdigit() and int(raw) > 0:
            cart[sku] = min(int(raw), MAX_QUANTITY)
        elif sku in before and not raw:
            cart[sku] = before[sku]
    session["cart"] = cart
    return redirect(url_for("shop.cart"))


@bp.get("/cart")
def cart():
    lines = lines_of(_cart())
    return render_template("shop/cart.html", lines=lines, total=total(lines), integrations=shop().integrations)


@bp.post("/checkout")
def checkout():
    gateway, _, method = request.form.get("pay_with", "").partition(":")
    try:
        order = shop().checkout(lines_of(_cart()), gateway, method, client_ip=request.remote_addr or "127.0.0.1")
    except OrderError as exc:
        flash(str(exc), "error")
        return redirect(url_for("shop.cart"))
    session["cart"] = {}
    return redirect(url_for("shop.pay", no=order.no))


# -- paying --------------------------------------------------------------------------------------------------------


@bp.get("/orders/<no>/pay")
def pay(no: str):
    order = _order(no)
    if order.status != "pending":
        return redirect(url_for("shop.order", no=no))
    checkout = Shop.checkout_of(order)
    if checkout.kind == "redirect":
        return redirect(checkout.url)
    if checkout.kind == "form":
        headers.allow_inline_scripts_of(checkout.html)
        icon = f'<link rel="icon" href="{url_for("favicon_svg")}" type="image/svg+xml">'
        return Response(f"<!doctype html><meta charset=utf-8>{icon}<title>To the cashier</title>{checkout.html}")
    if checkout.kind == "qr":
        code = segno.make(checkout.code_url, error="m")
        svg = Markup(code.svg_inline(omitsize=True, dark="#1a1a1a", light="#fff", title=f"Pay order {no}"))
        return render_template("shop/qr.html", order=order, checkout=checkout, qr_svg=svg)
    return render_template("shop/jsapi.html", order=order, checkout=checkout, sandbox_url=shop().settings.sandbox_url)


# -- orders --------------------------------------------------------------------------------------------------------


def _order(no: str):
    order = shop().book.get(no)
    if order is None:
        abort(404, f"no order {no}")
    return order


@bp.get("/orders")
def orders():
    return render_template("shop/orders.html", orders=shop().book.all())


@bp.get("/orders/<no>")
def order(no: str):
    _order(no)
    order = shop().refresh(no)  # the query fallback runs here too when the notification is late
    return render_template(
        "shop/order.html",
        order=order,
        integration=shop().integration(order.gateway),
        refund_token=secrets.token_hex(8),
        open_refunds=any(r.status in REFUND_OPEN for r in order.refunds),
    )


@bp.get("/api/orders/<no>")
def order_json(no: str):
    """What the order page polls: it refreshes the order (the query fallback runs here when it is due)."""
    _order(no)
    return jsonify(shop().refresh(no).to_dict())


@bp.post("/orders/<no>/check")
def check(no: str):
    """Ask the gateway now (the shop operator's button), whatever the query schedule says."""
    order = _order(no)
    if order.status == "pending":
        flash(f"{shop().integration(order.gateway).label} says: {shop().reconcile(order)}", "info")
    return redirect(url_for("shop.order", no=no))


@bp.post("/orders/<no>/refunds")
def refund(no: str):
    _order(no)
    try:
        amount = Decimal(request.form.get("amount", "").strip())
        fen = int(amount * 100)
        if amount != Decimal(fen) / 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        flash("Enter the refund in yuan, e.g. 12.30", "error")
        return redirect(url_for("shop.order", no=no))
    token = request.form.get("request_id", "") or secrets.token_hex(8)
    try:
        done = shop().refund(no, fen, token)
        flash(f"Refund {done.refund_no} of ¥{done.amount / 100:.2f}: {done.status}", "info")
    except OrderError as exc:
        flash(str(exc), "error")
    return redirect(url_for("shop.order", no=no))


@bp.get("/orders/<no>/how")
def how(no: str):
    order = _order(no)
    return render_template("shop/how.html", order=order, steps=shop().journal.for_order(no))


# -- what the gateways send -----------------------------------------------------------------------------------------


def _inbound() -> Inbound:
    body = request.get_data()  # cached: the form below is parsed from the same bytes
    return Inbound(dict(request.headers), body, request.form.to_dict(), request.args.to_dict())


@bp.post("/notify/<gateway>")
def notify(gateway: str):
    if gateway not in shop().integrations:
        abort(404)
    ack = shop().receive(gateway, _inbound())
    return Response(ack.body, status=ack.status, content_type=ack.content_type)


@bp.route("/return/<gateway>/<no>", methods=["GET", "POST"])
def buyer_return(gateway: str, no: str):
    if gateway not in shop().integrations:
        abort(404)
    _order(no)
    shop().buyer_returned(gateway, no, _inbound())
    return redirect(url_for("shop.order", no=no, returned=1))


# -- learning from it ------------------------------------------------------------------------------------------------


@bp.get("/explain")
def explain():
    latest = {}
    for order in shop().book.all():
        latest.setdefault(order.gateway, order)
    return render_template(
        "shop/explain.html",
        integrations=shop().integrations,
        latest=latest,
        query_after=f"{shop().settings.query_after:g}",
    )


@bp.get("/log")
def notification_log():
    return render_template("shop/log.html", steps=shop().journal.recent("notification"))


@bp.app_template_filter("yuan")
def yuan(fen: int) -> str:
    return f"¥{fen / 100:.2f}"


@bp.app_template_filter("beijing_time")
def beijing_time(iso: str, minutes: bool = False) -> str:
    """A stored time (ISO 8601, UTC) as the sandbox's pages and console show times: Beijing time."""
    moment = datetime.fromisoformat(iso).astimezone(BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:%M:%S")


@bp.app_template_filter("urlquote")
def urlquote(text: str) -> str:
    return quote(text, safe="")
