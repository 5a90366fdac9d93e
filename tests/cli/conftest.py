"""One real `paysandbox serve` on a manual clock for the CLI tests, wiped before each test; the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sandbox.merchant.alipay import AlipayClient
from tests.test_cli import serve, stop

APP = "2021000000000001"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def paysandbox(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m sandbox ARGS` as a user types it; SANDBOX_URL, SANDBOX_TOKEN and SANDBOX_NAMESPACE from the test's
    env only."""
    clean = {k: v for k, v in os.environ.items() if k not in ("SANDBOX_URL", "SANDBOX_TOKEN", "SANDBOX_NAMESPACE")}
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
    )


def ok(*args: str) -> str:
    result = paysandbox(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def as_json(*args: str) -> dict:
    return json.loads(ok(*args, "--json"))


class Sandbox:
    """The running sandbox: its URL, the control API for set-up and checks, and a merchant to create orders."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.trust_env = False
        self.alipay = AlipayClient(
            APP,
            (FIXTURES / "alipay/demo/app_private_key.pem").read_text(),
            (FIXTURES / "alipay/sandbox/alipay_public_key.pem").read_text(),
            f"{url}/gateway.do",
        )

    def api(self, method: str, path: str, **kwargs) -> dict:
        reply = self.http.request(method, f"{self.url}/_sandbox{path}", timeout=10, **kwargs)
        reply.raise_for_status()
        return reply.json()

    def order(self, out_trade_no: str, amount: int, notify_url: str, subject: str = "Coffee") -> None:
        self.alipay.create(out_trade_no, amount, subject, "2088000000000009", notify_url=notify_url)

    def cli(self, *args: str) -> str:
        return ok(*args, "--url", self.url)

    def cli_json(self, *args: str) -> dict:
        return as_json(*args, "--url", self.url)


@pytest.fixture(scope="session")
def _running():
    process, url = serve("--clock", "manual")
    yield Sandbox(url)
    stop(process)


@pytest.fixture
def sbx(_running) -> Sandbox:
    """The shared sandbox, emptied, its merchants back to the demo ones, on a manual clock."""
    _running.api("POST", "/reset", json={"merchants": True})
    _running.api("POST", "/clock", json={"mode": "manual"})
    return _running
