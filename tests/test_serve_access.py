"""`paysandbox serve` with an access token (option, environment, file), and its warning when it listens beyond
loopback without one: real processes, real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests

from tests.test_cli import free_port

TOKEN = "serve-token-0123456789"


class Served:
    """A `paysandbox serve` process: stdout (the banner) and stderr (warnings) apart."""

    def __init__(self, *args: str, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_TOKEN")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**clean, "SANDBOX_LOG_LEVEL": "WARNING", **(env or {})},
        )
        banner = self.process.stdout.readline()  # printed once the socket listens
        assert "serving on" in banner, banner + self.process.stderr.read()
        # Answered only once serve_forever runs, which is after every start-up line.
        assert requests.get(f"{self.url}/_sandbox/health", timeout=5).status_code == 200

    def stop(self) -> str:
        """SIGTERM; answer what it wrote on stderr."""
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=15)
        assert self.process.returncode == 0, stderr
        return stderr


def needs_the_token(url: str) -> bool:
    without = requests.get(f"{url}/_sandbox/orders", timeout=5)
    with_it = requests.get(f"{url}/_sandbox/orders", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    return without.status_code == 401 and with_it.status_code == 200


@pytest.mark.parametrize("how", ["option", "environment", "file option", "file environment"])
def test_serve_takes_the_token_from_an_option_the_environment_or_a_file(tmp_path, how):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    args, env = {
        "option": (["--token", TOKEN], {}),
        "environment": ([], {"SANDBOX_TOKEN": TOKEN}),
        "file option": (["--token-file", str(token_file)], {}),
        "file environment": ([], {"SANDBOX_TOKEN_FILE": str(token_file)}),
    }[how]
    served = Served(*args, env=env)
    try:
        assert needs_the_token(served.url)
    finally:
        assert TOKEN not in served.stop()


def test_serve_refuses_a_token_file_it_cannot_read(tmp_path):
    missing = tmp_path / "missing"
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "serve", "--port", str(free_port()), "--token-file", str(missing)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == f"paysandbox: cannot read the token file {missing}: No such file or directory\n"


def test_serve_on_every_interface_without_a_token_warns_loudly_on_stderr():
    stderr = Served("--host", "0.0.0.0").stop()
    assert stderr.startswith("WARNING: the sandbox listens on 0.0.0.0:"), stderr
    for says in ("reset it, move its clock, replace", "its merchants", "--token", "SANDBOX_TOKEN", "127.0.0.1"):
        assert says in stderr


@pytest.mark.parametrize("args", [("--host", "0.0.0.0", "--token", TOKEN), ("--host", "127.0.0.1")], ids=" ".join)
def test_no_warning_with_a_token_or_on_loopback(args):
    assert "WARNING" not in Served(*args).stop()
