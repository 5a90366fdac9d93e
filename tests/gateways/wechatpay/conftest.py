"""Fixtures shared by the WeChat Pay scenario tests: plain HTTP and adding a scenario rule over the control API."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def http():
    """Plain requests that never go through a proxy from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def rule(live, http):
    """rule(**body): POST /_sandbox/scenarios and answer the stored scenario."""

    def add(**body) -> dict:
        reply = http.post(f"{live.url}/_sandbox/scenarios", json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()["scenario"]

    return add
