"""The orders pages: the live list with its filters, the create-order form, one order's timeline and its actions."""

from __future__ import annotations

import hashlib
import json

from flask import Response, render_template, request
from markupsafe import Markup

from sandbox.console import api
from sandbox.console.views import back, bp, page
from sandbox.core.models import ORDER_STATUSES
from sandbox.core.money import format_yuan, parse_yuan
from sandbox.errors import InvalidParameter

GATEWAYS = ("alipay", "wechatpay", "unionpay")
SHOWN = 200  # orders in the list: the newest; filters narrow it
FILTERS = ("gateway", "merchant_id", "status", "q")


@bp.app_template_filter("yuan")
def yuan(fen) -> str:
    return format_yuan(int(fen)) if isinstance(fen, int) else ""


def _filters() -> dict:
    return {name: request.args.get(name, "").strip() for name in FILTERS}


@bp.app_template_filter("moment")
def moment(iso: str | None) -> str:
    """2026-12-06T19:55:50+08:00 -> 12-06 19:55:50: a table's column (the full time is in its title)."""
    return iso[5:19].replace("T", " ") if iso else ""


def _notification_counts(filters: dict) -> dict[tuple, dict[str, int]]:
    """Per order (gateway, merchant_id, out_trade_no): how many of its notifications are delivered, pending, failed."""
    listed = api.get("/notifications", gateway=filters["gateway"], merchant_id=filters["merchant_id"])
    counts: dict[tuple, dict[str, int]] = {}
    for record in listed["notifications"]:
        key = (record["gateway"], record["merchant_id"], record["out_trade_no"])
        per_status = counts.setdefault(key, {})
        per_status[record["status"]] = per_status.get(record["status"], 0) + 1
    return counts


def _matching_orders(filters: dict) -> list[dict]:
    orders = api.get(
        "/orders", gateway=filters["gateway"], merchant_id=filters["merchant_id"], status=filters["status"]
    )
    text = filters["q"].lower()
    if text:
        fields = ("out_trade_no", "trade_no", "subject", "merchant_id")
        orders["orders"] = [o for o in orders["orders"] if any(text in str(o.get(f) or "").lower() for f in fields)]
    shown = orders["orders"][:SHOWN]
    counts = _notification_counts(filters) if shown else {}
    for order in shown:
        order["notification_counts"] = counts.get((order["gateway"], order["merchant_id"], order["out_trade_no"]), {})
    return shown


def _version(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def _rows(filters: dict) -> tuple[str, str]:
    """The table body, which asks again every two seconds, and the version of what it shows (a re-ask that names
    it is answered 204: nothing changed)."""
    inner = render_template("console/_order_rows.html", orders=_matching_orders(filters))
    version = _version(inner)
    live = render_template("console/_order_rows_live.html", rows=Markup(inner), filters=filters, version=version)
    return live, version


@bp.get("/")
def orders():
    filters = _filters()
    try:
        rows, _ = _rows(filters)
        error = None
    except api.ApiError as refused:  # a bad filter: say so above the table, keep the page
        rows, error = "", refused
    return page(
        "console/orders.html",
        status=400 if error else 200,
        rows=Markup(rows),
        filters=filters,
        statuses=ORDER_STATUSES,
        gateways=GATEWAYS,
        error=error,
    )


@bp.get("/console/orders/rows")
def order_rows():
    rows, version = _rows(_filters())
    if request.args.get("v") == version:
        return Response(status=204)  # htmx swaps nothing: no flicker, no lost focus
    return Response(rows, mimetype="text/html")


# -- a new order ----------------------------------------------------------------------------------------------------


@bp.route("/console/orders/new", methods=["GET", "POST"])
def new_order():
    gateways = api.get("/gateways")["gateways"]
    form = dict(request.form) if request.method == "POST" else {"gateway": request.args.get("gateway", "alipay")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        payload = {k: v.strip() for k, v in form.items() if k in _CREATE_FIELDS and v.strip()}
        try:
            payload["amount"] = parse_yuan(form.get("amount", "").strip() or None, "amount")
            created = api.post("/orders", payload)
        except InvalidParameter as bad:
            errors[bad.name] = bad.message
        except api.ApiError as refused:
            errors[refused.field or "form"] = refused.message
        else:
            return back(
                "console.order",
                "Order created: open the hosted page as the buyer, or pay it here.",
                gateway=created["gateway"],
                merchant_id=created["merchant_id"],
                out_trade_no=created["out_trade_no"],
            )
    return page("console/new_order.html", status=400 if errors else 200, gateways=gateways, form=form, errors=errors)


_CREATE_FIELDS = ("gateway", "merchant_id", "method", "out_trade_no", "subject", "notify_url", "return_url")


# -- one order ------------------------------------------------------------------------------------------------------


def _order_path(gateway: str, merchant_id: str, out_trade_no: str) -> str:
    return f"/orders/{gateway}/{merchant_id}/{out_trade_no}"


def _qr_svg(text: str) -> Markup:
    import segno  # on the first order page with a QR code, not at start (about 10 ms)

    code = segno.make(text, error="m")
    return Markup(code.svg_inline(omitsize=True, dark="#1a1a1a", light="#fff", title="Scan to pay"))


def _order_context(gateway: str, merchant_id: str, out_trade_no: str, errors: dict | None = None) -> dict:
    """The order, its timeline and its actions (what a poll re-renders), and the version of that state: a page
    showing a refusal next to its field keeps it until the order itself changes."""
    history = api.get(_order_path(gateway, merchant_id, out_trade_no) + "/timeline")
    order, events = history["order"], history["events"]
    version = hashlib.sha256(json.dumps([order, events], sort_keys=True).encode()).hexdigest()[:16]
    qr_svg = _qr_svg(order["qr_code"]) if order.get("qr_code") and order["status"] == "pending" else None
    errors = errors or {}
    context = {"order": order, "events": events, "qr_svg": qr_svg, "errors": errors}
    context["form"] = request.form if errors else {}
    live = render_template("console/_order_live.html", **context)
    return {**context, "live": Markup(live), "version": version}


@bp.get("/console/orders/<gateway>/<merchant_id>/<path:out_trade_no>")
def order(gateway: str, merchant_id: str, out_trade_no: str, errors: dict | None = None, status: int = 200):
    return page("console/order.html", status, **_order_context(gateway, merchant_id, out_trade_no, errors))


@bp.get("/console/orders/<gateway>/<merchant_id>/<path:out_trade_no>/live")
def order_live(gateway: str, merchant_id: str, out_trade_no: str):
    context = _order_context(gateway, merchant_id, out_trade_no)
    if request.args.get("v") == context["version"]:
        return Response(status=204)
    return Response(render_template("console/_order_live_wrap.html", **context), mimetype="text/html")


@bp.post("/console/orders/<gateway>/<merchant_id>/<path:out_trade_no>/<action>")
def order_action(gateway: str, merchant_id: str, out_trade_no: str, action: str):
    """Pay or fail as the buyer, refund or close as the merchant; a refusal shows on the order's page, next to the
    field it names."""
    try:
        notice = _act(_order_path(gateway, merchant_id, out_trade_no), action)
    except InvalidParameter as bad:
        return order(gateway, merchant_id, out_trade_no, errors={bad.name: bad.message}, status=400)
    except api.ApiError as refused:
        if refused.status == 404 and refused.code != "ORDER_NOT_FOUND":
            raise
        field = refused.field if refused.field in ("amount", "out_refund_no") else "action"
        return order(gateway, merchant_id, out_trade_no, errors={field: refused.message}, status=refused.status)
    return back("console.order", notice, gateway=gateway, merchant_id=merchant_id, out_trade_no=out_trade_no)


def _act(path: str, action: str) -> str:
    form = request.form
    if action == "pay":
        api.post(path + "/pay", {"outcome": "success"})
        return "Paid as the buyer: the notification follows."
    if action == "fail":
        api.post(path + "/pay", {"outcome": "fail", "reason": form.get("reason", "")})
        return "Declined as the buyer."
    if action == "refund":
        payload = {}
        if form.get("amount", "").strip():  # blank: what is left to refund
            payload["amount"] = parse_yuan(form["amount"].strip(), "amount")
        if form.get("out_refund_no", "").strip():
            payload["out_refund_no"] = form["out_refund_no"].strip()
        api.post(path + "/refund", payload)
        return "Refund requested as the merchant."
    if action == "close":
        api.post(path + "/close")
        return "Closed as the merchant."
    raise InvalidParameter("action", f"no action {action!r}: pay, fail, refund or close")


@bp.errorhandler(InvalidParameter)
def bad_input(error: InvalidParameter):
    return page("console/refusal.html", status=400, title="Check the input", message=error.message)
