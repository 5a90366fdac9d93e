"""The control API's create form: POST /_sandbox/orders makes an order as if its merchant had called the gateway;
GET /_sandbox/gateways says what that takes. The gateway's adapter does the work with the wire method's handler."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import jsonify

from sandbox import errors
from sandbox.admin import order_form as form
from sandbox.admin.serialize import order_view
from sandbox.admin.views import adapter_of, bp, current_namespace, json_body
from sandbox.core.ports import OrderRequest
from sandbox.gateways.wire import public_base_url


@bp.post("/orders")
def create_order():
    """201 with the new order, its pay_url and (for a QR product) qr_code; 200 for an identical repeat."""
    body = json_body()
    form.check_fields(body)
    adapter = adapter_of(form.text(body, "gateway", required=True))
    space = current_namespace()
    method = form.text(body, "method") or adapter.create_methods[0]
    if method not in adapter.create_methods:
        choices = ", ".join(adapter.create_methods)
        raise errors.InvalidParameter("method", f"{adapter.name} method must be one of {choices}, got {method!r}")
    amount, subject = form.amount(body.get("amount")), form.text(body, "subject") or form.DEFAULT_SUBJECT
    notify_url, return_url = form.url(body, "notify_url"), form.url(body, "return_url")
    given_merchant, given_number = form.text(body, "merchant_id"), form.text(body, "out_trade_no")
    merchant_id = _merchant_id(adapter, given_merchant)  # every field read: now whether the merchant is here
    out_trade_no = given_number or _new_out_trade_no(adapter.name, merchant_id)
    request = OrderRequest(
        merchant_id, amount, out_trade_no, subject, method, notify_url, return_url, base_url=public_base_url()
    )
    repeat = current_namespace().payments.exists(adapter.name, merchant_id, out_trade_no)
    created = adapter.create_order(request)
    view = order_view(space, created.order)
    view["pay_url"] = created.pay_url
    if created.qr_code:
        view["qr_code"] = created.qr_code
    return jsonify(view), 200 if repeat else 201


@bp.get("/gateways")
def list_gateways():
    """What the create form offers: each gateway's methods, its demo merchant here, and the merchants here."""
    space = current_namespace()
    registered = space.merchants.all()
    answer = []
    for name, adapter in space.gateways.items():
        ids = [m["merchant_id"] for m in registered if m["gateway"] == name]
        demo = demo_merchant_id(space.config.fixtures_dir, name)
        answer.append(
            {
                "gateway": name,
                "methods": list(adapter.create_methods),
                "default_method": adapter.create_methods[0],
                "demo_merchant_id": demo if demo in ids else None,
                "merchants": ids,
            }
        )
    return jsonify(gateways=answer)


@cache
def demo_merchant_id(fixtures_dir: str, gateway: str) -> str | None:
    """The TEST-ONLY demo merchant fixtures/ ships for the gateway (registered in the default namespace)."""
    spec = Path(fixtures_dir) / gateway / "demo" / "merchant.json"
    return json.loads(spec.read_text())["merchant_id"] if spec.is_file() else None


def _merchant_id(adapter, given: str) -> str:
    space = current_namespace()
    merchant_id = given or demo_merchant_id(space.config.fixtures_dir, adapter.name) or ""
    if space.merchants.get(adapter.name, merchant_id) is not None:
        return merchant_id
    if given:
        raise errors.MerchantNotFound(f"no {adapter.name} merchant {given!r} in the namespace {space.name!r}")
    raise errors.MissingParameter(
        "merchant_id",
        f"merchant_id is required: the namespace {space.name!r} has no {adapter.name} demo merchant"
        " (register a merchant with POST /_sandbox/merchants and name it)",
    )


def _new_out_trade_no(gateway: str, merchant_id: str) -> str:
    """SBX, the sandbox time and 8 random digits: within every gateway's rules (UnionPay's 8-40 letters or digits,
    WeChat's 6-32), and not one of the merchant's numbers yet."""
    space = current_namespace()
    while True:
        number = "SBX" + space.clock.now().strftime("%Y%m%d%H%M%S") + space.ids.digits(8)
        if not space.payments.exists(gateway, merchant_id, number):
            return number
