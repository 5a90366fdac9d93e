"""The control API client of the plugin's handles: Control over http.client, its connections kept for later calls."""

from __future__ import annotations

import http.client
import json as jsonlib
import threading
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from requests.utils import requote_uri

from sandbox.control import NAMESPACE_HEADER, Control, ControlError
from sandbox.core.notify_pool import quiet


@dataclass(frozen=True)
class Reply:
    """What Control reads of an answer (the part of requests.Response it uses)."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self):
        return jsonlib.loads(self.content)


class Unreachable(Exception):
    """No connection could be made (nothing listens, or the connect timed out)."""


class Connections:
    """Idle keep-alive connections to one plain-HTTP sandbox, shared by every test's handle: a call takes one (or
    opens one) and gives it back once answered, so calls from several threads never wait for each other."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"not a plain http:// URL: {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def exchange(self, method: str, target: str, body: bytes | None, headers: dict, timeout: float) -> Reply:
        """One request and its whole answer. A kept connection the sandbox closed meanwhile (idle too long, or to
        make room) is replaced once: it never read the request, so sending it again is safe."""
        while True:
            connection, kept = self._take(timeout)
            try:
                connection.request(method, target, body=body, headers=headers)
                answer = connection.getresponse()
                reply = Reply(answer.status, answer.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                if kept:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if answer.will_close:
                connection.close()
            else:
                with self._lock:
                    self._idle.append(connection)
            return reply

    def _take(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                break
            if connection.sock is not None and quiet(connection.sock):
                connection.sock.settimeout(timeout)
                return connection, True
            connection.close()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            raise Unreachable(str(exc)) from None
        return connection, False

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class KeptControl(Control):
    """Control with the same calls, answers and ControlError messages, over `connections` instead of requests (whose
    own work was 0.55 ms of each call) and a connection kept from the test before (a new one: 1.3 ms)."""

    def __init__(
        self, connections: Connections, url: str, timeout: float = 10.0, token: str | None = None, **options
    ) -> None:
        super().__init__(url, timeout=timeout, token=token, **options)
        self._connections = connections
        self._headers = {"Accept": "*/*"}  # as requests sends it: the integration report answers JSON to that
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        if self.namespace:
            self._headers[NAMESPACE_HEADER] = self.namespace

    def _request(self, method: str, path: str, json: dict | None = None, params: dict | None = None):
        query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")}, doseq=True)
        target = requote_uri(f"/_sandbox{path}" + (f"?{query}" if query else ""))  # as requests sends a path
        headers = dict(self._headers)
        body = None
        if json is not None:
            body = jsonlib.dumps(json, allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT", "PATCH"):
            body = b""  # Content-Length: 0, as requests sends for a call without a body
        try:
            return self._connections.exchange(method, target, body, headers, self._timeout)
        except Unreachable:
            raise ControlError(
                f"no sandbox answers at {self.url}; start one with `paysandbox serve`, or pass --url (or SANDBOX_URL)"
            ) from None
        except TimeoutError:
            raise ControlError(
                f"the sandbox at {self.url} did not answer {method} {path} in {self._timeout:g} s"
            ) from None
        except (OSError, http.client.HTTPException):
            raise ControlError(
                f"no sandbox answers at {self.url}; start one with `paysandbox serve`, or pass --url (or SANDBOX_URL)"
            ) from None
