"""Who may use the console: the access token's login (a cookie), and no form posted from another site's page.

With `--token`, the console asks for the token once and keeps a cookie derived from it (never the token itself):
HttpOnly, SameSite=Strict, scoped to /_sandbox. Every state change also needs the page's CSRF token (a cookie
echoed in a hidden field or the X-CSRF-Token header) and no Sec-Fetch-Site/Origin of another site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, current_app, g, redirect, render_template, request, url_for

from sandbox.admin.access import cross_site_source

SESSION_COOKIE = "paysandbox_console"
CSRF_COOKIE = "paysandbox_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/_sandbox"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token() -> str | None:
    return current_app.extensions.get("paysandbox_token")


def session_value(secret: str) -> str:
    """What the cookie holds: a digest of the token, so the cookie alone never reveals it."""
    return hmac.new(secret.encode(), b"paysandbox console session", hashlib.sha256).hexdigest()


def logged_in() -> bool:
    secret = token()
    if not secret:
        return True
    presented = request.cookies.get(SESSION_COOKIE, "")
    return hmac.compare_digest(presented.encode(), session_value(secret).encode())


def token_matches(presented: str) -> bool:
    secret = token()
    return bool(secret) and hmac.compare_digest(presented.strip().encode(), secret.encode())


def guard() -> Response | None:
    """Before every console view: the CSRF cookie, the login, the origin and CSRF checks of a state change."""
    g.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    if request.endpoint == "console.static":
        return None
    if request.endpoint != "console.login" and not logged_in():
        if request.method in SAFE_METHODS:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return refusal(401, "Log in first", "This console needs the sandbox's access token: log in again.")
    if request.method in SAFE_METHODS:
        return None
    source = cross_site_source()
    if source:
        return refusal(403, "Refused", f"The console takes no form posted from another site's page ({source}).")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not request.cookies.get(CSRF_COOKIE) or not hmac.compare_digest(sent.encode(), g.csrf.encode()):
        return refusal(403, "Refused", "The form's security token is missing or stale: reload the page and try again.")
    return None


def remember_csrf(response: Response) -> Response:
    if request.cookies.get(CSRF_COOKIE) != g.get("csrf"):
        response.set_cookie(CSRF_COOKIE, g.csrf, path=COOKIE_PATH, httponly=True, samesite="Strict")
    return response


def log_in(response: Response) -> Response:
    response.set_cookie(
        SESSION_COOKIE, session_value(token() or ""), path=COOKIE_PATH, httponly=True, samesite="Strict"
    )
    return response


def log_out(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


def refusal(status: int, title: str, message: str) -> Response:
    page = render_template("console/refusal.html", title=title, message=message)
    return Response(page, status=status, mimetype="text/html")
