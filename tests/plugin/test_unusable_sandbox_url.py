"""A --sandbox-url that will not do (nothing answers, or the token is refused) stops the run at the first test that
needs it, with one line, instead of one error per test."""

from __future__ import annotations

import socket

import pytest

from sandbox.config import Config

pytest_plugins = ["pytester"]

# Three tests that need the sandbox, one that does not; the run stops at the first.
USERS_TESTS = """
def test_pay(paysandbox):
    pass

def test_refund(paysandbox, paysandbox_alipay):
    pass

def test_plain_arithmetic():
    assert 1 + 1 == 2

def test_notify(paysandbox, paysandbox_receiver):
    pass
"""


@pytest.fixture
def dead_url():
    """A loopback URL nothing answers: bound but never listening, so a connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_dead_sandbox_url_stops_the_run_once_with_one_line(pytester, dead_url):
    pytester.makepyfile(USERS_TESTS)

    result = pytester.runpytest("-p", "no:cacheprovider", "--sandbox-url", dead_url)

    result.assert_outcomes(errors=1)
    line = f"no sandbox answers at {dead_url} (--sandbox-url / SANDBOX_URL): is it running?"
    result.stdout.fnmatch_lines([f"! Interrupted: {line} !"])
    assert result.stdout.str().count(f"\n{line}\n") == 1  # the first test's error, once
    assert "Traceback" not in result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_under_xdist_each_worker_stops_at_its_first_test(pytester, dead_url):
    pytester.makepyfile(USERS_TESTS + USERS_TESTS.replace("def test_", "def test_more_"))

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--sandbox-url", dead_url)

    outcomes = result.parseoutcomes()
    assert 1 <= outcomes["errors"] <= 2 and outcomes.get("passed", 0) <= 2, outcomes
    result.stdout.fnmatch_lines([f"! *Interrupted: no sandbox answers at {dead_url}*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


@pytest.mark.parametrize("config", [Config(seed=1234, token="plugin-token-0123")], ids=["token"])
def test_a_refused_token_stops_the_run_once_too(pytester, live):
    pytester.makepyfile(USERS_TESTS)

    result = pytester.runpytest("-p", "no:cacheprovider", "--sandbox-url", live.url, "--sandbox-token", "wrong")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"! Interrupted: the sandbox at {live.url} refused the access token*"])
