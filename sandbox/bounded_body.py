"""Request bodies read while they arrive, at most SANDBOX_MAX_BODY bytes, before anything parses them (chunked too)."""

from __future__ import annotations

import contextlib
import io
import socket
import time
from collections.abc import Callable, Iterable

from werkzeug.wsgi import get_content_length

SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket", "paysandbox.socket")  # where servers hand over the client socket
REFUSED = "paysandbox.body_refused"  # environ key: why the body was not read (None when it was)
CHUNK = 64 * 1024
# After refusing a body, what the client is still sending is read and dropped (never kept) for this long, so it
# sees the answer instead of a connection reset (closing a socket with unread data resets it).
DRAIN_SECONDS = 10.0


def oversized_body(environ: dict) -> str | None:
    """Why the request's body was refused (it is over the limit), or None; the app then sees an empty body."""
    return environ.get(REFUSED)


class BoundedBody:
    """WSGI middleware, outermost: the app always gets a body of at most `max_body` bytes with a true Content-Length.

    A body whose Content-Length is over the limit is not read at all; a chunked one is read until it passes the
    limit. Either way the app sees an empty body, `oversized_body(environ)` says why, and each gateway answers it in its
    own wire format. So memory per request never grows with what a client sends.
    """

    def __init__(self, app: Callable, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        declared = get_content_length(environ)
        if declared is None and not environ.get("wsgi.input_terminated"):
            return self.app(environ, start_response)  # no Content-Length and not chunked: there is no body
        source = environ["wsgi.input"]
        if declared is not None and declared > self.max_body:
            why = f"the body is {declared} bytes; the sandbox takes at most {self.max_body} (SANDBOX_MAX_BODY)"
            return self._refuse(environ, start_response, why, lambda: _drain(environ, source, declared))
        try:
            body = _read(source, self.max_body + 1 if declared is None else declared)
        except Exception as exc:  # whatever the server's reader raises for a broken body (bad chunk, reset)
            return _bad_request(start_response, f"the request body could not be read: {exc}")
        if declared is not None and len(body) < declared:
            return _bad_request(start_response, "the client closed the connection before sending its whole body")
        if len(body) > self.max_body:
            why = f"the chunked body is over {self.max_body} bytes, the most the sandbox takes (SANDBOX_MAX_BODY)"
            return self._refuse(environ, start_response, why, lambda: _drain(environ, source, None))
        _replace_body(environ, body)
        return self.app(environ, start_response)

    def _refuse(self, environ: dict, start_response: Callable, why: str, drain: Callable[[], None]) -> Iterable[bytes]:
        environ[REFUSED] = why
        _replace_body(environ, b"")
        return _DrainAfter(self.app(environ, start_response), drain)


class _DrainAfter:
    """The app's answer; once the server has sent it (it calls close), what is left of the body is read and dropped."""

    def __init__(self, result: Iterable[bytes], drain: Callable[[], None]) -> None:
        self._result, self._drain = result, drain

    def __iter__(self):
        return iter(self._result)

    def close(self) -> None:
        try:
            if hasattr(self._result, "close"):
                self._result.close()
        finally:
            self._drain()


def _replace_body(environ: dict, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body the app sees has a length, not chunks


def _read(source, most: int) -> bytes:
    """Up to `most` bytes, fewer only at the end of the body."""
    body = bytearray()
    while len(body) < most and (chunk := source.read(min(CHUNK, most - len(body)))):
        body += chunk
    return bytes(body)


def _drain(environ: dict, source, remaining: int | None) -> None:
    """Read and drop the rest of the body (`remaining` bytes, or to its end) for at most DRAIN_SECONDS; past that
    the connection is shut, so a keep-alive server does not go on reading the rest as the next request."""
    deadline = time.monotonic() + DRAIN_SECONDS
    sock = next((environ[key] for key in SOCKET_KEYS if key in environ), None)
    try:
        while (left := deadline - time.monotonic()) > 0:
            if sock is not None:  # a client that stops sending cannot hold the thread past the deadline either
                sock.settimeout(left)
            chunk = source.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if remaining is not None:
                remaining -= len(chunk)
            if not chunk or remaining == 0:
                return
    except Exception:  # the client left, broke its chunking, or outlasted the deadline mid-read
        pass
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _bad_request(start_response: Callable, text: str) -> list[bytes]:
    body = f"400 Bad Request: {text}\n".encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response("400 Bad Request", [*headers, ("Connection", "close")])
    return [body]
