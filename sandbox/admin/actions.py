"""The merchant's actions on an order, without code: POST .../refund and .../close run the gateway's own refund and
close handlers for the order's merchant (the gateway's adapter builds the wire call), so their checks, refusals and
notifications are the gateway's. They are not the merchant's calls: the integration report leaves them out."""

from __future__ import annotations

import json

from flask import jsonify

from sandbox import errors
from sandbox.admin import order_form as form
from sandbox.admin.serialize import refund_view
from sandbox.admin.views import adapter_of, bp, current_namespace, json_body, order_in_full
from sandbox.core.models import Order
from sandbox.core.money import MAX_AMOUNT
from sandbox.core.outcomes import native_code
from sandbox.core.ports import RefundRequest
from sandbox.core.rules import Context, Rule, processed
from sandbox.gateways.wire import public_base_url

ORDER_PATH = "/orders/<gateway>/<merchant_id>/<path:out_trade_no>"


@bp.post(ORDER_PATH + "/refund")
def refund_order(gateway: str, merchant_id: str, out_trade_no: str):
    """201 with the order and `refund`, the refund just made; 200 with the same refund for an identical repeat."""
    adapter = adapter_of(gateway)
    body = json_body()
    _check_fields(body, form.REFUND_FIELDS, f"a refund takes {', '.join(form.REFUND_FIELDS)}")
    amount = _amount(body.get("amount"))
    given_number, reason = form.text(body, "out_refund_no"), form.text(body, "reason")
    order = current_namespace().payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    earlier = order.find_refund(given_number) if given_number else None
    number = given_number or _new_out_refund_no(gateway, merchant_id)
    _refuse_by_rule(adapter, "refund", order)
    request = RefundRequest(merchant_id, out_trade_no, number, amount, reason, public_base_url())
    order, refund = adapter.refund_order(request)
    return jsonify({**order_in_full(adapter.name, order), "refund": refund_view(refund)}), 200 if earlier else 201


@bp.post(ORDER_PATH + "/close")
def close_order(gateway: str, merchant_id: str, out_trade_no: str):
    """200 with the closed order; 409 with the gateway's reason when it will not close it."""
    adapter = adapter_of(gateway)
    _check_fields(json_body(), (), "a close takes no fields (send {} or nothing)")
    order = current_namespace().payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    _refuse_by_rule(adapter, "close", order)
    order = adapter.close_order(merchant_id, out_trade_no, public_base_url())
    return jsonify(order_in_full(adapter.name, order))


def _check_fields(body: dict, known: tuple[str, ...], takes: str) -> None:
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise errors.InvalidParameter(unknown[0], f"unknown field {unknown[0]!r}: {takes}")


def _amount(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise errors.InvalidParameter(
            "amount",
            f"amount must be integer fen from 1 to {MAX_AMOUNT} (990 is 9.90 yuan), or absent for what is left to"
            f" refund; got {json.dumps(value)}",
        )
    return value


def _refuse_by_rule(adapter, action: str, order: Order) -> None:
    """A scenario rule whose `api.error` matches the call refuses it, as the gateway would refuse its merchant (a
    magic 6.09 order's refund, say); the rest of `api` shapes the wire's answers only, so it is neither applied
    nor spent here."""
    method = adapter.action_methods.get(action)
    if method is None:  # the gateway has no such call: its adapter says so
        return
    space = current_namespace()
    ctx = Context(adapter.name, action, method, order.merchant_id, order.out_trade_no, order.amount)
    rule = space.scenarios.take("api", ctx, only=_refusing)
    if rule is not None:
        code = native_code(rule.api["error"], adapter, space.gateways, kind="api")
        raise errors.GatewayRefused(
            f"{adapter.name} refused it: {code} {adapter.api_errors.get(code, '')} (scenario rule {rule.id})"
        )


def _refusing(rule: Rule) -> bool:
    return rule.api is not None and "error" in rule.api and not processed(rule.api)


def _new_out_refund_no(gateway: str, merchant_id: str) -> str:
    """SBXR, the sandbox time and 8 random digits: 26 letters and digits, within every gateway's rules (UnionPay's
    8-40 letters or digits, WeChat's and Alipay's 64), and none of the merchant's order or refund numbers yet."""
    space = current_namespace()
    while True:
        number = "SBXR" + space.clock.now().strftime("%Y%m%d%H%M%S") + space.ids.digits(8)
        taken = space.payments.find_by_refund(gateway, merchant_id, number) or space.payments.exists(
            gateway, merchant_id, number
        )
        if not taken:
            return number
