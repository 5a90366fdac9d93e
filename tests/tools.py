"""Outside programs the tests drive for real (curl, a JDK): found, or the test fails with the fix, never skipped.

The test command (scripts/test.sh) installs each of them, so in CI a missing one is a broken set-up, not a reason
to skip the test that needs it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JAVA_DIR = Path(__file__).resolve().parent / "java"
JDK = "openjdk-17-jdk-headless"


def require_tool(name: str, package: str) -> str:
    """The tool's path; a failure that says which Debian package brings it when it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: apt-get install {package} (scripts/test.sh installs it)", pytrace=False)
    return found


def run_java(
    source: str | Path,
    *args: str,
    options: tuple[str, ...] = (),
    timeout: float = 120,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> list[str]:
    """`java [options] tests/java/<source> args...` (or `source` where an absolute path says): a single-file program,
    compiled in memory, run in `cwd` with `env` (default: this process's); its stdout lines."""
    java = require_tool("java", JDK)
    require_tool("javac", JDK)  # launching a source file needs the compiler module, which only a JDK has
    done = subprocess.run(
        [java, *options, str(JAVA_DIR / source), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def java_proxy_options(proxy_port: int, ca_file: Path, folder: Path) -> tuple[str, ...]:
    """A Java shop's JVM settings for the sandbox's HTTPS proxy: the proxy, and a `keytool -importcert` truststore of
    the sandbox CA (made in `folder`), as a Java user sets them; no provider name resolves, so only the proxy can
    reach the host."""
    store = folder / "paysandbox-truststore.p12"
    command = [require_tool("keytool", JDK), "-importcert", "-noprompt", "-alias", "paysandbox", "-file", str(ca_file)]
    command += ["-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return (
        "-Dhttps.proxyHost=127.0.0.1",
        f"-Dhttps.proxyPort={proxy_port}",
        f"-Djavax.net.ssl.trustStore={store}",
        "-Djavax.net.ssl.trustStorePassword=changeit",
        "-Djdk.net.hosts.file=/dev/null",
    )
