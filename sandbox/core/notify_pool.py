"""Idle keep-alive connections of the notification senders, kept per scheme, host and port for the next attempt."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from dataclasses import dataclass, field

import h11

from sandbox.core.destinations import Target

IDLE_SECONDS = 4.0  # kept at most this long: under the 5 s many servers wait before closing an idle connection
PER_DESTINATION = 8  # idle connections kept to one scheme, host and port (as many as its attempts in flight)
TOTAL = 256  # idle connections kept in all (the longest idle are closed first)


@dataclass
class Kept:
    sock: socket.socket
    connection: h11.Connection
    sockaddr: tuple  # the address connected to, as checked against the allow list when it was made
    since: float = field(default_factory=time.monotonic)


class IdleConnections:
    """Connections whose last exchange ended cleanly, handed out most recently used first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[tuple, list[Kept]] = {}
        self._count = 0
        self._reaper: threading.Thread | None = None

    def take(self, target: Target, addresses: list[tuple]) -> Kept | None:
        """A kept connection to one of `addresses` (those this attempt may reach), still open and quiet; or None."""
        allowed = {sockaddr for _, sockaddr in addresses}
        while True:
            with self._lock:
                kept_list = self._kept.get(_key(target))
                if not kept_list:
                    return None
                kept = kept_list.pop()
                self._count -= 1
                if not kept_list:
                    del self._kept[_key(target)]
            if kept.sockaddr in allowed and time.monotonic() - kept.since < IDLE_SECONDS and quiet(kept.sock):
                return kept
            _close(kept)

    def give(self, target: Target, kept: Kept) -> None:
        kept.since = time.monotonic()
        dropped = []
        with self._lock:
            kept_list = self._kept.setdefault(_key(target), [])
            kept_list.append(kept)
            self._count += 1
            if len(kept_list) > PER_DESTINATION:
                dropped.append(kept_list.pop(0))
                self._count -= 1
            if self._count > TOTAL:
                dropped += self._oldest()
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="paysandbox-notify-idle", daemon=True)
                self._reaper.start()
        for old in dropped:
            _close(old)

    def _reap(self) -> None:
        """Close what stayed idle past IDLE_SECONDS, so a merchant is not left holding a connection nobody will use
        (a test server waiting for its handlers, say); the thread ends once nothing is kept."""
        while True:
            time.sleep(IDLE_SECONDS / 4)
            expired = []
            with self._lock:
                now = time.monotonic()
                for key, kept_list in list(self._kept.items()):
                    fresh = [k for k in kept_list if now - k.since < IDLE_SECONDS]
                    expired += [k for k in kept_list if now - k.since >= IDLE_SECONDS]
                    if fresh:
                        self._kept[key] = fresh
                    else:
                        del self._kept[key]
                self._count -= len(expired)
                done = not self._kept
                if done:
                    self._reaper = None  # the next connection kept starts another
            for old in expired:
                _close(old)
            if done:
                return

    def close_all(self) -> None:
        with self._lock:
            kept, self._kept, self._count = [k for ks in self._kept.values() for k in ks], {}, 0
        for old in kept:
            _close(old)

    def _oldest(self) -> list[Kept]:
        """Under the lock: take the longest idle connections until TOTAL are left."""
        everything = sorted((k.since, key, k) for key, ks in self._kept.items() for k in ks)
        taken = []
        for _, key, kept in everything[: self._count - TOTAL]:
            self._kept[key].remove(kept)
            if not self._kept[key]:
                del self._kept[key]
            taken.append(kept)
        self._count -= len(taken)
        return taken


def _key(target: Target) -> tuple:
    return (target.scheme, target.host, target.port)


def quiet(sock: socket.socket) -> bool:
    """Nothing to read on an idle connection: readable means the peer closed it (or sent what nobody asked). Also
    what the pytest plugin's kept control connections are checked with before reuse."""
    poller = select.poll()  # not select.select: that refuses descriptors past 1023
    try:
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def _close(kept: Kept) -> None:
    with contextlib.suppress(OSError):
        kept.sock.close()


IDLE = IdleConnections()
