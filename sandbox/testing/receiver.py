"""A notification receiver: a real HTTP endpoint that records what arrives and answers as a test tells it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from flask import Flask, Response, request

from sandbox.testing.server import ThreadedServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass
class Reply:
    status: int = 200
    body: str = "success"
    headers: dict = field(default_factory=dict)


class NotificationReceiver:
    """Records every request; `reply` sets the answer (per path, or the default for all paths)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._replies: dict[str, Reply] = {}
        self.default = Reply()
        self._changed = threading.Condition()
        app = Flask("paysandbox-receiver")
        app.add_url_rule("/", "catch_all", self._handle, methods=["GET", "POST"], defaults={"path": ""})
        app.add_url_rule("/<path:path>", "catch", self._handle, methods=["GET", "POST"])
        self._server = ThreadedServer(app)
        self.url = self._server.url

    def _handle(self, path: str) -> Response:
        reply = self._replies.get("/" + path, self.default)
        with self._changed:
            self.received.append(Received("/" + path, dict(request.headers), request.get_data()))
            self._changed.notify_all()
        return Response(reply.body, status=reply.status, headers=reply.headers)

    def reply(self, body: str = "success", status: int = 200, path: str | None = None) -> None:
        if path is None:
            self.default = Reply(status, body)
        else:
            self._replies[path] = Reply(status, body)

    def wait_for(self, count: int = 1, timeout: float = 5.0, path: str | None = None) -> list[Received]:
        """Block until `count` requests (to `path`, if given) have arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(matching := self.at(path)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} notification(s) at {path or 'any path'}, "
                        f"got {len(matching)} within {timeout}s"
                    )
                self._changed.wait(left)
        return matching

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
