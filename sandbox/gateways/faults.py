"""API faults: the response filter around every gateway's views, so handlers never see them.

docs/architecture.md#scenarios-and-faults places it among the other pieces.

Before a gateway call runs, the filter asks the gateway what the call is (a rules.Context) and takes the
first scenario rule with an `api` effect that matches, among the rules of the namespace of the merchant the call
names. A fault that stops the call (a proxy's 500/502/503, a business error such as ACQ.SYSTEM_ERROR) answers at
once and the handler never runs; any other (504, a slow answer, a dropped connection, a malformed or unsigned body)
lets the call take effect and then spoils its answer, which is what makes "the query timed out but the payment went
through" testable.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Protocol

from flask import Flask, Response, current_app, g, request

from sandbox import errors
from sandbox.core.namespace import Namespace
from sandbox.core.outcomes import native_code
from sandbox.core.rules import Context, Rule, processed

log = logging.getLogger("paysandbox.faults")
DISCONNECT = "paysandbox.disconnect"
PROXY_PAGES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class FaultHooks(Protocol):
    """What the filter asks of a gateway, in its own wire format."""

    def request_context(self, request) -> Context | None:
        """What this call is (operation, merchant, order, amount), or None when it is not this gateway's API."""

    def error_answer(self, ctx: Context, code: str) -> Response:
        """The gateway's own answer for a business error `code` (one of its adapter's api_errors), signed."""

    def altered_answer(self, response: Response, how: str) -> Response:
        """`response` with its signature removed (unsigned) or spoiled (invalid_signature)."""


def install(app: Flask, hooks: dict[str, FaultHooks]) -> None:
    """Wire the filter into `app`: hooks by gateway name, tried in order for every request."""
    app.extensions["paysandbox.faults"] = hooks
    app.before_request(_before)
    app.after_request(_after)
    app.wsgi_app = _Disconnecting(app.wsgi_app)


def _before():
    hooks = current_app.extensions["paysandbox.faults"]
    for gateway, hook in hooks.items():
        try:
            ctx = hook.request_context(request)
        except Exception:  # classifying a call must never break it: a bad request gets its native error
            log.exception("classifying %s %s for %s failed", request.method, request.path, gateway)
            return None
        if ctx is not None:
            break
    else:
        return None
    # The rules of the namespace of the merchant the call names (the default one's for an unknown merchant).
    namespace = current_app.extensions["paysandbox"].namespace_of_merchant(ctx.gateway, ctx.merchant_id)
    ctx = _with_order_amount(namespace, ctx)
    _observe(namespace, ctx)
    rule = namespace.scenarios.take("api", ctx)
    if rule is None:
        return None
    _observe_fault(namespace, rule, ctx)
    log.info("scenario %s shapes %s %s (%s)", rule.id, request.method, request.path, ctx.method or ctx.operation)
    if processed(rule.api):
        g.paysandbox_fault = (rule, ctx)
        return None
    return _fault(rule, ctx, None)


def _after(response: Response) -> Response:
    retried = g.pop("paysandbox_refund_retry", None)
    if retried is not None:
        namespace, ctx = retried
        try:
            namespace.observations.refund_retried(ctx.gateway, ctx.merchant_id, ctx.out_trade_no)
        except Exception:
            log.exception("observing the refund retried on %s failed", request.path)
    fault = g.pop("paysandbox_fault", None)
    if fault is None:
        return response
    rule, ctx = fault
    return _fault(rule, ctx, response)


def _observe(namespace: Namespace, ctx: Context) -> None:
    """For the integration report (core/observations.py): a bill fetch, or a call following up a faulted one.
    Recording must never break the call it observes."""
    try:
        if ctx.operation == "bill":
            namespace.observations.bill_fetched(ctx.gateway, ctx.method, ctx.merchant_id)
        elif namespace.observations.call(ctx.gateway, ctx.operation, ctx.method, ctx.merchant_id, ctx.out_trade_no):
            g.paysandbox_refund_retry = (namespace, ctx)
    except Exception:
        log.exception("observing %s %s failed", request.method, request.path)


def _observe_fault(namespace: Namespace, rule: Rule, ctx: Context) -> None:
    try:
        namespace.observations.fault(rule.id, rule.api, processed(rule.api), ctx)
    except Exception:
        log.exception("observing the fault of %s on %s failed", rule.id, request.path)


def _with_order_amount(namespace: Namespace, ctx: Context) -> Context:
    """Calls about an existing order (query, refund ...) match `amount` by the order's amount."""
    if ctx.amount is not None or not ctx.out_trade_no or not ctx.merchant_id:
        return ctx
    if not namespace.scenarios.may_match("api", ctx):  # no rule would look at the amount: not worth a lookup
        return ctx
    try:
        order = namespace.payments.find(ctx.gateway, ctx.merchant_id, out_trade_no=ctx.out_trade_no)
    except errors.OrderNotFound:
        return ctx
    return Context(ctx.gateway, ctx.operation, ctx.method, ctx.merchant_id, ctx.out_trade_no, order.amount)


def _fault(rule: Rule, ctx: Context, response: Response | None) -> Response:
    api = rule.api
    if api.get("delay"):
        time.sleep(api["delay"])  # real time on purpose: it is the merchant's HTTP timeout under test
    hooks = current_app.extensions["paysandbox.faults"][ctx.gateway]
    sandbox = current_app.extensions["paysandbox"]
    if api.get("disconnect"):
        request.environ[DISCONNECT] = True
        answer = Response(b"")
    elif "status" in api:
        answer = _proxy_page(api["status"])
    elif "error" in api:
        adapter = sandbox.gateways[ctx.gateway]
        answer = hooks.error_answer(ctx, native_code(api["error"], adapter, sandbox.gateways, kind="api"))
    elif api.get("body") == "malformed":
        answer = _cut_in_half(response)
    elif api.get("body"):
        answer = hooks.altered_answer(response, api["body"])
    else:
        answer = response
    answer.headers["X-Sandbox-Scenario"] = rule.id
    return answer


def _proxy_page(status: int) -> Response:
    """What a load balancer in front of the provider answers: an HTML page, not the gateway's format."""
    title = f"{status} {PROXY_PAGES[status]}"
    page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    return Response(page + "<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n", status, content_type="text/html")


def _cut_in_half(response: Response) -> Response:
    body = response.get_data()
    response.set_data(body[: len(body) // 2])
    return response


class _Disconnecting:
    """WSGI middleware: closes the connection without an answer when a fault asked for it."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        result = self.wsgi_app(environ, start_response)
        if not environ.get(DISCONNECT):
            return result
        if hasattr(result, "close"):
            result.close()
        # werkzeug, gunicorn, and the sandbox's own TLS and proxy ports (sandbox.transport) hand over the socket.
        connection = (
            environ.get("werkzeug.socket") or environ.get("gunicorn.socket") or environ.get("paysandbox.socket")
        )
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        # The server drops the request quietly (werkzeug treats ConnectionError as the client going away).
        raise ConnectionAbortedError("scenario: connection dropped without an answer")
