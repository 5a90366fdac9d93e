"""Helpers for the signature doctor's tests: ask it over real HTTP, and write requests as a QA engineer pastes them."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from Crypto.PublicKey import RSA

HEADER = "X-Sandbox-Namespace"


def ask(http, live, namespace: str | None = None, status: int = 200, **body) -> dict:
    headers = {HEADER: namespace} if namespace else {}
    reply = http.post(f"{live.url}/_sandbox/signature/doctor", json=body, headers=headers, timeout=10)
    assert reply.status_code == status, reply.text
    return reply.json()


def raw_request(method: str, target: str, headers: Mapping[str, str], body: str | bytes = "") -> str:
    """The request as a proxy log or devtools shows it: request line, headers, blank line, body."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    lines = [f"{method} {target} HTTP/1.1", "Host: sandbox.test", *(f"{k}: {v}" for k, v in headers.items())]
    return "\r\n".join(lines) + "\r\n\r\n" + text


def form_request(path: str, fields: Mapping[str, str]) -> str:
    return raw_request("POST", path, {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(fields))


def hints(answer: dict) -> str:
    """Every hint, of the answer and of its differences, as one text to search."""
    return "\n".join(answer["hints"] + [d["hint"] for d in answer["differences"]])


def stranger_key() -> RSA.RsaKey:
    """A key pair no merchant registered."""
    return RSA.generate(2048)
