"""What gateways read from the request: the target exactly as the client signed it, the base of URLs handed out."""

from __future__ import annotations

from flask import current_app, request

from sandbox.transport.hosts import DIRECT_URL, is_provider, split_authority


def raw_path_and_query() -> str:
    """Path and query byte for byte as on the request line (Flask's full_path re-encodes and adds a bare '?').

    An absolute-form target (`POST http://host/path?q HTTP/1.1`, as clients send through a proxy) keeps only its
    path and query: that is what the client signed.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if raw.startswith(("http://", "https://")):
        slash = raw.find("/", raw.index("://") + 3)
        raw = raw[slash:] if slash >= 0 else "/"
    if raw.startswith("/"):
        return raw
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def public_base_url() -> str:
    """The base of URLs the sandbox hands out (scan pages, H5 and cashier pages, bills), without a trailing slash.

    --public-url when set; else the address the request came to. A request addressed to a provider host (through
    the proxy or the TLS port) gets the sandbox's own plain address instead: no browser resolves that name to it.
    """
    sandbox = current_app.extensions["paysandbox"]
    if sandbox.config.public_url:
        return sandbox.config.public_url.rstrip("/")
    direct = current_app.extensions.get(DIRECT_URL)
    environ = request.environ
    # werkzeug's host_url is a tenth of a signed call's CPU; it depends on these alone, so each is worked out once.
    key = (direct, *(environ.get(name) for name in _ADDRESSING))
    if (known := _base_urls.get(key)) is None:
        if len(_base_urls) >= 256:
            _base_urls.clear()
        known = _base_urls[key] = _base_url(direct)
    return known


_ADDRESSING = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME")
_base_urls: dict[tuple, str] = {}


def _base_url(direct: str | None) -> str:
    addressed = split_authority(request.host, default_port=443)
    if direct and addressed and is_provider(addressed[0]):
        return direct
    return request.host_url.rstrip("/")
