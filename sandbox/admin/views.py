"""The control API: health, namespaces, reset, merchants, orders, the buyer's pay action, notifications, clock.

Every call but health, the documents and the namespaces themselves acts in the namespace its X-Sandbox-Namespace
header names (none: the default namespace), resolved once before the view runs.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, jsonify, request

from sandbox import __version__, errors
from sandbox.admin.serialize import notification_detail, notification_summary, notification_view, order_view
from sandbox.admin.timeline import timeline
from sandbox.core import magic, report, resend
from sandbox.core.clock import MODES
from sandbox.core.models import DEFAULT_NAMESPACE, ORDER_STATUSES, order_key
from sandbox.core.namespaces import check_name
from sandbox.core.outcomes import Decision
from sandbox.core.payments import check_outcome
from sandbox.gateways.wire import public_base_url
from sandbox.transport.ports import authority

bp = Blueprint("admin", __name__, url_prefix="/_sandbox")
HEADER = "X-Sandbox-Namespace"
MARKDOWN = "text/markdown"
# The views that act in no namespace: they ignore the header.
OUTSIDE_NAMESPACES = {
    "health",
    "openapi_document",
    "ca_certificate",
    "magic_values",
    "create_namespace",
    "list_namespaces",
    "delete_namespace",
}


def _sandbox():
    """The whole sandbox (every namespace)."""
    return current_app.extensions["paysandbox"]


def current_namespace():
    """The namespace this call acts in."""
    return g.paysandbox_namespace


@bp.before_request
def resolve_namespace() -> None:
    if request.endpoint.removeprefix(f"{bp.name}.") in OUTSIDE_NAMESPACES:
        return
    name = request.headers.get(HEADER, DEFAULT_NAMESPACE)
    g.paysandbox_namespace = _sandbox().namespaces.get(check_name(name, HEADER))


def json_body() -> dict:
    if not request.get_data():
        return {}
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: a bad body like any other, not a 500
        payload = None
    if not isinstance(payload, dict):
        raise errors.InvalidParameter("body", "the body must be a JSON object")
    return payload


def adapter_of(gateway: str):
    adapter = current_namespace().gateways.get(gateway)
    if adapter is None:
        known = ", ".join(sorted(current_namespace().gateways))
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
    body = {"code": error.code, "message": error.message}
    if isinstance(error, errors.InvalidParameter | errors.MissingParameter):
        body["field"] = error.name  # where a form shows the message (the console puts it next to that input)
    return jsonify(error=body), status


@bp.get("/health")
def health():
    return jsonify(status="ok", version=__version__)


@bp.get("/openapi.json")
def openapi_document():
    """This API described in OpenAPI 3.1 (built once), e.g. for Postman: Import, Link. It names the address the
    client reached (or --public-url) as its server, so "Try it" and imported requests go where the client went."""
    from sandbox.admin import openapi  # its tables are imported when first asked for, not at start (about 15 ms)

    return Response(openapi.served_at(public_base_url()), mimetype="application/json")


@bp.get("/ca.pem")
def ca_certificate():
    """The sandbox's TEST-ONLY root CA (made on first use, kept in the data store): trust it to use the TLS ports."""
    return Response(authority(current_app).certificate_pem(), mimetype="application/x-pem-file")


# -- namespaces -------------------------------------------------------------------------------------


@bp.post("/namespaces")
def create_namespace():
    """A new, empty namespace: {"name": "..."}, or a generated name without one."""
    space = _sandbox().namespaces.create(json_body().get("name"))
    return jsonify(namespace=space.name), 201


@bp.get("/namespaces")
def list_namespaces():
    return jsonify(namespaces=_sandbox().namespaces.names())


@bp.delete("/namespaces/<name>")
def delete_namespace(name: str):
    """Drops the namespace with its merchants (their ids are free again), orders, notifications, rules and clock."""
    _sandbox().namespaces.delete(name)
    return jsonify(deleted=[name])


# -- in a namespace ---------------------------------------------------------------------------------


@bp.post("/reset")
def reset():
    """`{"clock": "manual"}` leaves the clock in that mode, at the wall time, rather than on real time: one call for
    what the pytest plugin does before every test (the mode is checked before anything is dropped)."""
    body = json_body()
    mode = body.get("clock", "real")
    if mode not in MODES:
        raise errors.InvalidParameter("clock", f"clock must be one of {', '.join(MODES)}, not {mode!r}")
    space = current_namespace()
    space.reset(merchants=bool(body.get("merchants")))
    if mode != "real":
        space.clock.set_mode(mode)
    return jsonify(status="ok", merchants_reset=bool(body.get("merchants")), clock=space.clock.describe())


# -- merchants ------------------------------------------------------------------------------------


@bp.post("/merchants")
def register_merchant():
    body = json_body()
    answer = adapter_of(str(body.get("gateway", ""))).register_merchant(body)
    return jsonify(answer), 201


@bp.get("/merchants")
def list_merchants():
    sandbox = current_namespace()
    return jsonify(merchants=[sandbox.gateways[m["gateway"]].describe_merchant(m) for m in sandbox.merchants.all()])


@bp.get("/merchants/<gateway>/<merchant_id>")
def get_merchant(gateway: str, merchant_id: str):
    adapter = adapter_of(gateway)
    record = current_namespace().merchants.get(gateway, merchant_id)
    if record is None:
        raise errors.NotFound(f"no {gateway} merchant {merchant_id!r}")
    return jsonify(adapter.describe_merchant(record))


@bp.get("/merchants/<gateway>/<merchant_id>/report")
def merchant_report(gateway: str, merchant_id: str):
    """How the merchant's integration behaved (core/report.py): JSON, or Markdown (?format=markdown, or asked for
    with Accept: text/markdown)."""
    adapter_of(gateway)
    if current_namespace().merchants.get(gateway, merchant_id) is None:
        raise errors.NotFound(f"no {gateway} merchant {merchant_id!r}")
    wanted = request.args.get("format", "")
    if wanted not in ("", "json", "markdown"):
        raise errors.InvalidParameter("format", f"format must be json or markdown, got {wanted[:40]!r}")
    answer = report.build(current_namespace(), gateway, merchant_id)
    asked = request.accept_mimetypes.best_match(["application/json", MARKDOWN])
    if wanted == "markdown" or (not wanted and asked == MARKDOWN):
        return Response(report.markdown(answer), mimetype=MARKDOWN)
    return jsonify(answer)


# -- orders -----------------------------------------------------------------------------------------


@bp.get("/orders")
def list_orders():
    gateway, status = request.args.get("gateway", ""), request.args.get("status", "")
    if gateway:
        adapter_of(gateway)
    if status and status not in ORDER_STATUSES:
        raise errors.InvalidParameter("status", f"status must be one of {', '.join(ORDER_STATUSES)}")
    orders = current_namespace().payments.list(gateway, request.args.get("merchant_id", ""), status)
    return jsonify(orders=[order_view(current_namespace(), o) for o in orders])


def order_in_full(gateway: str, order) -> dict:
    """One order's view: its refunds, its notifications, and the page a buyer opens to pay it."""
    pay_url, qr_code = adapter_of(gateway).pay_links(order, public_base_url())
    return {**order_view(current_namespace(), order, with_notifications=True), "pay_url": pay_url, "qr_code": qr_code}


@bp.get("/orders/<gateway>/<merchant_id>/<path:out_trade_no>")
def get_order(gateway: str, merchant_id: str, out_trade_no: str):
    adapter_of(gateway)
    order = current_namespace().payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    return jsonify(order_in_full(gateway, order))


@bp.get("/orders/<gateway>/<merchant_id>/<path:out_trade_no>/timeline")
def order_timeline(gateway: str, merchant_id: str, out_trade_no: str):
    """What happened to the order, and every notification attempt with its exact request, oldest first."""
    adapter_of(gateway)
    order = current_namespace().payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    return jsonify({**timeline(current_namespace(), order), "order": order_in_full(gateway, order)})


@bp.post("/orders/<gateway>/<merchant_id>/<path:out_trade_no>/pay")
def pay_order(gateway: str, merchant_id: str, out_trade_no: str):
    adapter_of(gateway)
    body = json_body()
    outcome = body.get("outcome", "success")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise errors.InvalidParameter("reason", "reason must be a string")
    check_outcome(outcome)  # before any rule is spent on it
    sandbox = current_namespace()
    order = sandbox.payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    choice = Decision(outcome, reason, source="buyer")
    order = sandbox.apply_payment(order, sandbox.decide_payment(order, "control_api", buyer=choice))
    return jsonify(order_view(sandbox, order, with_notifications=True))


@bp.post("/orders/<gateway>/<merchant_id>/<path:out_trade_no>/refunds/<out_refund_no>/settle")
def settle_refund(gateway: str, merchant_id: str, out_trade_no: str, out_refund_no: str):
    """Ends a pending refund now: {"outcome": "success" | "abnormal" | "closed"} (success by default)."""
    adapter_of(gateway)
    sandbox = current_namespace()
    sandbox.payments.find(gateway, merchant_id, out_trade_no=out_trade_no)
    outcome = str(json_body().get("outcome", "success"))
    order, _ = sandbox.payments.settle_refund(order_key(gateway, merchant_id, out_trade_no), out_refund_no, outcome)
    return jsonify(order_view(sandbox, order, with_notifications=True))


# -- notifications --------------------------------------------------------------------------------


@bp.get("/notifications")
def list_notifications():
    args = request.args
    records = current_namespace().outbox.list(
        args.get("gateway", ""),
        args.get("merchant_id", ""),
        args.get("out_trade_no", ""),
        args.get("status", ""),
    )
    return jsonify(notifications=[notification_view(r) for r in records])


@bp.get("/notifications/<notification_id>")
def get_notification(notification_id: str):
    return jsonify(notification_detail(current_namespace(), current_namespace().outbox.get(notification_id)))


@bp.post("/notifications/<notification_id>/resend")
def resend_notification(notification_id: str):
    """A new notification from this one's fields with changes, signed as asked, sent once now (core/resend.py)."""
    sandbox = current_namespace()
    sandbox.outbox.get(notification_id)  # an unknown id is a 404 before a bad body is a 400
    fields, signature = resend.check_request(json_body())
    return jsonify(notification_detail(sandbox, resend.resend(sandbox, notification_id, fields, signature))), 201


@bp.post("/notifications/<notification_id>/replay")
def replay_notification(notification_id: str):
    sandbox = current_namespace()
    sandbox.outbox.get(notification_id)
    return jsonify(notification_view(sandbox.dispatcher.deliver(notification_id, trigger="replay")))


@bp.post("/notifications/flush")
def flush_notifications():
    attempted = current_namespace().run_due()
    return jsonify(attempted=[notification_summary(r) for r in attempted])


# -- scenarios --------------------------------------------------------------------------------------


@bp.post("/scenarios")
def add_scenario():
    """One rule, or {"scenarios": [rule, ...]} added all or none (a bad one is named by its index)."""
    body = json_body()
    scenarios = current_namespace().scenarios
    if "scenarios" not in body:
        return jsonify(scenario=scenarios.add(body).view()), 201
    return jsonify(scenarios=[r.view() for r in scenarios.add_all(body["scenarios"])]), 201


@bp.get("/scenarios")
def list_scenarios():
    return jsonify(scenarios=[r.view() for r in current_namespace().scenarios.list()])


@bp.get("/scenarios/<rule_id>")
def get_scenario(rule_id: str):
    return jsonify(scenario=current_namespace().scenarios.get(rule_id).view())


@bp.delete("/scenarios/<rule_id>")
def delete_scenario(rule_id: str):
    current_namespace().scenarios.delete(rule_id)
    return jsonify(deleted=[rule_id])


@bp.delete("/scenarios")
def clear_scenarios():
    scenarios = current_namespace().scenarios
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
    return jsonify(current_namespace().clock.describe())


@bp.post("/clock")
def set_clock():
    body = json_body()
    current_namespace().clock.set_mode(str(body.get("mode", "")), body.get("factor"))
    return jsonify(current_namespace().clock.describe())


@bp.post("/clock/reset")
def reset_clock():
    """Back on real time, any offset dropped (POST /clock {"mode": "real"} keeps it); takes no body."""
    current_namespace().clock.reset_to_real()
    return jsonify(current_namespace().clock.describe())


@bp.post("/clock/advance")
def advance_clock():
    body = json_body()
    attempted = current_namespace().advance(body.get("seconds"))
    return jsonify(**current_namespace().clock.describe(), attempted=[notification_summary(r) for r in attempted])
