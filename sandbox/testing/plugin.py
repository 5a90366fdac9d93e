"""The pytest plugin (registered as `paysandbox` through the pytest11 entry point).

By default a session-wide sandbox runs in a thread on a free port, on a manual clock, and is reset before each test.
With `--sandbox-url URL` (or SANDBOX_URL) the tests drive an external sandbox, such as the container, through the
control API only (with `--sandbox-token` or SANDBOX_TOKEN if it has an access token); each test then gets a namespace
of its own, created before it and deleted after it, with fresh merchants, so parallel tests (pytest-xdist) never see
each other's orders, scenarios, notifications or clock moves.

Fixtures: `paysandbox` (the SandboxHandle), `paysandbox_receiver` (a NotificationReceiver), and ready reference
clients `paysandbox_alipay`, `paysandbox_wechatpay`, `paysandbox_unionpay`.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator

import pytest

from sandbox.config import PACKAGED_FIXTURES, Config
from sandbox.control import Control, ControlError
from sandbox.testing.handle import SandboxHandle, Shared
from sandbox.testing.receiver import NotificationReceiver

FIXTURES = str(PACKAGED_FIXTURES)  # the packaged TEST-ONLY fixtures: the demo merchants' ids and keys


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("paysandbox", "paysandbox: a local payment-provider sandbox")
    group.addoption(
        "--sandbox-url",
        default=os.environ.get("SANDBOX_URL") or None,
        help="drive this running sandbox (e.g. the container) instead of one in a thread [env SANDBOX_URL]",
    )
    group.addoption(
        "--sandbox-token",
        default=os.environ.get("SANDBOX_TOKEN") or None,
        help="the access token of the sandbox at --sandbox-url, if it has one (the in-thread sandbox needs none) "
        "[env SANDBOX_TOKEN]",
    )
    group.addoption(
        "--sandbox-receiver-host",
        default=os.environ.get("SANDBOX_RECEIVER_HOST") or "127.0.0.1",
        help="address the notification receiver binds (0.0.0.0 when the sandbox runs in a container) "
        "[env SANDBOX_RECEIVER_HOST]",
    )
    group.addoption(
        "--sandbox-receiver-public-host",
        default=os.environ.get("SANDBOX_RECEIVER_PUBLIC_HOST") or "",
        help="name the sandbox reaches the receiver by (e.g. host.docker.internal or 172.17.0.1) "
        "[env SANDBOX_RECEIVER_PUBLIC_HOST]",
    )


class _Server:
    """Where the session's sandbox is: in this process (with its app), or elsewhere (url and access token)."""

    def __init__(self, url: str, app=None, token: str | None = None) -> None:
        self.url, self.app, self.token = url, app, token
        self.shared = Shared(url, token)  # what every test's handle shares: kept connections, the demo merchants
        self.control = self.shared.control()  # in the default namespace: for creating and deleting others


@pytest.fixture(scope="session")
def paysandbox_server(request: pytest.FixtureRequest) -> Iterator[_Server]:
    url = request.config.getoption("sandbox_url")
    if url:
        token = request.config.getoption("sandbox_token")
        control = Control(url, timeout=5, token=token)
        _checked_once(request.session, control)
        server = _Server(url.rstrip("/"), token=token)
        try:
            yield server
        finally:
            server.shared.close()
        return
    from sandbox.app import create_app
    from sandbox.testing.server import ThreadedServer

    app = create_app(Config(clock_mode="manual"))
    sandbox = app.extensions["paysandbox"]
    sandbox.start()
    server = ThreadedServer(app).start()
    session_server = _Server(server.url, app)
    try:
        yield session_server
    finally:
        session_server.shared.close()
        server.stop()
        sandbox.stop()


def _checked_once(session: pytest.Session, control: Control) -> None:
    """Check the sandbox at --sandbox-url; when it will not do, fail the first test that needs it and stop the run
    there (under xdist, each worker's first), rather than repeat the same error for every test."""
    try:
        _check_reachable(control)
        _check_namespaces(control)
    except pytest.fail.Exception as failed:
        session.shouldstop = failed.msg
        raise


def _check_reachable(control: Control) -> None:
    """Stop the run with one line when the sandbox is not there or refuses the token, rather than in every test."""
    if not control.healthy():
        pytest.fail(f"no sandbox answers at {control.url} (--sandbox-url / SANDBOX_URL): is it running?", pytrace=False)
    try:
        control.call("GET", "/clock")
    except ControlError as exc:
        if exc.status != 401:
            raise
        problem = "refused the access token" if control.token else "needs an access token"
        pytest.fail(f"the sandbox at {control.url} {problem}: pass --sandbox-token or SANDBOX_TOKEN", pytrace=False)


def _check_namespaces(control: Control) -> None:
    """Each test needs a namespace of its own: stop the run with one line when the sandbox has none to give."""
    try:
        control.call("GET", "/namespaces")
    except ControlError as exc:
        if exc.status != 404:
            raise
        pytest.fail(
            f"the sandbox at {control.url} has no namespaces (GET /_sandbox/namespaces: 404), which each test on a"
            " shared sandbox gets: run a paysandbox as recent as this plugin",
            pytrace=False,
        )


class _ErrorLog(logging.Handler):
    """Collects what the in-thread sandbox logs at ERROR (a request that crashed, a dispatcher failure)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def report(self) -> str:
        formatter = logging.Formatter("%(name)s: %(message)s")
        return "\n".join(formatter.format(record) for record in self.records)


@pytest.fixture
def paysandbox(paysandbox_server: _Server) -> Iterator[SandboxHandle]:
    """The sandbox, clean for this test: orders, notifications, scenarios and clock through one handle."""
    server = paysandbox_server
    namespace = _new_namespace(server) if server.app is None else None
    handle = SandboxHandle(
        server.url, FIXTURES, namespace=namespace, app=server.app, token=server.token, shared=server.shared
    )
    if namespace is None:
        # The in-thread sandbox is this process's alone: emptied before each test, its clock manual at the wall time.
        handle.reset(clock="manual")
    errors = _ErrorLog()
    logger = logging.getLogger("paysandbox")
    logger.addHandler(errors)
    try:
        yield handle
    finally:
        logger.removeHandler(errors)
        if namespace is not None:
            server.control.call("DELETE", f"/namespaces/{namespace}")
    if errors.records:
        # Raised in the sandbox's threads, surfaced here: in the test that caused it.
        pytest.fail(f"the sandbox failed while serving this test:\n{errors.report()}", pytrace=False)


def _new_namespace(server: _Server) -> str:
    """A namespace for one test on a shared sandbox: `pytest-` and a random part, so leftovers are easy to tell."""
    return server.control.call("POST", "/namespaces", {"name": f"pytest-{secrets.token_hex(6)}"})["namespace"]


@pytest.fixture
def paysandbox_receiver(request: pytest.FixtureRequest) -> Iterator[NotificationReceiver]:
    """A real HTTP endpoint for notify URLs: set its answer with `reply`, check arrivals with `wait_for`."""
    receiver = NotificationReceiver(
        host=request.config.getoption("sandbox_receiver_host"),
        public_host=request.config.getoption("sandbox_receiver_public_host"),
    )
    with receiver:
        yield receiver
    receiver.raise_errors()


@pytest.fixture
def paysandbox_alipay(paysandbox: SandboxHandle):
    """sandbox.merchant.alipay.AlipayClient as this test's Alipay app."""
    return paysandbox.alipay_client()


@pytest.fixture
def paysandbox_alipay_v3(paysandbox: SandboxHandle):
    """sandbox.merchant.alipay_v3.AlipayV3Client: the same Alipay app, on OpenAPI v3."""
    return paysandbox.alipay_v3_client()


@pytest.fixture
def paysandbox_wechatpay(paysandbox: SandboxHandle, paysandbox_receiver: NotificationReceiver):
    """sandbox.merchant.wechatpay.WechatPayClient as this test's merchant, notifying paysandbox_receiver."""
    return paysandbox.wechatpay_client(notify_url=f"{paysandbox_receiver.url}/wechatpay")


@pytest.fixture
def paysandbox_unionpay(paysandbox: SandboxHandle):
    """sandbox.merchant.unionpay.UnionPayClient as this test's merchant (txnTime on the sandbox clock)."""
    return paysandbox.unionpay_client()
