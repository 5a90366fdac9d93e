"""What every gateway fuzzer shares: the request and answer shapes, and the base with its seeded case builder."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.config import PACKAGED_FIXTURES
from sandbox.merchant.demo import Credentials

CRASH_WORDS = "failed unexpectedly"  # every gateway's answer to an unexpected exception says so (see sandbox.app)
NOTIFY_URL = "http://127.0.0.1:9/paysandbox-fuzz"  # the discard port: a notification fails at once and is retried


@dataclass
class FuzzRequest:
    """One HTTP request as sent: nothing is encoded or signed any more."""

    method: str
    target: str  # path and query
    headers: dict[str, str]
    body: bytes = b""
    label: str = ""  # the seed and the mutations made, for a report


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Mutation:
    """The mutations chosen for one case, so the gateway module applies them in its own format."""

    rng: random.Random
    done: list[str] = field(default_factory=list)

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def note(self, what: str) -> None:
        self.done.append(what)


class GatewayFuzzer:
    """A gateway's valid seed requests, mutated one case at a time; `problem` judges an answer."""

    name = ""
    resign = 0.75  # the share of cases signed after mutating, so they pass the signature check and reach handlers

    def __init__(self, fixtures_dir: str | Path = PACKAGED_FIXTURES) -> None:
        self.credentials = Credentials.demo(fixtures_dir)

    def setup(self, send: Callable[[FuzzRequest], Answer]) -> None:
        """Send valid requests first, unmutated: the orders (paid, refunded, open) later cases refer to."""
        for request in self.setup_requests():
            send(request)

    def setup_requests(self) -> list[FuzzRequest]:
        return []

    def case(self, rng: random.Random) -> FuzzRequest:
        mutation = Mutation(rng)
        request = self.build(mutation)
        request.label = f"{request.label}: {', '.join(mutation.done) or 'unmutated'}"
        return request

    def build(self, mutation: Mutation) -> FuzzRequest:
        raise NotImplementedError

    def problem(self, request: FuzzRequest, answer: Answer) -> str | None:
        """What is wrong with the answer (not the gateway's native format, a 5xx, a crash), or None."""
        raise NotImplementedError


def refused_by_http_server(answer: Answer) -> bool:
    """A 414 or 431: the HTTP server itself refused a request line or header over its limit; no gateway saw it."""
    return answer.status in (414, 431)


def crashed(answer: Answer) -> str | None:
    if answer.status == 0:
        return "no answer: the connection closed"
    if answer.status >= 500:
        return f"HTTP {answer.status}"
    if CRASH_WORDS in answer.text():
        return "the answer reports an unexpected failure"
    return None


def content_type(answer: Answer) -> str:
    return answer.headers.get("content-type", "").lower()


def case_rng(seed: int, gateway: str, index: int) -> random.Random:
    """The generator of one case: the same seed, gateway and index always give the same mutations."""
    return random.Random(f"{seed}/{gateway}/{index}")
