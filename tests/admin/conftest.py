"""Control API fixtures shared by its tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def control(live, http, sandbox):
    """control(method, path, body=None, status=200): a control call on a manual clock, checked for its status."""
    sandbox.clock.set_mode("manual")

    def call(method: str, path: str, body: dict | None = None, status: int = 200) -> dict:
        sandbox.advance(0)  # waits for an attempt the dispatcher thread may still be recording
        reply = http.request(method, f"{live.url}/_sandbox{path}", json=body, timeout=10)
        assert reply.status_code == status, reply.text
        return reply.json()

    return call
