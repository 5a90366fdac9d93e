"""What a newcomer meets first: bare `paysandbox` prints its help; with --json every failure is a JSON error; the
lists show orders and notifications in the same order (newest first)."""

from __future__ import annotations

import argparse
import json
import socket

import pytest

from sandbox.cli import build_parser
from tests.cli.conftest import APP, paysandbox


@pytest.fixture(scope="module")
def nobody():
    """A loopback URL where connections are refused: the port is bound but never listens."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{taken.getsockname()[1]}"


def test_bare_paysandbox_prints_its_help_and_exits_0():
    result = paysandbox()
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == paysandbox("--help").stdout
    assert result.stdout.startswith("usage: paysandbox")
    for command in ("serve", "orders", "notifications", "scenarios", "clock"):
        assert command in result.stdout


def leaves(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()):
    """(words, parser) of every command that runs something, e.g. (("orders", "list"), its parser)."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers or parser.get_default("handler"):
        yield words, parser
    for action in subparsers:
        for name, child in action.choices.items():
            yield from leaves(child, (*words, name))


def with_placeholders(words: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    """The command with its positional arguments filled in (the first choice, else a made-up id)."""
    args = list(words)
    for action in parser._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            if action.nargs in ("?", "*"):
                continue
            args.append(next(iter(action.choices)) if action.choices else "QA-1")
    return args


# Every command that takes --json and talks to a sandbox (`keys --json` reads files only).
JSON_COMMANDS = [
    with_placeholders(words, parser)
    for words, parser in leaves(build_parser())
    if "--json" in parser._option_string_actions and words[0] != "keys"
]


def test_the_walk_finds_the_commands_that_take_json():
    found = {" ".join(command[:2]) for command in JSON_COMMANDS}
    assert {"orders list", "notifications list", "scenarios list", "merchants list", "namespaces list"} <= found
    assert len(JSON_COMMANDS) > 20


@pytest.mark.parametrize("command", JSON_COMMANDS, ids=" ".join)
def test_with_json_every_failure_is_a_json_error_object(command, nobody, tmp_path):
    command = [str(tmp_path / "qa.json") if word == "QA-1" and command[0] == "scenarios" else word for word in command]
    (tmp_path / "qa.json").write_text('[{"notify": {"duplicate": 1}}]')
    result = paysandbox(*command, "--url", nobody, "--json")
    assert result.returncode in (1, 2), (result.stdout, result.stderr)
    error = json.loads(result.stdout)["error"]
    assert error["code"] == ("SANDBOX_UNREACHABLE" if result.returncode == 1 else "USAGE_ERROR")
    assert error["message"] and result.stderr == ""


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (("orders", "show", "alipay", APP), "the following arguments are required: out_trade_no"),
        (("orders", "list", "--status", "sold"), "argument --status: invalid choice: 'sold'"),
        (("clock", "set", "manual", "--factor", "2"), "--factor goes with `clock set accelerated`"),
        (("bogus",), "invalid choice: 'bogus'"),
    ],
    ids=" ".join,
)
def test_with_json_a_usage_error_is_a_json_error_too(command, says, nobody):
    result = paysandbox(*command, "--json", "--url", nobody)
    assert result.returncode == 2 and result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "USAGE_ERROR" and says in error["message"]


def test_orders_and_notifications_are_listed_newest_first(sbx):
    for n in (1, 2, 3):
        sbx.order(f"QA-ORDER-{n}", 100 + n, "http://127.0.0.1:9/notify")
        sbx.cli("orders", "pay", "alipay", APP, f"QA-ORDER-{n}")
        sbx.api("POST", "/clock/advance", json={"seconds": 60})  # each later than the one before
    newest_first = ["QA-ORDER-3", "QA-ORDER-2", "QA-ORDER-1"]
    assert [o["out_trade_no"] for o in sbx.cli_json("orders", "list")["orders"]] == newest_first
    listed = sbx.cli_json("notifications", "list")["notifications"]
    assert [n["out_trade_no"] for n in listed] == newest_first
    table = sbx.cli("notifications", "list").splitlines()[2:]
    assert [next(w for w in row.split() if w.startswith("QA-")) for row in table] == newest_first
    table = sbx.cli("orders", "list").splitlines()
    assert [next(w for w in row.split() if w.startswith("QA-")) for row in table if "QA-" in row] == newest_first


def test_each_list_says_its_order_in_its_help():
    for group, says in {
        "orders": "newest first",
        "notifications": "newest first",
        "merchants": "by gateway then id",
        "namespaces": "the default one first, then by name",
        "scenarios": "in the order they are tried",
    }.items():
        assert says in " ".join(paysandbox(group, "--help").stdout.split()), group
