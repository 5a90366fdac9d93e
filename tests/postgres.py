"""A throwaway PostgreSQL cluster for the tests and benches: Debian's binaries, a temporary directory, a free loopback
port, a random password; run as the `postgres` OS user when we are root (PostgreSQL refuses to run as root).

`scripts/test.sh` starts one for the whole run (`python -m tests.postgres start DIR` prints its URL) and stops and
removes it afterwards (`python -m tests.postgres stop DIR`); without it, tests/conftest.py starts its own.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ENV = "PAYSANDBOX_TEST_POSTGRES"  # the URL of a running cluster's maintenance database, for the tests
BINARIES = "/usr/lib/postgresql/*/bin"
OS_USER = "postgres"
INSTALL = "install Debian's PostgreSQL (apt-get install postgresql), or run the tests through scripts/test.sh"
# Nothing here must outlive a crash: a test cluster trades durability for speed (never a bench's, see `durable`).
FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian keeps each major version apart), or None."""
    found = [Path(p) for p in glob.glob(BINARIES) if (Path(p) / "initdb").exists()]
    return max(found, key=lambda p: int(p.parent.name), default=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """One PostgreSQL server whose files all live in `directory` (data, password file, log)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.url_file = directory / "url"

    @property
    def url(self) -> str:
        return self.url_file.read_text().strip()

    def start(self, durable: bool = False) -> str:
        """initdb, then start on a free loopback port; answers the maintenance database's URL."""
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError(f"PostgreSQL is not installed (no {BINARIES}/initdb): {INSTALL}")
        password = secrets.token_hex(16)
        pwfile = self.directory / "pwfile"
        pwfile.write_text(password + "\n")
        self._own()
        self._run(
            binaries / "initdb",
            "--pgdata",
            self.data,
            "--username",
            OS_USER,
            "--pwfile",
            pwfile,
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        pwfile.unlink()
        port = free_port()
        settings = ["listen_addresses=127.0.0.1", f"port={port}", "unix_socket_directories=", "max_connections=300"]
        settings += [] if durable else list(FAST)
        options = " ".join(f"-c {setting}" for setting in settings)
        self._run(binaries / "pg_ctl", "start", "--wait", "--pgdata", self.data, "--log", self.log, "-o", options)
        url = f"postgresql://{OS_USER}:{password}@127.0.0.1:{port}/postgres"
        self.url_file.write_text(url + "\n")
        return url

    def stop(self) -> None:
        """Stop the server (at once: nothing in it is kept) and remove the directory."""
        binaries = bin_dir()
        if binaries is not None and (self.data / "postmaster.pid").exists():
            self._run(binaries / "pg_ctl", "stop", "--pgdata", self.data, "--mode", "immediate", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _own(self) -> None:
        """As root, hand the directory to the `postgres` user, who runs the server."""
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam(OS_USER)
        except KeyError:
            raise RuntimeError(f"there is no `{OS_USER}` OS user to run PostgreSQL as: {INSTALL}") from None
        for path in [self.directory, *self.directory.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)

    def _run(self, *argv: object, check: bool = True) -> None:
        command = [str(part) for part in argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.directory)
        if check and done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}")


def with_database(url: str, name: str) -> str:
    """The same server's URL for another database."""
    return f"{url.rsplit('/', 1)[0]}/{name}"


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server (from template0), dropped afterwards with whatever still uses it."""
    name = f"paysandbox_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    """`start DIR` (prints the URL) or `stop DIR`, for scripts/test.sh."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m tests.postgres start|stop DIR", file=sys.stderr)
        return 2
    cluster = Cluster(Path(argv[1]))
    if argv[0] == "stop":
        cluster.stop()
        return 0
    try:
        print(cluster.start())
    except RuntimeError as exc:
        print(f"cannot start a PostgreSQL cluster for the tests: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
