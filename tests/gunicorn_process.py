"""The Dockerfile's CMD (gunicorn with sandbox.gunicorn_conf) run by this interpreter from the repository, for the
tests of several workers and of the compose example; and keep-alive sessions pinned to each of its processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.test_container import DOCKERFILE, ServerProcess

REPO = Path(__file__).resolve().parent.parent
PROCESS = "X-Sandbox-Process"  # sandbox.wsgi names the answering process (host/pid) on every answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn(ServerProcess):
    """One gunicorn master and its workers on a free loopback port, with `env` over the Dockerfile's ENV."""

    name = "gunicorn"

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = {
            **{name: value for name, value in DOCKERFILE.env.items() if not value.startswith("/")},
            "SANDBOX_FIXTURES": str(REPO / "fixtures"),
            **env,
            "SANDBOX_HOST": "127.0.0.1",
            "SANDBOX_PORT": str(self.port),
        }
        self._log = tempfile.NamedTemporaryFile(prefix="paysandbox-gunicorn-", suffix=".log")  # noqa: SIM115
        argv = [sys.executable, *DOCKERFILE.cmd[1:]] if DOCKERFILE.cmd[0] == "python" else DOCKERFILE.cmd
        self.process = subprocess.Popen(
            argv, cwd=REPO, env={**os.environ, **settings}, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.http = requests.Session()
        self.http.trust_env = False

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()


def pinned_sessions(url: str, count: int, within: float = 20.0) -> dict[str, requests.Session]:
    """`count` keep-alive sessions, each on a connection a different process accepted, by its X-Sandbox-Process.
    Which process accepts a new connection is the kernel's choice: open connections until each has one."""
    found: dict[str, requests.Session] = {}
    deadline = time.monotonic() + within
    while len(found) < count:
        assert time.monotonic() < deadline, f"only {sorted(found)} answered within {within}s"
        session = requests.Session()
        session.trust_env = False
        process = session.get(f"{url}/_sandbox/health", timeout=10).headers[PROCESS]
        if process in found:
            session.close()
        else:
            found[process] = session
    return found
