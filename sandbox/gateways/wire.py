"""What gateways read from a request exactly as it was sent: the request target the client signed."""

from __future__ import annotations

from flask import request


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
