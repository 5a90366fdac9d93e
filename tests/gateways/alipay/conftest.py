"""Fixtures shared by the real-SDK compatibility tests: plain HTTP, the buyer's pay action, the notify URL."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def gateway_url(live) -> str:
    return f"{live.url}/gateway.do"


@pytest.fixture
def notify_url(receiver) -> str:
    return f"{receiver.url}/notify"


@pytest.fixture
def http():
    """A browser stand-in: plain requests that never go through a proxy from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def pay(live, http, alipay_demo):
    """The buyer pays (or fails to pay) through the control API, as after a real cashier visit."""

    def pay(out_trade_no: str, outcome: str = "success") -> dict:
        url = f"{live.url}/_sandbox/orders/alipay/{alipay_demo.app_id}/{out_trade_no}/pay"
        reply = http.post(url, json={"outcome": outcome})
        assert reply.status_code == 200, reply.text
        return reply.json()

    return pay
