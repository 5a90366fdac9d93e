"""What the shop did, step by step, per order: requests with the string it signed, answers, notifications, returns,
and the decision it took. The order's "How this was integrated" page reads it back.

HTTP calls are recorded by RecordingSession (a requests.Session the gateway clients are given): whatever the client
sends inside `journal.step(...)` lands in that step, with the gateway's explanation of what was signed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

import requests
from tinydb import Query, TinyDB

MAX_TEXT = 4000  # a body longer than this is cut in the journal (bills, HTML forms); the wire is never cut

_current: ContextVar[dict | None] = ContextVar("shop_journal_step", default=None)


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"… ({len(text) - MAX_TEXT} more characters)"


class Journal:
    def __init__(self, db: TinyDB, lock: threading.RLock, now: Callable[[], datetime]) -> None:
        self._steps = db.table("journal")
        self._lock = lock
        self._now = now

    def add(self, order_no: str, gateway: str, kind: str, title: str, verdict: str = "", **details) -> dict:
        """kind: request | notification | return | query | refund | decision; verdict: ok | rejected | ignored."""
        return self._insert(order_no, gateway, kind, title, verdict, details, [], self._now().isoformat())

    def _insert(self, order_no, gateway, kind, title, verdict, details, exchanges, at) -> dict:
        step = {
            "order_no": order_no,
            "gateway": gateway,
            "kind": kind,
            "title": title,
            "verdict": verdict,
            "at": at,
            "details": details,
            "exchanges": exchanges,
        }
        with self._lock:
            step["seq"] = len(self._steps) + 1
            self._steps.insert(step)
        return step

    @contextmanager
    def step(self, order_no: str, gateway: str, kind: str, title: str) -> Iterator[dict]:
        """Record a step whose HTTP exchanges the RecordingSession adds; the step is written even if the call fails."""
        step = {"details": {}, "exchanges": [], "verdict": "ok"}
        started = self._now().isoformat()  # the journal is in the order things began, not ended
        token = _current.set(step)
        try:
            yield step
        except Exception as exc:
            step["verdict"] = "failed"
            step["details"]["error"] = str(exc)
            raise
        finally:
            _current.reset(token)
            self._insert(order_no, gateway, kind, title, step["verdict"], step["details"], step["exchanges"], started)

    def for_order(self, order_no: str) -> list[dict]:
        with self._lock:
            return sorted(self._steps.search(Query().order_no == order_no), key=lambda s: (s["at"], s["seq"]))

    def recent(self, kind: str = "", limit: int = 100) -> list[dict]:
        with self._lock:
            rows = self._steps.search(Query().kind == kind) if kind else self._steps.all()
        return sorted(rows, key=lambda s: s["seq"], reverse=True)[:limit]


class RecordingSession(requests.Session):
    """A requests.Session that copies each exchange into the current journal step, explained by `describe`."""

    def __init__(self, describe: Callable[[requests.PreparedRequest], dict]) -> None:
        super().__init__()
        self.trust_env = False  # the gateways are local: never through a proxy from the environment
        self._describe = describe

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        step = _current.get()
        exchange = {"method": request.method, "url": request.url, "request_headers": _headers(request.headers)}
        body = request.body or b""
        exchange["request_body"] = clip(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
        if step is not None:
            exchange["signed"] = self._describe(request)
            step["exchanges"].append(exchange)
        reply = super().send(request, **kwargs)
        exchange.update(
            status=reply.status_code,
            response_headers=_headers(reply.headers),
            response_body=clip(reply.content.decode("utf-8", "replace")),
        )
        return reply


def _headers(headers) -> dict[str, str]:
    keep = ("content-type", "authorization", "wechatpay-serial", "wechatpay-signature", "wechatpay-timestamp")
    keep += ("wechatpay-nonce", "wechatpay-signature-type", "request-id")
    return {k: v for k, v in headers.items() if k.lower() in keep}
