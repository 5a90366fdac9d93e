"""The least a signed call can cost a Python server: a bare WSGI app that reads the body, verifies one RSA-2048
signature and signs one answer (sandbox.core.crypto, OpenSSL), with no routing, parsing, store or JSON.

bench/signed_requests.py serves it with gunicorn, as the Dockerfile serves the sandbox, and prints its server CPU per
request beside the sandbox's: a goal below this figure is one no Python server on this machine can meet.
TEST-ONLY keys from fixtures/ (public on purpose)."""

from __future__ import annotations

from pathlib import Path

from sandbox.core import crypto

_KEYS = Path(__file__).resolve().parent.parent / "fixtures" / "alipay" / "sandbox"
_PRIVATE = crypto.load_private_key((_KEYS / "alipay_private_key.pem").read_text())
_PUBLIC = crypto.load_public_key((_KEYS / "alipay_public_key.pem").read_text())
_MESSAGE = b"x" * 400
_SIGNATURE = crypto.sign(_PRIVATE, _MESSAGE)


def app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if not crypto.verify(_PUBLIC, _MESSAGE, _SIGNATURE):
        raise RuntimeError("the fixture signature does not verify")
    answer = crypto.sign(_PRIVATE, body).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(answer)))])
    return [answer]
