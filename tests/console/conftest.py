"""Console fixtures: its pages' URLs on the live sandbox, and the control API to check what a page did."""

from __future__ import annotations

import pytest


@pytest.fixture
def console(live):
    """console(path, ns=None): the URL of a console page of the live sandbox, in namespace `ns`."""

    def url(path: str, ns: str | None = None) -> str:
        return f"{live.url}/_sandbox/console/{path}" + (f"?ns={ns}" if ns else "")

    return url


@pytest.fixture
def rules(live, http):
    """rules(ns=None): the scenario rules the control API lists in namespace `ns` (default: the default one)."""

    def listed(ns: str | None = None) -> list[dict]:
        headers = {"X-Sandbox-Namespace": ns} if ns else {}
        reply = http.get(f"{live.url}/_sandbox/scenarios", headers=headers)
        assert reply.status_code == 200, reply.text
        return reply.json()["scenarios"]

    return listed
