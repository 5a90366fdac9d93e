"""HTTP/1.1 on one client connection into the WSGI app, request after request (keep-alive); h11 does the framing.

werkzeug's request handler closes the connection after every answer, which would cost a proxy client a CONNECT
and a TLS handshake per request; h11 parses (and bounds) requests and frames answers so the connection stays open.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
from collections.abc import Callable, Iterable
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

import h11

from sandbox import __version__
from sandbox.transport.server import Connections

log = logging.getLogger("paysandbox.transport")

MAX_HEAD = 64 * 1024  # request line and headers together; more is a 431
MAX_REQUEST_LINE = 64 * 1024  # more is a 414, as werkzeug's and http.server's limit
RECEIVE = 64 * 1024
DRAIN_LIMIT = 1024 * 1024  # unread bytes skipped to keep a connection, or to close one without a reset
LINGER = 1.0  # seconds a refused client has to stop sending before the connection closes
SOCKET_KEY = "paysandbox.socket"  # the client's socket, for the api.disconnect scenario
SERVER = f"paysandbox/{__version__}"
_ORIGIN_FORM = urlsplit("")  # no scheme, no netloc


class ClientGone(ConnectionError):
    """The client closed, stalled past the idle timeout, or broke the protocol mid-request."""


class HttpConnection:
    """One client connection: read requests with `next_request`, answer them with `run_app` or `refuse`."""

    def __init__(
        self,
        sock: socket.socket,
        app: Callable,
        scheme: str,
        local: tuple,
        peer: tuple,
        connections: Connections | None = None,
    ) -> None:
        """`connections`: the server's registry, told while this one waits idle for its next request."""
        self.sock, self.app, self.scheme, self.local, self.peer = sock, app, scheme, local, peer
        self.connections = connections
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)

    def serve(self) -> None:
        """Answer every request on the connection from the app, until either side closes."""
        while (request := self.next_request()) is not None and self.run_app(request):
            pass

    def next_request(self) -> h11.Request | None:
        """The next request's head; None when the client left or went idle, or sent garbage (answered 400/431)."""
        try:
            event = self._next_event(idle=True)
        except h11.RemoteProtocolError as exc:
            status = HTTPStatus(exc.error_status_hint)
            if status is HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE and b"\n" not in self.unread():
                status = HTTPStatus.REQUEST_URI_TOO_LONG  # the request line alone is over the limit
            self.refuse(status, f"paysandbox: {status.value} {status.phrase}: {exc}\n")
            return None
        except ClientGone:
            return None
        if not isinstance(event, h11.Request):
            return None
        # h11 bounds only a head still incomplete: one that arrives whole is checked here.
        if len(event.method) + len(event.target) + 10 > MAX_REQUEST_LINE:
            status = HTTPStatus.REQUEST_URI_TOO_LONG
            self.refuse(status, f"paysandbox: {status.value} {status.phrase}: the request line is over the limit\n")
            return None
        return event

    def unread(self) -> bytes:
        """Bytes the client sent after the last request head (a CONNECT's client must wait for the 200)."""
        return self.h11.trailing_data[0]

    def refuse(self, status: HTTPStatus, text: str) -> None:
        """A plain-text answer, then the connection closes (whatever state the parser is in)."""
        body = text.encode()
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\nServer: {SERVER}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        self.send_raw(head.encode() + body)
        self._linger()

    def send_raw(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # the client left first: nothing to tell it
            self.sock.sendall(data)

    def _linger(self) -> None:
        """Read what the client is still sending before closing: closing on unread data resets the connection, and
        the client would lose the answer. Bounded by DRAIN_LIMIT and LINGER seconds."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(LINGER)
            received = 0
            while received < DRAIN_LIMIT and (chunk := self.sock.recv(RECEIVE)):
                received += len(chunk)

    def run_app(self, request: h11.Request) -> bool:
        """Answer `request` from the app; True when the connection can carry another request."""
        environ = self._environ(request)
        response = _Response(self, request.method == b"HEAD")
        try:
            result = self.app(environ, response.start)
            try:
                for chunk in result:
                    response.write(chunk)
                response.finish()
            finally:
                if hasattr(result, "close"):
                    result.close()
        except (ClientGone, ConnectionError, TimeoutError, h11.ProtocolError):
            return False  # the client left mid-request, or a scenario dropped the connection on purpose
        except Exception:
            log.exception(
                "the app failed on %s %s through the transport", environ["REQUEST_METHOD"], environ["PATH_INFO"]
            )
            if not response.started:
                self.refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "paysandbox: the sandbox failed; see its log\n")
            return False
        return self._next_cycle()

    # -- internals -------------------------------------------------------------------------------

    def _next_event(self, idle: bool = False):
        """The next h11 event, reading as needed; `idle`: between requests, when a wait with nothing read yet may be
        cut short by the server (it makes room for a new client, or stops)."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            waiting = idle and self.connections is not None and not self.h11.trailing_data[0]
            if waiting:
                self.connections.waiting(self.sock, True)
            try:
                data = self.sock.recv(RECEIVE)
            except (TimeoutError, OSError) as exc:
                raise ClientGone(str(exc)) from None
            finally:
                if waiting:
                    self.connections.waiting(self.sock, False)
            self.h11.receive_data(data)

    def _next_cycle(self) -> bool:
        """Skip what the app left of the body (up to DRAIN_LIMIT), then get ready for the next request."""
        drained = 0
        try:
            while self.h11.their_state is h11.SEND_BODY and drained <= DRAIN_LIMIT:
                event = self._next_event()
                drained += len(event.data) if isinstance(event, h11.Data) else 0
            if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
                self.h11.start_next_cycle()
                return True
        except (ClientGone, h11.ProtocolError):
            pass
        return False

    def _environ(self, request: h11.Request) -> dict:
        target = request.target.decode("latin-1")
        url = _ORIGIN_FORM if target.startswith("/") else urlsplit(target)  # urlsplit only for absolute-form
        path = url.path if url.scheme else target.partition("?")[0]
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": self.scheme,
            "wsgi.input": _Body(self),
            "wsgi.input_terminated": True,  # the body reader ends at the message's end, chunked or not
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            SOCKET_KEY: self.sock,
            "SERVER_SOFTWARE": SERVER,
            "REQUEST_METHOD": request.method.decode("ascii"),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": url.query if url.scheme else target.partition("?")[2],
            "REQUEST_URI": target,
            "RAW_URI": target,
            "REMOTE_ADDR": self.peer[0],
            "REMOTE_PORT": str(self.peer[1]),
            "SERVER_NAME": self.local[0],
            "SERVER_PORT": str(self.local[1]),
            "SERVER_PROTOCOL": f"HTTP/{request.http_version.decode('ascii')}",
        }
        for name, value in request.headers:
            if b"_" in name:
                continue  # as werkzeug: a header spelt with '_' could pose as one spelt with '-'
            key = name.decode("latin-1").upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
            text = value.decode("latin-1")
            environ[key] = f"{environ[key]},{text}" if key in environ else text
        if url.scheme and url.netloc:  # absolute-form: the URL names the host
            environ["HTTP_HOST"] = url.netloc
        return environ


class _Body(io.RawIOBase):
    """wsgi.input: the request body as h11 delivers it, asking the client for 100-continue when it waits."""

    def __init__(self, connection: HttpConnection) -> None:
        self._connection = connection
        self._buffer = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if not self._buffer and not self._done:
            self._buffer = self._pull()
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def _pull(self) -> bytes:
        connection = self._connection
        if connection.h11.they_are_waiting_for_100_continue:
            connection.sock.sendall(connection.h11.send(h11.InformationalResponse(status_code=100, headers=[])))
        while True:
            try:
                event = connection._next_event()
            except h11.RemoteProtocolError as exc:
                raise ClientGone(f"bad request body: {exc}") from None
            if isinstance(event, h11.Data):
                if event.data:
                    return bytes(event.data)
                continue
            self._done = True
            return b""


class _Response:
    """start_response and the writes after it, framed by h11 (Content-Length when the app gave one, else chunked)."""

    def __init__(self, connection: HttpConnection, head_only: bool) -> None:
        self._connection, self._head_only = connection, head_only
        self._status: tuple[int, bytes] | None = None
        self._headers: list[tuple[str, str]] = []
        self._pending = b""
        self.started = False

    def start(self, status: str, headers: list[tuple[str, str]], exc_info=None) -> Callable[[bytes], None]:
        if exc_info and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        code, _, reason = status.partition(" ")
        self._status, self._headers = (int(code), reason.encode("latin-1")), headers
        return self.write

    def write(self, data: bytes) -> None:
        self._start()
        if data and not self._head_only:
            self._pending += self._connection.h11.send(h11.Data(data=data))
        self._flush()

    def finish(self) -> None:
        self._start()
        self._pending += self._connection.h11.send(h11.EndOfMessage())
        self._flush()

    def _start(self) -> None:
        if self.started:
            return
        if self._status is None:
            raise RuntimeError("the app wrote before start_response")
        self.started = True
        code, reason = self._status
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in _without_hop_by_hop(self._headers)]
        headers.append((b"Server", SERVER.encode()))
        # Held back until the first chunk, so head and body go out in one segment.
        self._pending = self._connection.h11.send(h11.Response(status_code=code, headers=headers, reason=reason))

    def _flush(self) -> None:
        if self._pending:
            self._connection.sock.sendall(self._pending)
            self._pending = b""


def _without_hop_by_hop(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The connection's own headers are h11's to set."""
    return [(n, v) for n, v in headers if n.lower() not in ("connection", "keep-alive", "transfer-encoding")]
