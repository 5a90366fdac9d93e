"""create_app(config): build the Sandbox, register every gateway, the hosted pages and the control API."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from sandbox import __version__, bounded_body
from sandbox.admin import access
from sandbox.config import Config
from sandbox.console import views as console
from sandbox.core.sandbox import Sandbox
from sandbox.gateways import faults
from sandbox.gateways.alipay import faults as alipay_faults
from sandbox.gateways.alipay.adapter import AlipayGateway
from sandbox.gateways.alipay.keys import AlipayKeys
from sandbox.gateways.unionpay import faults as unionpay_faults
from sandbox.gateways.unionpay import notify as unionpay_notify
from sandbox.gateways.unionpay.adapter import UnionPayGateway
from sandbox.gateways.unionpay.keys import UnionPayKeys
from sandbox.gateways.wechatpay import faults as wechatpay_faults
from sandbox.gateways.wechatpay.adapter import WechatPayGateway
from sandbox.gateways.wechatpay.keys import WechatKeys
from sandbox.gateways.wechatpay.v2 import notify as wechatpay_v2_notify
from sandbox.gateways.wechatpay.v3 import notify as wechatpay_v3_notify
from sandbox.pages import headers
from sandbox.routing import LazyBuilderRule
from sandbox.transport import ports as transport
from sandbox.transport.ca import SandboxCA

log = logging.getLogger("paysandbox")
# Blueprints that answer a refused body in their own wire format, in their own order of checks.
ANSWER_OVERSIZED_THEMSELVES = {"alipay", "alipay_v3", "wechatpay_v3", "wechatpay_v2", "unionpay"}


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    if not Path(config.fixtures_dir, "alipay").is_dir():
        raise RuntimeError(f"no fixtures at {config.fixtures_dir}: set SANDBOX_FIXTURES to the repo's fixtures/ folder")
    app = Flask(
        __name__,
        template_folder="pages/templates",
        static_folder="pages/static",
        static_url_path="/cashier/static",
    )
    app.url_rule_class = LazyBuilderRule  # url_for's builders compiled on first use: most are never used
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    sandbox = Sandbox(config)
    sandbox.add_gateway(AlipayGateway(sandbox, AlipayKeys.load(config.fixtures_dir)))
    wechatpay = WechatPayGateway(sandbox, WechatKeys.load(config.fixtures_dir))
    wechatpay.notifiers["v3"] = wechatpay_v3_notify
    wechatpay.notifiers["v2"] = wechatpay_v2_notify
    sandbox.add_gateway(wechatpay)
    unionpay = UnionPayGateway(sandbox, UnionPayKeys.load(config.fixtures_dir))
    unionpay.notifier = unionpay_notify
    sandbox.add_gateway(unionpay)
    sandbox.load()
    if config.scenarios_file:
        sandbox.scenarios.load_file(config.scenarios_file)
    app.extensions["paysandbox"] = sandbox
    app.extensions[transport.EXTENSION] = SandboxCA(sandbox.store)  # its keys are made when first asked for

    from sandbox import favicon
    from sandbox.admin import actions, create, doctor  # noqa: F401 (their views join the control blueprint)
    from sandbox.admin.views import bp as admin_bp
    from sandbox.gateways.alipay.v3.views import bp as alipay_v3_bp
    from sandbox.gateways.alipay.views import bp as alipay_bp
    from sandbox.gateways.unionpay.views import bp as unionpay_bp
    from sandbox.gateways.wechatpay.v2.views import bp as wechatpay_v2_bp
    from sandbox.gateways.wechatpay.v3.views import bp as wechatpay_v3_bp
    from sandbox.pages.alipay import bp as alipay_pages_bp
    from sandbox.pages.unionpay import bp as unionpay_pages_bp
    from sandbox.pages.wechatpay import bp as wechatpay_pages_bp

    access.install(app, config.access_token())
    app.register_blueprint(admin_bp)
    console.install(app)
    app.register_blueprint(alipay_bp)
    app.register_blueprint(alipay_v3_bp)
    app.register_blueprint(wechatpay_v3_bp)
    app.register_blueprint(wechatpay_v2_bp)
    app.register_blueprint(unionpay_bp)
    app.register_blueprint(alipay_pages_bp)
    app.register_blueprint(wechatpay_pages_bp)
    app.register_blueprint(unionpay_pages_bp)
    favicon.install(app)
    app.before_request(_refuse_oversized_body)  # first: before the fault filter classifies the call
    faults.install(app, {"alipay": alipay_faults, "wechatpay": wechatpay_faults, "unionpay": unionpay_faults})
    _register_error_handlers(app)
    headers.install(app)
    app.wsgi_app = _in_step_with_other_processes(app.wsgi_app, sandbox)
    app.wsgi_app = _answered_once_durable(app.wsgi_app, sandbox.store)
    app.wsgi_app = bounded_body.BoundedBody(app.wsgi_app, config.max_body)  # outermost: before anything reads
    app.config["PAYSANDBOX_VERSION"] = __version__
    return app


def _answered_once_durable(wsgi_app, store):
    """Every request's answer leaves only once what it wrote, and what it read, is on disk: the store's flush, after
    the app has built the answer and before the server sends a byte of it (one fsync, shared by concurrent
    requests; nothing in memory). Every port reaches the app through this: the gateways, the hosted pages, the
    control API, the proxy and the TLS port."""

    def app(environ: dict, start_response):
        try:
            return wsgi_app(environ, start_response)
        finally:
            store.flush()

    return app


def _in_step_with_other_processes(wsgi_app, sandbox: Sandbox):
    """Every request starts from what other processes sharing the store changed (clocks, namespaces, rules): on every
    port, before anything else reads them."""

    def app(environ: dict, start_response):
        try:
            sandbox.refresh()
        except Exception:  # the store is unreachable: the request meets that itself, and answers it in its format
            log.exception("could not read what other processes changed")
        return wsgi_app(environ, start_response)

    return app


def _refuse_oversized_body() -> None:
    """The control API, the hosted pages and unknown paths refuse a body over SANDBOX_MAX_BODY with a 413."""
    why = bounded_body.oversized_body(request.environ)
    if why and request.blueprint not in ANSWER_OVERSIZED_THEMSELVES:
        raise RequestEntityTooLarge(why)


def _register_error_handlers(app: Flask) -> None:
    """Anything no gateway view answered itself: JSON under /_sandbox, plain text elsewhere, never a traceback."""
    from sandbox.gateways.alipay.v3 import views as alipay_v3_views
    from sandbox.gateways.alipay.v3.errors import V3Error as AlipayV3Error
    from sandbox.gateways.wechatpay.v2 import views as wechatpay_v2_views

    def alipay_v3_error(status: int, code: str, message: str) -> Response:
        return alipay_v3_views.answer(status, AlipayV3Error(status, code, message).body(), cert_mode=False)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = app.make_response(native_http_error(error))
        if error.code == 405 and getattr(error, "valid_methods", None):  # a 405 must say what the route takes
            response.headers.setdefault("Allow", ", ".join(sorted(error.valid_methods)))
        return response

    def native_http_error(error: HTTPException):
        if request.path.startswith("/v3/alipay"):
            code = {404: "invalid-method", 413: "invalid-content-length"}.get(error.code or 400, "invalid-parameter")
            return alipay_v3_error(error.code or 400, code, error.description or str(error))
        if request.path.startswith("/v3/"):
            body = {"code": "NOT_FOUND" if error.code == 404 else "INVALID_REQUEST", "message": error.description}
            return jsonify(body), error.code
        if request.path.startswith(wechatpay_v2_views.PREFIXES):
            return wechatpay_v2_views.http_error_answer(error)
        if request.path.startswith("/_sandbox"):
            code = (error.name or "error").upper().replace(" ", "_")
            return jsonify(error={"code": code, "message": error.description}), error.code
        return Response(
            f"{error.code} {error.name}: {error.description}\n",
            status=error.code,
            content_type="text/plain; charset=utf-8",
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        sandbox = app.extensions["paysandbox"]
        request_id = sandbox.ids.hex(16)
        log.exception("unexpected error on %s %s (request id %s)", request.method, request.path, request_id)
        message = f"the sandbox failed unexpectedly (request id {request_id}); see its log"
        if request.path.startswith("/v3/alipay"):
            return alipay_v3_error(500, "unknow-error", message)
        if request.path.startswith("/v3/"):
            return jsonify(code="SYSTEM_ERROR", message=message), 500
        if request.path.startswith(wechatpay_v2_views.PREFIXES):
            return wechatpay_v2_views.crash_answer(message)
        if request.path.startswith("/_sandbox"):
            return jsonify(error={"code": "INTERNAL_ERROR", "message": message}), 500
        return Response(message + "\n", status=500, content_type="text/plain; charset=utf-8")
