"""One notification POST over HTTP/1.1: to addresses already checked, within one deadline, reading a bounded reply.

h11 frames the exchange; the socket is ours, so the deadline covers connect, TLS, sending and the whole reply
(each wait gets only the time left, so a merchant trickling a byte at a time is cut off on time), and the reply is
read only up to REPLY_LIMIT. Redirects are never followed and no proxy from the environment is used.

A connection whose exchange ended cleanly is kept (notify_pool.py) for the next attempt to the same scheme, host and
port, and reused only when its address is among those this attempt may reach: a connection and, on https, a TLS
handshake saved per notification. A kept connection the merchant closed meanwhile fails before any byte of an
answer; the request then goes once more on a new connection, within the same deadline.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from dataclasses import dataclass, field

import h11

from sandbox import __version__
from sandbox.core.destinations import DeliveryFailed, Target
from sandbox.core.notify_pool import IDLE, Kept

REPLY_LIMIT = 64 * 1024  # bytes of a merchant's reply read at most; the rest is never received
RECEIVE = 16 * 1024
USER_AGENT = f"paysandbox/{__version__}"
_FRAMING = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass
class Reply:
    status: int | None = None
    content_type: str = ""
    body: bytearray = field(default_factory=bytearray)
    received: int = 0  # bytes of the answer read off the connection, head included

    @property
    def text(self) -> str:
        """The body decoded with the charset it declares (UTF-8 when none or unknown), undecodable bytes replaced."""
        charset = "utf-8"
        for param in self.content_type.split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset":
                charset = value.strip('"') or charset
        try:
            return self.body.decode(charset, "replace")
        except LookupError:
            return self.body.decode("utf-8", "replace")


class Incomplete(DeliveryFailed):
    """No complete answer; `reply` holds what did come (a status, part of a body)."""

    def __init__(self, message: str, reply: Reply) -> None:
        super().__init__(message)
        self.reply = reply


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds, self._end = seconds, time.monotonic() + seconds

    def left(self) -> float:
        return self._end - time.monotonic()

    def arm(self, sock: socket.socket) -> None:
        """The next socket wait gets only the time left; none left is a timeout now."""
        left = self.left()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)


def post(target: Target, addresses: list[tuple], body: bytes, headers: dict, timeout: float) -> Reply:
    """POST `body` to `target` at the first of `addresses` that connects; the reply, at most REPLY_LIMIT of its body.

    Raises DeliveryFailed (Incomplete once a connection is up) when there is no complete answer within `timeout`."""
    deadline = _Deadline(timeout)
    kept = IDLE.take(target, addresses)
    if kept is not None:
        reply = Reply()
        try:
            return _exchange(kept, target, body, headers, deadline, reply)
        except _Stale:
            pass  # closed by the merchant while idle: this request never reached it
        except TimeoutError:
            raise _timed_out(timeout, reply) from None
    sock, sockaddr = _connect(target, addresses, deadline)
    reply = Reply()
    try:
        if target.scheme == "https":
            sock = _tls(sock, target.host, deadline)
    except TimeoutError:
        _close(sock)
        raise _timed_out(timeout, reply) from None
    except (OSError, ssl.SSLError) as exc:
        _close(sock)
        raise Incomplete(f"the connection to {target.authority} failed: {exc}", reply) from None
    try:
        return _exchange(Kept(sock, h11.Connection(h11.CLIENT), sockaddr), target, body, headers, deadline, reply)
    except _Stale as exc:
        raise Incomplete(exc.message, reply) from None
    except TimeoutError:
        raise _timed_out(timeout, reply) from None


class _Stale(Exception):
    """The connection failed before any byte of an answer came; `message` says how, as an attempt records it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _exchange(kept: Kept, target: Target, body: bytes, headers: dict, deadline: _Deadline, reply: Reply) -> Reply:
    """One request and its answer on `kept`, which goes back to IDLE when both sides may go on, else is closed."""
    reusable = False
    try:
        _send(kept.sock, kept.connection, target, body, headers, deadline)
        _receive(kept.sock, kept.connection, reply, deadline)
        reusable = kept.connection.our_state is h11.DONE and kept.connection.their_state is h11.DONE
        return reply
    except TimeoutError:
        raise
    except (h11.ProtocolError, _Closed, OSError, ssl.SSLError) as exc:
        if isinstance(exc, h11.ProtocolError):
            message = f"the merchant's answer is not valid HTTP/1.1: {exc}"
        elif isinstance(exc, _Closed):
            message = str(exc)
        else:
            message = f"the connection to {target.authority} failed: {exc}"
        if not reply.received:
            raise _Stale(message) from None
        raise Incomplete(message, reply) from None
    finally:
        if reusable:
            kept.connection.start_next_cycle()
            IDLE.give(target, kept)
        else:
            _close(kept.sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def _timed_out(timeout: float, reply: Reply) -> Incomplete:
    size = len(reply.body)
    got = f"HTTP {reply.status} and {size} byte{'' if size == 1 else 's'} of its body" if reply.status else "no answer"
    why = "SANDBOX_NOTIFY_TIMEOUT bounds the whole attempt: connect, send and the complete reply"
    return Incomplete(f"timed out after {timeout:g} s with {got} ({why})", reply)


def _connect(target: Target, addresses: list[tuple], deadline: _Deadline) -> tuple[socket.socket, tuple]:
    failures = []
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            deadline.arm(sock)
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock, sockaddr
        except TimeoutError:
            sock.close()
            raise DeliveryFailed(f"timed out connecting to {target.authority} after {deadline.seconds:g} s") from None
        except OSError as exc:
            sock.close()
            failures.append(f"{sockaddr[0]} port {sockaddr[1]}: {exc.strerror or exc}")
    raise DeliveryFailed(f"cannot connect to {target.authority} ({'; '.join(failures)})")


def _tls(sock: socket.socket, host: str, deadline: _Deadline) -> ssl.SSLSocket:
    """TLS with the notify URL's host name checked against the system's CAs (SSL_CERT_FILE adds one)."""
    deadline.arm(sock)
    return ssl.create_default_context().wrap_socket(sock, server_hostname=host)


def _send(
    sock: socket.socket, connection: h11.Connection, target: Target, body: bytes, headers: dict, deadline: _Deadline
) -> None:
    own = [(name, value) for name, value in headers.items() if name.lower() not in _FRAMING]
    head = [("Host", target.authority), ("User-Agent", USER_AGENT), *own]
    framing = [("Content-Length", str(len(body)))]
    data = connection.send(h11.Request(method="POST", target=target.path, headers=head + framing))
    data += connection.send(h11.Data(data=body)) + connection.send(h11.EndOfMessage())
    deadline.arm(sock)
    sock.sendall(data)


def _receive(sock: socket.socket, connection: h11.Connection, reply: Reply, deadline: _Deadline) -> Reply:
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            deadline.arm(sock)
            data = sock.recv(RECEIVE)
            reply.received += len(data)
            connection.receive_data(data)
        elif isinstance(event, h11.Response):
            reply.status = event.status_code
            reply.content_type = dict(event.headers).get(b"content-type", b"").decode("latin-1")
        elif isinstance(event, h11.Data):
            reply.body += event.data[: REPLY_LIMIT - len(reply.body)]
            if len(reply.body) >= REPLY_LIMIT:
                return reply  # enough to judge the ack by: the rest is never read (nor the connection kept)
        elif isinstance(event, h11.EndOfMessage):
            return reply
        elif isinstance(event, h11.ConnectionClosed):
            raise _Closed("the merchant closed the connection before a complete answer")


class _Closed(Exception):
    pass
