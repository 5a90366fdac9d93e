"""Who may use the control API: the bearer token, JSON-only state changes, no calls from another site's pages."""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

PREFIX = "/_sandbox"
# Open without a token: they reveal nothing secret, and are needed before a client has a token (or never has
# one): the container's HEALTHCHECK and load balancers ask health; the CA certificate is public material that
# SDK set-ups fetch to trust the TLS ports; the OpenAPI document describes what the source already shows.
OPEN = frozenset({f"{PREFIX}/health", f"{PREFIX}/openapi.json", f"{PREFIX}/ca.pem"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = 'Bearer realm="paysandbox"'
HOW_TO_SEND = (
    "send it as the header `Authorization: Bearer <token>` (paysandbox CLI: --token or SANDBOX_TOKEN;"
    " pytest plugin: --sandbox-token or SANDBOX_TOKEN)"
)
# Sec-Fetch-Site values of requests that no other site's page made: the sandbox's own pages, or a typed URL.
OWN_FETCHES = frozenset({"same-origin", "none"})


# The console's pages (a browser's, with its own login and form posts): guarded by the console itself.
CONSOLE = (f"{PREFIX}/", f"{PREFIX}/console")


def install(app: Flask, token: str | None) -> None:
    """Guard every /_sandbox path (unknown ones too, so nothing answers a stranger but 401) before its view runs."""
    app.extensions["paysandbox_token"] = token

    @app.before_request
    def guard_control_api() -> Response | None:
        if is_console(request.path):
            return None
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            return _refusal(token)
        return None


def is_console(path: str) -> bool:
    return path == CONSOLE[0] or path == CONSOLE[1] or path.startswith(CONSOLE[1] + "/")


def _refusal(token: str | None) -> Response | None:
    """The answer that refuses this control call, or None to let it through."""
    if request.method in ("GET", "HEAD") and request.path in OPEN:
        return None
    refused = _token_refusal(token) if token else None
    if refused or request.method in READS:
        return refused
    return _non_json_refusal() or _cross_site_refusal()


def _token_refusal(token: str) -> Response | None:
    presented = _bearer(request.headers.get("Authorization", ""))
    if presented is None:
        return _unauthorized(f"this sandbox's control API needs its access token: {HOW_TO_SEND}")
    if not hmac.compare_digest(presented.encode(), token.encode()):  # constant time: no guessing it byte by byte
        return _unauthorized(f"the access token is not this sandbox's: {HOW_TO_SEND}")
    return None


def _bearer(header: str) -> str | None:
    """The credentials of `Bearer <token>` (the scheme is case-insensitive); None for any other header."""
    scheme, _, credentials = header.strip().partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _unauthorized(message: str) -> Response:
    answer = _error(401, "UNAUTHORIZED", message)
    answer.headers["WWW-Authenticate"] = CHALLENGE
    return answer


def _non_json_refusal() -> Response | None:
    """A state change takes a JSON body or none; what an HTML form sends (urlencoded, multipart, text/plain) is
    neither."""
    if request.mimetype == "application/json":
        return None
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not request.mimetype and not has_body:
        return None
    sent = request.mimetype or "a body with no Content-Type"
    message = f"the control API takes JSON: send Content-Type: application/json (or no body at all), not {sent}"
    return _error(415, "UNSUPPORTED_MEDIA_TYPE", message)


def _cross_site_refusal() -> Response | None:
    """A browser says where a request comes from: a page of another origin may not change the sandbox's state."""
    source = cross_site_source()
    if not source:
        return None
    message = f"the control API takes no state changes from another site's web page ({source}); call it from a script"
    return _error(403, "CROSS_SITE_REQUEST", message)


def cross_site_source() -> str:
    """What says this request came from another site's page (a header and its value), or ''."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "")
    origin = request.headers.get("Origin", "")
    if fetch_site and fetch_site not in OWN_FETCHES:
        return f"Sec-Fetch-Site: {fetch_site}"
    if origin and urlsplit(origin).netloc.lower() != request.host.lower():
        return f"Origin: {origin}"
    return ""


def _error(status: int, code: str, message: str) -> Response:
    answer = jsonify(error={"code": code, "message": message})
    answer.status_code = status
    return answer


def reachable_from_elsewhere(host: str) -> bool:
    """Whether a server bound to `host` can be reached from other machines: anything but a loopback address."""
    if host.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # "" (every interface) or a host name, which may resolve to a LAN address
        return True


def exposure_warning(host: str, port: int) -> str:
    """The start-up warning for a control API that anyone on the network can use."""
    return (
        f"WARNING: the sandbox listens on {host}:{port}, which other machines can reach, and has no access token.\n"
        "  Anyone who reaches this port can use its control API (/_sandbox): reset it, move its clock, replace\n"
        "  its merchants and their keys, and read every order and notification.\n"
        '  Set a token: paysandbox serve --token "$(openssl rand -hex 32)", or SANDBOX_TOKEN (the container reads\n'
        "  it; SANDBOX_TOKEN_FILE names a file holding it), and give clients the same one (--token or\n"
        "  SANDBOX_TOKEN). Or bind 127.0.0.1 (--host)."
    )
