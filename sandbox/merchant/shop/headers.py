"""Security headers on the demo shop's answers: nosniff on all; on its pages a CSP that lets in only its own scripts,
the sandbox's WeixinJSBridge shim and pay sheet, and forms to the sandbox's gateways; no framing."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

REFERRER_POLICY = "strict-origin-when-cross-origin"  # the sandbox sees the shop's origin, never an order's path
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install(app: Flask) -> None:
    app.after_request(add_headers)


def allow_inline_scripts_of(html: str) -> None:
    """Let the inline scripts of `html` run, by hash: the merchant client's auto-submitting cashier form has one."""
    hashes = [base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() for text in INLINE_SCRIPT.findall(html)]
    g.script_hashes = [*g.get("script_hashes", []), *(f"'sha256-{digest}'" for digest in hashes)]


def content_security_policy(sandbox_url: str, script_hashes: list[str]) -> str:
    parts = urlsplit(sandbox_url)
    sandbox = f"{parts.scheme}://{parts.netloc}"
    policy = {
        "default-src": "'none'",
        "script-src": " ".join(["'self'", sandbox, *script_hashes]),  # the shim comes from the sandbox
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",  # the order page polls the shop
        "frame-src": sandbox,  # the shim's pay sheet
        "form-action": f"'self' {sandbox}",  # cashier forms post to the sandbox's gateways
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {sources}" for name, sources in policy.items())


def add_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype != "text/html":
        return response
    sandbox_url = current_app.extensions["shop"].settings.sandbox_url
    policy = content_security_policy(sandbox_url, g.get("script_hashes", []))
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    return response
