"""Shared fixtures: a fresh sandbox app per test, a live server on a free port, a notification receiver."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.merchant.alipay import AlipayClient
from sandbox.testing.receiver import NotificationReceiver
from sandbox.testing.server import ThreadedServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class AlipayDemo:
    """The TEST-ONLY demo Alipay merchant from fixtures/."""

    app_id: str = "2021000000000001"
    app_private_key: str = (FIXTURES / "alipay/demo/app_private_key.pem").read_text()
    app_public_key: str = (FIXTURES / "alipay/demo/app_public_key.pem").read_text()
    app_cert: str = (FIXTURES / "alipay/demo/app_public_key_cert.pem").read_text()
    alipay_public_key: str = (FIXTURES / "alipay/sandbox/alipay_public_key.pem").read_text()
    alipay_public_key_cert: str = (FIXTURES / "alipay/sandbox/alipay_public_key_cert.pem").read_text()
    alipay_root_cert: str = (FIXTURES / "alipay/sandbox/root_cert.pem").read_text()
    alipay_private_key: str = (FIXTURES / "alipay/sandbox/alipay_private_key.pem").read_text()


@pytest.fixture(scope="session")
def alipay_demo() -> AlipayDemo:
    return AlipayDemo()


@pytest.fixture
def config() -> Config:
    return Config(seed=1234)


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    app.extensions["paysandbox"].stop()


@pytest.fixture
def sandbox(app):
    return app.extensions["paysandbox"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live(app, sandbox):
    """The app served over real HTTP on a free loopback port, with its dispatcher thread running."""
    sandbox.start()
    with ThreadedServer(app) as server:
        yield server


@pytest.fixture
def receiver():
    with NotificationReceiver() as rx:
        yield rx


@pytest.fixture
def alipay_client(live, alipay_demo) -> AlipayClient:
    """The reference merchant client, pointed at the live sandbox as the demo app."""
    return AlipayClient(
        alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, f"{live.url}/gateway.do"
    )


@pytest.fixture
def alipay_call(client, alipay_demo):
    """Call /gateway.do through the Flask test client as the demo app; answers the verified inner response."""
    merchant = AlipayClient(
        alipay_demo.app_id, alipay_demo.app_private_key, alipay_demo.alipay_public_key, "http://localhost/gateway.do"
    )

    def call(method: str, biz: dict, **common: str) -> dict:
        reply = client.post("/gateway.do", data=merchant.signed_params(method, biz, **common))
        assert reply.status_code == 200
        key = method.replace(".", "_") + "_response"
        document = reply.get_json(force=True)
        inner = document.get(key) or document["error_response"]
        if inner["code"] in ("10000", "10003"):
            merchant.parse_response(reply.get_data(as_text=True), method)  # raises unless correctly signed
        return inner

    return call
