"""A small client of the control API (/_sandbox) for the CLI: JSON in and out, clear errors when nobody answers."""

from __future__ import annotations

import requests

DEFAULT_URL = "http://127.0.0.1:8008"


class ControlError(Exception):
    """The sandbox is not there, or refused the call; the message says which and why."""


class Control:
    def __init__(self, url: str = DEFAULT_URL, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # a local sandbox must not be reached through a proxy from the env

    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        target = f"{self.url}/_sandbox{path}"
        try:
            reply = self._session.request(method, target, json=payload, timeout=self._timeout)
        except requests.ConnectionError:
            raise ControlError(
                f"no sandbox answers at {self.url}; start one with `paysandbox serve` or pass --url"
            ) from None
        except requests.Timeout:
            raise ControlError(
                f"the sandbox at {self.url} did not answer {method} {path} in {self._timeout} s"
            ) from None
        try:
            body = reply.json()
        except ValueError:
            raise ControlError(
                f"{target} answered HTTP {reply.status_code} without JSON: is {self.url} a paysandbox?"
            ) from None
        if reply.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ControlError(f"{error.get('code', reply.status_code)}: {error.get('message', reply.text)}")
        return body

    def healthy(self) -> bool:
        """True when a sandbox answers its health check."""
        try:
            return self.call("GET", "/health").get("status") == "ok"
        except ControlError:
            return False
