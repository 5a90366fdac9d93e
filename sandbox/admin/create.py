"""The control API's create form: POST /_sandbox/orders makes an order as if its merchant had called the gateway;
GET /_sandbox/gateways says what that takes. The gateway's adapter does the work with the wire method's handler."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import jsonify

from sandbox import errors
from sandbox.admin.serialize import order_view
from sandbox.admin.views import _adapter, _body, _namespace, bp
from sandbox.core.money import MAX_AMOUNT
from sandbox.core.ports import OrderRequest
from sandbox.gateways.wire import public_base_url

FIELDS = ("gateway", "merchant_id", "amount", "out_trade_no", "subject", "notify_url", "return_url", "method")
TEXT_LIMIT = 512  # no gateway takes a longer value; each refuses its own limits with its reason
DEFAULT_SUBJECT = "paysandbox test order"


@bp.post("/orders")
def create_order():
    """201 with the new order, its pay_url and (for a QR product) qr_code; 200 for an identical repeat."""
    body = _body()
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise errors.InvalidParameter(unknown[0], f"unknown field {unknown[0]!r}: an order takes {', '.join(FIELDS)}")
    adapter = _adapter(_text(body, "gateway", required=True))
    space = _namespace()
    method = _text(body, "method") or adapter.create_methods[0]
    if method not in adapter.create_methods:
        choices = ", ".join(adapter.create_methods)
        raise errors.InvalidParameter("method", f"{adapter.name} method must be one of {choices}, got {method!r}")
    merchant_id = _merchant_id(adapter, _text(body, "merchant_id"))
    out_trade_no = _text(body, "out_trade_no") or _new_out_trade_no(adapter.name, merchant_id)
    request = OrderRequest(
        merchant_id=merchant_id,
        amount=_amount(body.get("amount")),
        out_trade_no=out_trade_no,
        subject=_text(body, "subject") or DEFAULT_SUBJECT,
        method=method,
        notify_url=_url(body, "notify_url"),
        return_url=_url(body, "return_url"),
        base_url=public_base_url(),
    )
    repeat = _exists(adapter.name, merchant_id, out_trade_no)
    created = adapter.create_order(request)
    view = order_view(space, created.order)
    view["pay_url"] = created.pay_url
    if created.qr_code:
        view["qr_code"] = created.qr_code
    return jsonify(view), 200 if repeat else 201


@bp.get("/gateways")
def list_gateways():
    """What the create form offers: each gateway's methods, its demo merchant here, and the merchants here."""
    space = _namespace()
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
    space = _namespace()
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


def _text(body: dict, name: str, required: bool = False) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise errors.MissingParameter(name, f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise errors.InvalidParameter(name, f"{name} must be a string, got {json.dumps(value)}")
    if len(value) > TEXT_LIMIT:
        raise errors.InvalidParameter(name, f"{name} is longer than {TEXT_LIMIT} characters")
    return value


def _amount(value: object) -> int:
    if value is None:
        raise errors.MissingParameter("amount", "amount is required: integer fen, e.g. 990 for 9.90 yuan")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise errors.InvalidParameter(
            "amount", f"amount must be integer fen from 1 to {MAX_AMOUNT} (990 is 9.90 yuan), got {json.dumps(value)}"
        )
    return value


def _url(body: dict, name: str) -> str:
    value = _text(body, name)
    if value and not value.startswith(("http://", "https://")):
        raise errors.InvalidParameter(name, f"{name} must be an http(s) URL, got {value!r}")
    return value


def _exists(gateway: str, merchant_id: str, out_trade_no: str) -> bool:
    try:
        _namespace().payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    except errors.OrderNotFound:
        return False
    return True


def _new_out_trade_no(gateway: str, merchant_id: str) -> str:
    """SBX, the sandbox time and 8 random digits: within every gateway's rules (UnionPay's 8-40 letters or digits,
    WeChat's 6-32), and not one of the merchant's numbers yet."""
    space = _namespace()
    while True:
        number = "SBX" + space.clock.now().strftime("%Y%m%d%H%M%S") + space.ids.digits(8)
        if not _exists(gateway, merchant_id, number):
            return number
