"""The CLI against a sandbox started with `serve --token`: every command takes --token (default $SANDBOX_TOKEN), and
a missing or wrong token is one line on stderr, exit 1."""

from __future__ import annotations

import pytest

from tests.cli.conftest import paysandbox
from tests.cli.test_errors import EVERY_CONTROL_COMMAND, SCENARIOS
from tests.test_cli import serve, stop

TOKEN = "cli-token-0123456789"


@pytest.fixture(scope="module")
def guarded() -> str:
    process, url = serve("--token", TOKEN, "--clock", "manual")
    yield url
    stop(process)


@pytest.fixture
def rules(tmp_path) -> str:
    (tmp_path / "qa.json").write_text(SCENARIOS)
    return str(tmp_path / "qa.json")


def _args(command: tuple, rules: str) -> list[str]:
    return [part.format(file=rules) for part in command]


@pytest.mark.parametrize("command", [*EVERY_CONTROL_COMMAND, ("ca",)], ids=" ".join)
def test_every_command_reaches_a_sandbox_with_a_token(command, guarded, rules):
    args = [*_args(command, rules), "--url", guarded]
    by_option = len(command) % 2  # half of them by --token, half by SANDBOX_TOKEN
    result = paysandbox(*args, "--token", TOKEN) if by_option else paysandbox(*args, env={"SANDBOX_TOKEN": TOKEN})
    assert "access token" not in result.stderr and "UNAUTHORIZED" not in result.stderr
    assert result.returncode == 0 or "NOT_FOUND: no " in result.stderr, result.stderr  # QA-1 and ntf_1 do not exist


@pytest.mark.parametrize(
    "command", [("orders", "list"), ("scenarios", "list"), ("clock", "set", "manual"), ("reset",)], ids=" ".join
)
def test_without_the_token_a_command_says_so_in_one_line(command, guarded):
    result = paysandbox(*command, "--url", guarded)
    expected = f"paysandbox: the sandbox at {guarded} needs an access token: pass --token or set SANDBOX_TOKEN\n"
    assert (result.returncode, result.stdout, result.stderr) == (1, "", expected)


def test_a_wrong_token_is_refused_in_one_line_without_echoing_it(guarded):
    result = paysandbox("orders", "list", "--url", guarded, env={"SANDBOX_TOKEN": "not-the-token"})
    expected = f"paysandbox: the sandbox at {guarded} refused the access token: check --token or SANDBOX_TOKEN\n"
    assert (result.returncode, result.stdout, result.stderr) == (1, "", expected)


def test_the_option_wins_over_the_environment(guarded):
    result = paysandbox("clock", "--url", guarded, "--token", TOKEN, env={"SANDBOX_TOKEN": "stale"})
    assert result.returncode == 0, result.stderr
