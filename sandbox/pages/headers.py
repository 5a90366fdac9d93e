"""Security headers on every answer of the sandbox: nosniff on all; on HTML (hosted pages, error pages, and gateway.do,
whose JSON Alipay serves as text/html) a CSP with no inline script or style, no framing, and a referrer policy.

The one page meant to be framed is WeChat's JSAPI pay sheet, which the WeixinJSBridge shim lays over the shop's
page in an iframe: the shim names the shop's origin (`embedder`) and only that origin may frame the sheet.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Flask, Response, g

REFERRER_POLICY = "strict-origin-when-cross-origin"  # other sites see our origin, never a page's path or query
POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    # Buttons post to the sandbox and are redirected on to the merchant's return URL, whatever its origin.
    "form-action": "'self' http: https:",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def install(app: Flask) -> None:
    app.after_request(add_headers)


def allow_framing_by(origin: str) -> str:
    """Let this answer be framed by `origin` if it is an http(s) origin; answers the origin allowed, or ''."""
    try:
        parts = urlsplit(origin)
        allowed = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.hostname else ""
    except ValueError:
        allowed = ""
    if allowed != origin or any(char in origin for char in " ;,'\"@"):
        return ""
    g.frame_ancestor = allowed
    return allowed


def content_security_policy(frame_ancestor: str = "", **sources: str) -> str:
    """The policy, with framing by `frame_ancestor` and other directives (connect_src="'self'") if given."""
    policy = {**POLICY, "frame-ancestors": frame_ancestor or POLICY["frame-ancestors"]}
    policy.update({name.replace("_", "-"): value for name, value in sources.items()})
    return "; ".join(f"{name} {sources}" for name, sources in policy.items())


@functools.lru_cache(maxsize=64)
def _policy_framed_by(frame_ancestor: str) -> str:
    """The policy every HTML answer carries (each gateway.do answer is one): built once per framing origin."""
    return content_security_policy(frame_ancestor)


def add_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype != "text/html":
        return response
    frame_ancestor = g.get("frame_ancestor", "")
    response.headers.setdefault("Content-Security-Policy", _policy_framed_by(frame_ancestor))
    if not frame_ancestor:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    return response
