"""The console's blueprint: its guard, the namespace it shows, the layout's data, login, and the root's redirect.

Pages live in their own modules (orders, scenarios, clock, merchants ...), each registering on this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, redirect, render_template, request, url_for

from sandbox.console import api, session
from sandbox.core.models import DEFAULT_NAMESPACE
from sandbox.pages import headers

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/_sandbox",
    template_folder="templates",
    static_folder="static",
    static_url_path="/console/static",
)
NAMESPACE_PARAM = "ns"
NAV = (
    ("console.orders", "Orders"),
    ("console.scenarios", "Scenarios"),
    ("console.clock", "Clock"),
    ("console.merchants", "Merchants"),
    ("console.doctor", "Signature doctor"),
    ("console.reports", "Integration reports"),
)


def install(app: Flask) -> None:
    from sandbox.console import clock, merchants, notifications, orders, reports, scenarios  # noqa: F401

    app.register_blueprint(bp)
    app.add_url_rule("/", "console_root", lambda: redirect(url_for("console.orders")))


@bp.before_request
def before() -> Response | None:
    g.console_namespace = request.values.get(NAMESPACE_PARAM, "") or DEFAULT_NAMESPACE
    return session.guard()


@bp.after_request
def after(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    # The hosted pages' policy, and htmx may fetch the live parts of a page from the sandbox itself.
    response.headers.setdefault("Content-Security-Policy", headers.content_security_policy(connect_src="'self'"))
    return session.remember_csrf(response)


@bp.app_template_global()
def console_url(endpoint: str, **values) -> str:
    """url_for that keeps the namespace the console shows (the default one needs no parameter)."""
    namespace = g.get("console_namespace", DEFAULT_NAMESPACE)
    if namespace != DEFAULT_NAMESPACE:
        values.setdefault(NAMESPACE_PARAM, namespace)
    return url_for(endpoint, **values)


@bp.app_template_global()
def console_csrf() -> str:
    return g.get("csrf", "")


@bp.app_template_global()
def console_namespace() -> str:
    return g.get("console_namespace", DEFAULT_NAMESPACE)


@bp.context_processor
def layout() -> dict:
    """What any template may use (fragments too): the namespace shown, the CSRF token, the notice; a frame's
    navigation, namespaces and clock are empty unless `page` fills them."""
    return {
        "nav": (),
        "namespaces": [],
        "clock": None,
        "namespace": g.get("console_namespace", DEFAULT_NAMESPACE),
        "csrf": g.get("csrf", ""),
        "token_required": bool(session.token()),
        "notice": request.args.get("notice", ""),
    }


def _frame() -> dict:
    """What a whole page's frame shows: the navigation, the namespace selector, the clock. Read once per page, not
    for the fragments a page polls; nothing of the sandbox (not even its clock) before logging in."""
    if request.endpoint == "console.login" or not session.logged_in():
        return {"namespace": DEFAULT_NAMESPACE}
    try:
        namespaces = api.get("/namespaces")["namespaces"]
        clock = api.get("/clock")
    except api.ApiError:
        namespaces, clock = [g.console_namespace], None  # an unknown namespace: the page itself says so
    return {"nav": NAV, "namespaces": namespaces, "clock": clock}


def page(template: str, status: int = 200, **context) -> Response:
    return Response(render_template(template, **{**_frame(), **context}), status=status, mimetype="text/html")


def back(endpoint: str, notice: str = "", **values) -> Response:
    """After a state change: see where it shows (POST, redirect, GET), with a one-line notice."""
    if notice:
        values["notice"] = notice
    return redirect(console_url(endpoint, **values), code=303)


def form_payload() -> dict:
    """The posted form, without the console's own fields."""
    return {k: v for k, v in request.form.items() if k not in (session.CSRF_FIELD, NAMESPACE_PARAM)}


@bp.errorhandler(api.ApiError)
def api_refused(error: api.ApiError):
    """A refusal no page placed next to a field: a whole page saying what the API said."""
    status = error.status if 400 <= error.status < 600 else 400
    return page("console/refusal.html", status=status, title=f"{error.code}", message=error.message)


# -- login ---------------------------------------------------------------------------------------------------------


@bp.route("/console/login", methods=["GET", "POST"])
def login():
    target = request.values.get("next", "") or url_for("console.orders")
    if not target.startswith("/_sandbox/") or target.startswith("//"):
        target = url_for("console.orders")
    if not session.token():
        return redirect(target)
    error = ""
    if request.method == "POST":
        if session.token_matches(request.form.get("token", "")):
            return session.log_in(redirect(target, code=303))
        error = "That is not this sandbox's access token (paysandbox serve --token or SANDBOX_TOKEN)."
    return page("console/login.html", status=401 if error else 200, error=error, next=target)


@bp.post("/console/logout")
def logout():
    return session.log_out(redirect(url_for("console.login"), code=303))
