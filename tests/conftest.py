"""Shared fixtures: a fresh sandbox app per test, a live server on a free port, a notification receiver, Chromium."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright
from wechatpayv3 import WeChatPay, WeChatPayType

from sandbox.app import create_app
from sandbox.config import Config
from sandbox.merchant.alipay import AlipayClient
from sandbox.merchant.unionpay import UnionPayClient
from sandbox.testing.receiver import NotificationReceiver
from sandbox.testing.server import ThreadedServer
from tests import postgres
from tests.namespaced import Space
from tests.nodejs import NodeScript

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


WECHAT = FIXTURES / "wechatpay"
WECHAT_MERCHANT = json.loads((WECHAT / "demo/merchant.json").read_text())
WECHAT_PUBLIC_KEY_ID = json.loads((WECHAT / "sandbox/platform.json").read_text())["public_key_id"]


def wechatpayv3_client(
    base_url: str,
    notify_url: str,
    *,
    private_key: str | None = None,
    cert_dir: str = "",
    wechatpay_type: WeChatPayType = WeChatPayType.NATIVE,
    mchid: str = WECHAT_MERCHANT["merchant_id"],
) -> WeChatPay:
    """The real wechatpayv3 SDK as the demo merchant (or, given `mchid`, the demo merchant's keys under another
    mchid): public-key mode, or certificate mode given a cert_dir."""
    keys = (
        {"cert_dir": cert_dir}
        if cert_dir
        else {"public_key": (WECHAT / "sandbox/pub_key.pem").read_text(), "public_key_id": WECHAT_PUBLIC_KEY_ID}
    )
    wx = WeChatPay(
        wechatpay_type=wechatpay_type,
        mchid=mchid,
        private_key=private_key or (WECHAT / "demo/merchant_private_key.pem").read_text(),
        cert_serial_no=WECHAT_MERCHANT["merchant_serial_no"],
        apiv3_key=WECHAT_MERCHANT["apiv3_key"],
        appid=WECHAT_MERCHANT["appid"],
        notify_url=notify_url,
        timeout=(5, 10),
        **keys,
    )
    wx._core._gate_way = base_url  # the only change to the SDK (docs/protocols/wechatpay-v3.md#sdk-quirks)
    return wx


@pytest.fixture
def bank(live, sandbox) -> UnionPayClient:
    """The reference UnionPay client as the demo merchant (its PKCS#12, password 000000), on a manual clock."""
    sandbox.clock.set_mode("manual")
    return UnionPayClient.from_pkcs12(
        "777290058110097",
        FIXTURES / "unionpay/demo/acp_test_sign.pfx",
        "000000",
        base_url=live.url,
        root_cert=(FIXTURES / "unionpay/sandbox/root.pem").read_text(),
        middle_cert=(FIXTURES / "unionpay/sandbox/middle.pem").read_text(),
        clock=lambda: sandbox.clock.now(),
    )


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    # The SDKs call urllib or requests directly, which honour *_proxy from the environment: keep loopback direct.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def alipay_demo() -> AlipayDemo:
    return AlipayDemo()


@pytest.fixture(scope="session")
def alipay_node_script():
    """tests/node/alipay.js: the real npm `alipay-sdk`, one long-lived node process per test worker."""
    script = NodeScript("alipay.js")
    yield script
    script.close()


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


# -- real PostgreSQL: one server per run (scripts/test.sh's, else one per test process), a fresh database per test --


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server's maintenance database: $PAYSANDBOX_TEST_POSTGRES, else a throwaway cluster."""
    if os.environ.get(postgres.ENV):
        yield os.environ[postgres.ENV]
        return
    if postgres.bin_dir() is None:
        # Fail, never skip: the PostgreSQL store's tests must really run.
        pytest.fail(f"PostgreSQL is not installed (no {postgres.BINARIES}/initdb): {postgres.INSTALL}")
    cluster = postgres.Cluster(Path(tempfile.mkdtemp(prefix="paysandbox-pg-")))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A new, empty database of its own (dropped after the test): tests and xdist workers never share one."""
    with postgres.fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["tiny", "postgres"])
def store_data(request) -> str | None:
    """`--data` for each backend: None (TinyStore in memory), then a fresh PostgreSQL database's URL."""
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


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


@pytest.fixture
def http():
    """Plain requests that never go through a proxy from the environment (a browser or a QA script)."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def space(live, http):
    """space(name): a new namespace of the live sandbox (space(None): the default one), driven over real HTTP."""

    def make(name: str | None = None) -> Space:
        if name is not None:
            reply = http.post(f"{live.url}/_sandbox/namespaces", json={"name": name})
            assert reply.status_code == 201, reply.text
        return Space(http, live.url, name)

    return make


@pytest.fixture
def rule(live, http):
    """rule(**body): add a scenario rule over the control API; answers the stored rule."""

    def add(**body) -> dict:
        reply = http.post(f"{live.url}/_sandbox/scenarios", json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()["scenario"]

    return add


# -- real headless Chromium (hosted pages, the demo shop): one browser per session, a fresh context per test --

CHROMIUM = "/usr/bin/chromium"
# Browser downloads do not work here (nor in CI): always Debian's chromium, with nothing phoning home.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright):
    if not os.access(CHROMIUM, os.X_OK):
        # Fail, never skip: CI installs chromium and the browser tests must really run.
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
    yield browser
    browser.close()


# Every frame of every page reports a Content-Security-Policy violation to the console, where watch_csp collects it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  console.error(`CSP violation: ${event.violatedDirective} blocked ${blocked} in ${location.href}`);
});
"""


def watch_csp(context) -> list[str]:
    """The CSP violations any page of `context` reports (Chromium's own console message, or the init script's)."""
    violations: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or message.text.startswith("CSP violation"):
            violations.append(message.text)

    context.add_init_script(REPORT_CSP_VIOLATIONS)
    context.on("page", lambda page: page.on("console", on_console))
    return violations


@pytest.fixture
def context(browser):
    """A fresh browser context; the test fails if any page in it reports a CSP violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    violations = watch_csp(context)
    yield context
    context.close()
    assert not violations, "\n".join(violations)


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def mobile_page(browser, playwright):
    """A phone: the iPhone 13 descriptor, less the WebKit it defaults to (Chromium emulates the rest)."""
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    context = browser.new_context(**device, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    violations = watch_csp(context)
    yield context.new_page()
    context.close()
    assert not violations, "\n".join(violations)
