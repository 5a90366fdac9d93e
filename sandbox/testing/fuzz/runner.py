"""Send a gateway's fuzz cases (through Flask's test client or real HTTP) and count what came back."""

from __future__ import annotations

import http.client
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from sandbox.testing.fuzz.base import Answer, FuzzRequest, GatewayFuzzer, case_rng, crashed

Send = Callable[[FuzzRequest], Answer]
MAX_SHOWN = 200  # characters of a request or answer body quoted in a problem


@dataclass
class Report:
    """Per gateway: how many requests, their HTTP statuses, and each case whose answer was wrong."""

    gateway: str
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def run(fuzzer: GatewayFuzzer, send: Send, count: int, seed: int) -> Report:
    """The set-up requests, then `count` cases; case i is the same for the same seed on every run."""
    report = Report(fuzzer.name)

    def setup_send(request: FuzzRequest) -> Answer:
        return _send(send, request, report, "setup", crashed)

    fuzzer.setup(setup_send)
    for index in range(count):
        request = fuzzer.case(case_rng(seed, fuzzer.name, index))
        _send(send, request, report, f"case {index}", partial(fuzzer.problem, request))
    return report


def _send(
    send: Send, request: FuzzRequest, report: Report, which: str, judge: Callable[[Answer], str | None]
) -> Answer:
    """Send, count, and note the problem `judge` finds (set-up requests are judged for crashes only)."""
    answer = send(request)
    report.requests += 1
    report.statuses[answer.status] += 1
    problem = judge(answer)
    if problem:
        report.problems.append(
            f"{report.gateway} {which} ({request.label}): {problem}\n"
            f"  {request.method} {request.target[:MAX_SHOWN]} body {request.body[:MAX_SHOWN]!r}\n"
            f"  answered {answer.status}: {answer.body[:MAX_SHOWN]!r}"
        )
    return answer


def flask_sender(client) -> Send:
    """Send through a Flask test client (fast: no sockets)."""

    def send(request: FuzzRequest) -> Answer:
        reply = client.open(request.target, method=request.method, headers=request.headers, data=request.body)
        headers = {name.lower(): value for name, value in reply.headers.items()}
        return Answer(reply.status_code, headers, reply.get_data())

    return send


class HttpSender:
    """Send over one keep-alive connection to a real server, reconnecting when the server closes it."""

    def __init__(self, host: str, port: int, timeout: float = 30) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._connection: http.client.HTTPConnection | None = None

    def __call__(self, request: FuzzRequest) -> Answer:
        """The answer; status 0 when the server closed the connection twice without one."""
        for _ in range(2):
            connection = self._connection or http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._connection = connection
            try:
                connection.request(request.method, request.target, body=request.body or None, headers=request.headers)
                reply = connection.getresponse()
                body = reply.read()
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                self.close()  # a keep-alive connection the server had closed: try once more on a new one
                continue
            if reply.will_close:
                self.close()
            return Answer(reply.status, {k.lower(): v for k, v in reply.getheaders()}, body)
        return Answer(0, {}, b"")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class ErrorLog(logging.Handler):
    """Collects the ERROR records (logged exceptions above all) of the `paysandbox` loggers while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def summary(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]


@contextmanager
def logged_errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("paysandbox")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
