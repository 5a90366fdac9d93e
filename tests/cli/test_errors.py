"""What the CLI says when things go wrong: nobody answers (exit 1), bad arguments (exit 2), the API refuses (exit 1)."""

from __future__ import annotations

import json
import socket

import pytest

from tests.cli.conftest import APP, paysandbox

SCENARIOS = '{"scenarios": [{"notify": {"duplicate": 1}}]}'

EVERY_CONTROL_COMMAND = [
    ("merchants", "list"),
    ("merchants", "show", "alipay", APP),
    ("orders", "list"),
    ("orders", "list", "--json"),
    ("orders", "list", "--gateway", "alipay", "--merchant", APP, "--status", "paid"),
    ("orders", "show", "alipay", APP, "QA-1"),
    ("orders", "pay", "alipay", APP, "QA-1"),
    ("orders", "pay", "alipay", APP, "QA-1", "--fail", "--reason", "declined"),
    ("orders", "create", "--gateway", "alipay", "--amount", "9.90"),
    ("notifications", "list"),
    ("notifications", "list", "--order", "QA-1", "--status", "failed"),
    ("notifications", "show", "ntf_1"),
    ("notifications", "replay", "ntf_1"),
    ("notifications", "flush"),
    ("notifications", "flush", "--json"),
    ("scenarios", "load", "{file}"),
    ("scenarios", "load", "{file}", "--replace"),
    ("scenarios", "list"),
    ("scenarios", "list", "--json"),
    ("scenarios", "clear"),
    ("clock",),
    ("clock", "--json"),
    ("clock", "show"),
    ("clock", "set", "manual"),
    ("clock", "set", "accelerated", "--factor", "60"),
    ("clock", "advance", "10m"),
    ("clock", "reset"),
    ("reset",),
    ("reset", "--merchants"),
]

BAD_ARGUMENTS = [
    ("bogus",),
    ("orders",),
    ("orders", "show", "alipay", APP),
    ("orders", "show", "paypal", APP, "QA-1"),
    ("orders", "list", "--status", "sold"),
    ("orders", "list", "--gateway", "paypal"),
    ("orders", "pay", "alipay", APP, "QA-1", "--reason", "declined"),
    ("orders", "create", "--gateway", "alipay"),
    ("orders", "create", "--gateway", "alipay", "--amount", "9.999"),
    ("orders", "create", "--gateway", "paypal", "--amount", "1"),
    ("notifications", "list", "--status", "lost"),
    ("notifications", "show"),
    ("notifications", "replay"),
    ("merchants", "show", "alipay"),
    ("clock", "advance"),
    ("clock", "advance", "soon"),
    ("clock", "advance", "-5"),
    ("clock", "advance", "10x"),
    ("clock", "set", "sideways"),
    ("clock", "set", "manual", "--factor", "2"),
    ("clock", "set", "accelerated", "--factor", "0"),
    ("clock", "set", "accelerated", "--factor", "fast"),
    ("clock", "reset", "now"),
    ("reset", "--all"),
    ("scenarios", "load", "{missing}"),
    ("orders", "list", "--url", "localhost:8008"),
    ("clock", "--url", "ftp://127.0.0.1:8008"),
]


@pytest.fixture(scope="module")
def nobody():
    """A loopback URL where connections are refused: the port is bound but never listens."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{taken.getsockname()[1]}"


@pytest.fixture
def files(tmp_path) -> dict:
    (tmp_path / "qa.json").write_text(SCENARIOS)
    return {"file": str(tmp_path / "qa.json"), "missing": str(tmp_path / "missing.yaml")}


def _args(command: tuple, files: dict) -> list[str]:
    return [part.format(**files) for part in command]


@pytest.mark.parametrize("command", EVERY_CONTROL_COMMAND, ids=" ".join)
def test_every_command_says_in_one_line_that_no_sandbox_answers(command, nobody, files):
    result = paysandbox(*_args(command, files), "--url", nobody)
    assert result.returncode == 1, result.stderr
    hint = "start one with `paysandbox serve`, or pass --url (or SANDBOX_URL)"
    message = f"no sandbox answers at {nobody}; {hint}"
    if "--json" in command:  # the error as JSON, where the answer would have been
        assert json.loads(result.stdout) == {"error": {"code": "SANDBOX_UNREACHABLE", "message": message}}
        assert result.stderr == ""
        return
    assert result.stdout == ""
    assert result.stderr == f"paysandbox: {message}\n"


def test_sandbox_url_from_the_environment_is_the_default_and_a_group_option_reaches_its_actions(nobody):
    result = paysandbox("orders", "list", env={"SANDBOX_URL": nobody + "/"})
    assert result.returncode == 1 and f"no sandbox answers at {nobody};" in result.stderr
    result = paysandbox("clock", "--url", nobody, "show", env={"SANDBOX_URL": "http://127.0.0.1:1"})
    assert result.returncode == 1 and f"no sandbox answers at {nobody};" in result.stderr
    result = paysandbox("orders", "list", env={"SANDBOX_URL": "not a url"})
    assert result.returncode == 2 and "'not a url' is not an http:// or https:// URL" in result.stderr


@pytest.mark.parametrize("command", BAD_ARGUMENTS, ids=" ".join)
def test_bad_arguments_exit_2_before_any_call(command, nobody, files):
    # With a dead --url, any call would exit 1: exit 2 shows the arguments were refused first.
    result = paysandbox(*_args(command, files), "--url", nobody) if "--url" not in command else paysandbox(*command)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(("usage: paysandbox", "paysandbox: "))
    assert "Traceback" not in result.stderr


def test_a_404_or_409_prints_the_apis_message_and_exits_1(sbx):
    cases = {
        (
            "orders",
            "show",
            "alipay",
            APP,
            "NOPE",
        ): f"ORDER_NOT_FOUND: no order with out_trade_no 'NOPE' for merchant {APP}",
        (
            "orders",
            "pay",
            "alipay",
            APP,
            "NOPE",
        ): f"ORDER_NOT_FOUND: no order with out_trade_no 'NOPE' for merchant {APP}",
        ("notifications", "show", "ntf_nope"): "NOT_FOUND: no notification 'ntf_nope'",
        ("notifications", "replay", "ntf_nope"): "NOT_FOUND: no notification 'ntf_nope'",
        ("merchants", "show", "wechatpay", "42"): "NOT_FOUND: no wechatpay merchant '42'",
    }
    for command, message in cases.items():
        result = paysandbox(*command, "--url", sbx.url)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", f"paysandbox: {message}\n"), command
        result = paysandbox(*command, "--json", "--url", sbx.url)
        code, text = message.split(": ", 1)
        assert result.returncode == 1 and result.stderr == "", command
        assert json.loads(result.stdout) == {"error": {"code": code, "message": text}}, command

    sbx.order("QA-TWICE", 100, "http://127.0.0.1:9/notify")
    sbx.cli("orders", "pay", "alipay", APP, "QA-TWICE")
    again = paysandbox("orders", "pay", "alipay", APP, "QA-TWICE", "--url", sbx.url)
    assert (again.returncode, again.stderr) == (1, "paysandbox: ORDER_ALREADY_PAID: order QA-TWICE is already paid\n")


def test_a_server_that_is_not_a_sandbox_is_named(receiver):
    result = paysandbox("orders", "list", "--url", receiver.url)
    assert result.returncode == 1
    assert result.stderr.endswith(f"without JSON: is {receiver.url} a paysandbox?\n")
    assert len(result.stderr.splitlines()) == 1
