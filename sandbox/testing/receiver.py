"""A notification receiver: a real HTTP endpoint that records what arrives and answers as a test tells it."""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from flask import Response  # text/html unless told otherwise, as the receiver always answered
from werkzeug.wrappers import Request

from sandbox.testing.server import ThreadedServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    client: tuple[str, int] | None = None  # the sender's address and port, as the connection came from

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Reply:
    status: int = 200
    body: str = "success"
    headers: dict = field(default_factory=dict)


ALLOWED = ("GET", "HEAD", "POST", "OPTIONS")

# A reply is fixed, or computed per request: handler(received) -> Reply, or a str body (answered with HTTP 200).
Handler = Callable[[Received], "Reply | str"]


class ReceiverError(AssertionError):
    """A reply handler raised in the receiver's thread; re-raised in the test that is waiting or tearing down."""


class NotificationReceiver:
    """Records every request; `reply` sets the answer (per path, or the default for all paths).

    `host` is the address it binds; `public_host` the name a sandbox elsewhere (a container) reaches it by.
    """

    def __init__(self, host: str = "127.0.0.1", public_host: str = "") -> None:
        self.received: list[Received] = []
        self.errors: list[str] = []
        self._replies: dict[str, Reply | Handler] = {}
        self.default: Reply | Handler = Reply()
        self._changed = threading.Condition()
        self._server = ThreadedServer(self._wsgi, host=host)
        self.url = f"http://{public_host or self._server.host}:{self._server.port}"

    def _wsgi(self, environ: dict, start_response):
        """Every path takes GET and POST (and HEAD); a plain WSGI app, since a Flask app per test cost 1.5 ms."""
        request = Request(environ)
        if request.method == "OPTIONS":
            response = Response(status=200, headers={"Allow": ", ".join(ALLOWED)})
        elif request.method not in ALLOWED:
            response = Response("method not allowed", status=405, headers={"Allow": ", ".join(ALLOWED)})
        else:
            response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        environ = request.environ
        client = (environ.get("REMOTE_ADDR", ""), int(environ.get("REMOTE_PORT") or 0))
        received = Received(request.path, dict(request.headers), request.get_data(), client)
        reply = self._replies.get(received.path, self.default)
        if callable(reply):
            try:
                reply = reply(received)
            except Exception:
                # The sandbox sees a 500 (as from a broken merchant); the test sees the traceback.
                with self._changed:
                    self.errors.append(f"reply handler for {received.path} raised:\n{traceback.format_exc()}")
                reply = Reply(500, "receiver reply handler failed")
            if isinstance(reply, str):
                reply = Reply(200, reply)
        # Recorded once answered: whoever waits sees what the sandbox was told (and any handler error).
        with self._changed:
            self.received.append(received)
            self._changed.notify_all()
        return Response(reply.body, status=reply.status, headers=reply.headers)

    def reply(self, body: str | Handler = "success", status: int = 200, path: str | None = None) -> None:
        """Answer with `body` and `status` (or whatever `body(received)` returns when it is a function)."""
        answer = body if callable(body) else Reply(status, body)
        if path is None:
            self.default = answer
        else:
            self._replies[path] = answer

    def wait_for(
        self,
        count: int = 1,
        timeout: float = 5.0,
        path: str | None = None,
        where: Callable[[Received], bool] | None = None,
    ) -> list[Received]:
        """Block until `count` requests (to `path`, and passing `where`, if given) have arrived; AssertionError on
        timeout, ReceiverError if a reply handler raised meanwhile."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(matching := [r for r in self.at(path) if where is None or where(r)]) < count:
                self.raise_errors()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} notification(s) at {path or 'any path'}, "
                        f"got {len(matching)} within {timeout}s (all received: {[r.path for r in self.received]})"
                    )
                self._changed.wait(left)
        self.raise_errors()
        return matching

    def raise_errors(self) -> None:
        if self.errors:
            errors, self.errors = self.errors, []
            raise ReceiverError("\n".join(errors))

    def at(self, path: str | None = None) -> list[Received]:
        return [r for r in self.received if path is None or r.path == path]

    def start(self) -> NotificationReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> NotificationReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
