"""The control API of API.md: health, reset, merchants, orders, the buyer's pay action, notifications, clock."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox import __version__, errors
from sandbox.admin import openapi
from sandbox.admin.serialize import notification_summary, notification_view, order_view
from sandbox.core import magic
from sandbox.core.models import ORDER_STATUSES, order_key
from sandbox.core.outcomes import Decision
from sandbox.core.payments import check_outcome
from sandbox.transport.ports import authority

bp = Blueprint("admin", __name__, url_prefix="/_sandbox")


def _sandbox():
    return current_app.extensions["paysandbox"]


def _body() -> dict:
    if not request.get_data():
        return {}
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: a bad body like any other, not a 500
        payload = None
    if not isinstance(payload, dict):
        raise errors.InvalidParameter("body", "the body must be a JSON object")
    return payload


def _adapter(gateway: str):
    adapter = _sandbox().gateways.get(gateway)
    if adapter is None:
        known = ", ".join(sorted(_sandbox().gateways))
        raise errors.InvalidParameter("gateway", f"gateway must be one of {known}, got {gateway!r}")
    return adapter


@bp.errorhandler(errors.SandboxError)
def sandbox_error(error: errors.SandboxError):
    if isinstance(error, errors.NotFound):
        status = 404
    elif isinstance(error, errors.BusinessError):
        status = 409
    else:
        status = 400
    return jsonify(error={"code": error.code, "message": error.message}), status


@bp.get("/health")
def health():
    return jsonify(status="ok", version=__version__)


@bp.get("/openapi.json")
def openapi_document():
    """This API described in OpenAPI 3.1 (built once), e.g. for Postman: Import, Link."""
    return jsonify(openapi.document())


@bp.get("/ca.pem")
def ca_certificate():
    """The sandbox's TEST-ONLY root CA (made on first use, kept in the data store): trust it to use the TLS ports."""
    return Response(authority(current_app).certificate_pem(), mimetype="application/x-pem-file")


@bp.post("/reset")
def reset():
    body = _body()
    _sandbox().reset(merchants=bool(body.get("merchants")))
    return jsonify(status="ok", merchants_reset=bool(body.get("merchants")))


# -- merchants ------------------------------------------------------------------------------------


@bp.post("/merchants")
def register_merchant():
    body = _body()
    answer = _adapter(str(body.get("gateway", ""))).register_merchant(body)
    return jsonify(answer), 201


@bp.get("/merchants")
def list_merchants():
    sandbox = _sandbox()
    return jsonify(merchants=[sandbox.gateways[m["gateway"]].describe_merchant(m) for m in sandbox.merchants.all()])


@bp.get("/merchants/<gateway>/<merchant_id>")
def get_merchant(gateway: str, merchant_id: str):
    adapter = _adapter(gateway)
    record = _sandbox().merchants.get(gateway, merchant_id)
    if record is None:
        raise errors.NotFound(f"no {gateway} merchant {merchant_id!r}")
    return jsonify(adapter.describe_merchant(record))


# -- orders -----------------------------------------------------------------------------------------


@bp.get("/orders")
def list_orders():
    gateway, status = request.args.get("gateway", ""), request.args.get("status", "")
    if gateway:
        _adapter(gateway)
    if status and status not in ORDER_STATUSES:
        raise errors.InvalidParameter("status", f"status must be one of {', '.join(ORDER_STATUSES)}")
    orders = _sandbox().payments.list(gateway, request.args.get("merchant_id", ""), status)
    return jsonify(orders=[order_view(_sandbox(), o) for o in orders])


@bp.get("/orders/<gateway>/<merchant_id>/<path:out_trade_no>")
def get_order(gateway: str, merchant_id: str, out_trade_no: str):
    _adapter(gateway)
    order = _sandbox().payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    return jsonify(order_view(_sandbox(), order, with_notifications=True))


@bp.post("/orders/<gateway>/<merchant_id>/<path:out_trade_no>/pay")
def pay_order(gateway: str, merchant_id: str, out_trade_no: str):
    _adapter(gateway)
    body = _body()
    outcome = body.get("outcome", "success")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise errors.InvalidParameter("reason", "reason must be a string")
    check_outcome(outcome)  # before any rule is spent on it
    sandbox = _sandbox()
    order = sandbox.payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    choice = Decision(outcome, reason, source="buyer")
    order = sandbox.apply_payment(order, sandbox.decide_payment(order, "control_api", buyer=choice))
    return jsonify(order_view(sandbox, order, with_notifications=True))


@bp.post("/orders/<gateway>/<merchant_id>/<path:out_trade_no>/refunds/<out_refund_no>/settle")
def settle_refund(gateway: str, merchant_id: str, out_trade_no: str, out_refund_no: str):
    """Ends a pending refund now: {"outcome": "success" | "abnormal" | "closed"} (success by default)."""
    _adapter(gateway)
    sandbox = _sandbox()
    sandbox.payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    outcome = str(_body().get("outcome", "success"))
    order, _ = sandbox.payments.settle_refund(order_key(gateway, merchant_id, out_trade_no), out_refund_no, outcome)
    return jsonify(order_view(sandbox, order, with_notifications=True))


# -- notifications --------------------------------------------------------------------------------


@bp.get("/notifications")
def list_notifications():
    args = request.args
    records = _sandbox().outbox.list(
        args.get("gateway", ""),
        args.get("merchant_id", ""),
        args.get("out_trade_no", ""),
        args.get("status", ""),
    )
    return jsonify(notifications=[notification_view(r) for r in records])


@bp.get("/notifications/<notification_id>")
def get_notification(notification_id: str):
    return jsonify(notification_view(_sandbox().outbox.get(notification_id)))


@bp.post("/notifications/<notification_id>/replay")
def replay_notification(notification_id: str):
    sandbox = _sandbox()
    sandbox.outbox.get(notification_id)
    return jsonify(notification_view(sandbox.dispatcher.deliver(notification_id, trigger="replay")))


@bp.post("/notifications/flush")
def flush_notifications():
    attempted = _sandbox().run_due()
    return jsonify(attempted=[notification_summary(r) for r in attempted])


# -- scenarios --------------------------------------------------------------------------------------


@bp.post("/scenarios")
def add_scenario():
    """One rule, or {"scenarios": [rule, ...]} added all or none (a bad one is named by its index)."""
    body = _body()
    scenarios = _sandbox().scenarios
    if "scenarios" not in body:
        return jsonify(scenario=scenarios.add(body).view()), 201
    return jsonify(scenarios=[r.view() for r in scenarios.add_all(body["scenarios"])]), 201


@bp.get("/scenarios")
def list_scenarios():
    return jsonify(scenarios=[r.view() for r in _sandbox().scenarios.list()])


@bp.get("/scenarios/<rule_id>")
def get_scenario(rule_id: str):
    return jsonify(scenario=_sandbox().scenarios.get(rule_id).view())


@bp.delete("/scenarios/<rule_id>")
def delete_scenario(rule_id: str):
    _sandbox().scenarios.delete(rule_id)
    return jsonify(deleted=[rule_id])


@bp.delete("/scenarios")
def clear_scenarios():
    scenarios = _sandbox().scenarios
    ids = [r.id for r in scenarios.list()]
    scenarios.clear()
    return jsonify(deleted=ids)


@bp.get("/magic")
def magic_values():
    """The magic amounts (every gateway) with what each does."""
    return jsonify(amounts=magic.table())


# -- clock ------------------------------------------------------------------------------------------


@bp.get("/clock")
def get_clock():
    return jsonify(_sandbox().clock.describe())


@bp.post("/clock")
def set_clock():
    body = _body()
    _sandbox().clock.set_mode(str(body.get("mode", "")), body.get("factor"))
    return jsonify(_sandbox().clock.describe())


@bp.post("/clock/advance")
def advance_clock():
    body = _body()
    attempted = _sandbox().advance(body.get("seconds"))
    return jsonify(**_sandbox().clock.describe(), attempted=[notification_summary(r) for r in attempted])
